#!/usr/bin/env python3
"""Drives Debian's chromium (headless) over the DevTools protocol through Herald's web console,
as an operator would: the login page, the overview, the failed list, a Retry button, and a
screenshot of the template gallery. Prints one JSON object with what it saw.

  console_browser.py --base http://127.0.0.1:PORT --token TOKEN --screenshot FILE [--only-overview]
"""
import argparse
import base64
import json
import os
import time

from chromium_devtools import Chromium

parser = argparse.ArgumentParser()
parser.add_argument("--base", required=True)
parser.add_argument("--token", required=True)
parser.add_argument("--screenshot", required=True)
parser.add_argument("--chromium", default="/usr/bin/chromium")
parser.add_argument("--only-overview", action="store_true", help="sign in, read the overview, stop")
args = parser.parse_args()

with Chromium(args.chromium) as browser:
    call, evaluate, wait_load = browser.call, browser.evaluate, browser.wait_load

    def go(path):
        browser.navigate(args.base + path)

    seen = {}
    go("/console")
    seen["before_login_title"] = evaluate("document.title")
    evaluate(f"document.querySelector('input[name=token]').value = {json.dumps(args.token)}")
    evaluate("document.querySelector('form').submit()")
    wait_load()
    seen["overview_title"] = evaluate("document.title")
    seen["overview_has_counts"] = evaluate("!!document.querySelector('#counts')")
    seen["overview_has_chart"] = evaluate("!!document.querySelector('svg#throughput')")
    seen["overview_counts_text"] = evaluate("document.querySelector('#counts')?.textContent")
    if args.only_overview:
        print(json.dumps(seen))
        raise SystemExit(0)
    go("/console/failed")
    seen["failed_rows"] = evaluate("document.querySelectorAll('#failed form.retry').length")
    seen["failed_first_key"] = evaluate("document.querySelector('#failed tr:nth-child(2) td:nth-child(2)')?.textContent")
    evaluate("document.querySelector('#failed form.retry button').click()")
    wait_load()
    seen["after_retry_url"] = evaluate("location.pathname")
    seen["after_retry_state"] = evaluate("document.querySelector('#state strong').textContent")
    go("/console/templates")
    seen["gallery_templates"] = evaluate("document.querySelectorAll('section.card').length")
    seen["gallery_iframes"] = evaluate("document.querySelectorAll('iframe[sandbox]').length")
    seen["gallery_sms"] = evaluate("document.querySelector('p.sms')?.textContent")
    # Make the viewport as tall as the page: iframes below the fold are not painted otherwise.
    height = int(min(call("Page.getLayoutMetrics")["cssContentSize"]["height"], 6000))
    call("Emulation.setDeviceMetricsOverride", width=1280, height=height, deviceScaleFactor=1, mobile=False)
    time.sleep(1.0)  # let the iframes lay out and paint
    shot = call("Page.captureScreenshot", format="png")
    with open(args.screenshot, "wb") as out:
        out.write(base64.b64decode(shot["data"]))
    seen["screenshot_bytes"] = os.path.getsize(args.screenshot)
    print(json.dumps(seen))
