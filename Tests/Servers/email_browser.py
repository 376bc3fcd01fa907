#!/usr/bin/env python3
"""Opens an email's HTML part in Debian's chromium (headless), as a recipient's mail client would
show it (images load), then clicks one of its links and follows it to where it lands. Prints one
JSON object with what it saw.

  email_browser.py --html FILE --click "link text"
"""
import argparse
import json
import pathlib

from chromium_devtools import Chromium

parser = argparse.ArgumentParser()
parser.add_argument("--html", required=True)
parser.add_argument("--click", required=True, help="the text of the link to click")
parser.add_argument("--chromium", default="/usr/bin/chromium")
args = parser.parse_args()

with Chromium(args.chromium) as browser:
    seen = {}
    browser.navigate(pathlib.Path(args.html).resolve().as_uri())
    seen["links"] = browser.evaluate(
        "[...document.querySelectorAll('a')].map(a => ({text: a.textContent.trim(), href: a.getAttribute('href')}))")
    seen["images_complete"] = browser.evaluate("[...document.images].map(i => i.complete && i.naturalWidth)")
    seen["clicked"] = browser.evaluate(f"""(() => {{
        const link = [...document.querySelectorAll('a')].find(a => a.textContent.trim() === {json.dumps(args.click)});
        if (!link) return false;
        link.click();
        return true;
    }})()""")
    if seen["clicked"]:
        browser.wait_load()
        seen["landed_url"] = browser.evaluate("location.href")
        seen["landed_title"] = browser.evaluate("document.title")
    print(json.dumps(seen))
