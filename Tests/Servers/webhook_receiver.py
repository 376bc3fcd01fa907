#!/usr/bin/env python3
"""A real HTTP webhook receiver for Herald's tests (Python's http.server, 127.0.0.1 only).

It verifies every request's Standard Webhooks signature and logs one JSON line per request to
--log: {"id", "path", "verified", "status", "t", "body"}. What it answers depends on the path:

  /ok                 200
  /status/500,200     per webhook-id: the n-th request of that id gets the n-th code (last repeats)
  /retry-after/2      per webhook-id: first 429 with Retry-After: 2, then 200
  /slow/300           200 after 300 ms
  /hang               never answers (until the server is stopped)
  /down-until/T       503 until unix time T (a float), then 200
  /down-while/NAME    503 while the file <log>.NAME exists, then 200
  /hold/NAME          200; a request whose body contains the text of the file <log>.NAME is
                      answered only once that file is gone (each one held adds its webhook-id as
                      a line to <log>.NAME.held when it starts waiting)

A bad or missing signature is answered 401 and logged with "verified": false.
Prints "PORT <n>" on stdout once it listens.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
# 127.0.0.1 unless a test runs the receiver inside a network namespace of its own.
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--secret", required=True)
parser.add_argument("--log", required=True)
# For senders on a test clock days ahead: the signature is still checked, the timestamp's age not.
parser.add_argument("--any-timestamp", action="store_true")
args = parser.parse_args()

KEY = base64.b64decode(args.secret.removeprefix("whsec_"))
LOG = open(args.log, "a", buffering=1)
LOCK = threading.Lock()
SEEN = {}


def verify(headers, body):
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    try:
        if abs(time.time() - int(timestamp)) > 300 and not args.any_timestamp:
            return False
    except ValueError:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    return any(
        part.startswith("v1,") and hmac.compare_digest(part[3:], expected)
        for part in signatures.split(" ")
    )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus the client's delayed
    # ACK adds ~40 ms to every answer.
    disable_nagle_algorithm = True

    def log_message(self, *_):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        msg_id = self.headers.get("webhook-id", "")
        verified = verify(self.headers, body)
        with LOCK:
            count = SEEN.get((self.path, msg_id), 0)
            SEEN[(self.path, msg_id)] = count + 1
        status, extra = 200, {}
        if not verified:
            status = 401
        elif self.path.startswith("/status/"):
            codes = [int(c) for c in self.path[len("/status/"):].split(",")]
            status = codes[min(count, len(codes) - 1)]
        elif self.path.startswith("/retry-after/"):
            if count == 0:
                status, extra = 429, {"Retry-After": self.path[len("/retry-after/"):]}
        elif self.path.startswith("/slow/"):
            time.sleep(int(self.path[len("/slow/"):]) / 1000)
        elif self.path.startswith("/down-while/"):
            if os.path.exists(args.log + "." + self.path[len("/down-while/"):]):
                status = 503
        elif self.path.startswith("/down-until/"):
            if time.time() < float(self.path[len("/down-until/"):]):
                status = 503
        elif self.path.startswith("/hold/"):
            flag = args.log + "." + self.path[len("/hold/"):]
            try:
                with open(flag) as marker:
                    held = marker.read().strip().encode() in body
            except FileNotFoundError:
                held = False
            if held:
                with LOCK:
                    with open(flag + ".held", "a") as record:
                        record.write(msg_id + "\n")
                while os.path.exists(flag):
                    time.sleep(0.01)
        elif self.path == "/hang":
            time.sleep(3600)
            return
        with LOCK:
            LOG.write(json.dumps({"id": msg_id, "path": self.path, "verified": verified, "status": status,
                                  "t": time.time(), "body": body.decode("utf-8", "replace")}) + "\n")
        reply = json.dumps({"status": status}).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


# A parent may hand down a blocked signal mask (the Swift test runner does): unblock SIGTERM so
# the test can stop this server by PID.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
class Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops SYNs when eight workers connect at once on a loaded
    # machine; the retransmit comes after 1 s, past the tests' connect timeout.
    request_queue_size = 256


server = Server((args.host, args.port), Handler)
server.daemon_threads = True
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
