"""Debian's chromium, headless, driven over the DevTools protocol: what the browser tests share.

    with Chromium() as browser:
        browser.navigate("http://127.0.0.1:PORT/console")
        title = browser.evaluate("document.title")
"""
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import websocket  # Debian's python3-websocket


class Chromium:
    def __init__(self, executable="/usr/bin/chromium", window="1280,900"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="herald-chromium-")
        self.process = subprocess.Popen([
            executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1", f"--user-data-dir={self.profile}",
            f"--window-size={window}", "about:blank",
        ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2))
                    page = next(t for t in targets if t.get("type") == "page")
                    break
                except Exception:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.2)
            self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
            self.counter = 0
            self.call("Page.enable")
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method, **params):
        self.counter += 1
        self.ws.send(json.dumps({"id": self.counter, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.counter:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def wait_load(self):
        """Until the page's load event: its images (an email's open pixel among them) have loaded."""
        while True:
            message = json.loads(self.ws.recv())
            if message.get("method") == "Page.loadEventFired":
                return

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def navigate(self, url):
        self.call("Page.navigate", url=url)
        self.wait_load()
