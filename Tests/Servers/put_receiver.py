#!/usr/bin/env python3
"""A real HTTP server taking file uploads by PUT (http.server, 127.0.0.1 only), for Herald's
letter-upload tests. Saves each body under --folder by the URL's last path segment. The first
--fail-first PUTs are answered 500 (to exercise retries). Logs one JSON line per request to --log:
{"path", "status", "bytes", "auth"}. Prints "PORT <n>" once it listens.
"""
import argparse
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--folder", required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--fail-first", type=int, default=0)
args = parser.parse_args()
LOG = open(args.log, "a", buffering=1)
LOCK = threading.Lock()
STATE = {"puts": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *_):
        pass

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with LOCK:
            STATE["puts"] += 1
            fail = STATE["puts"] <= args.fail_first
        status = 500 if fail else 201
        if not fail:
            name = os.path.basename(self.path)
            with open(os.path.join(args.folder, name), "wb") as handle:
                handle.write(body)
        with LOCK:
            LOG.write(json.dumps({"path": self.path, "status": status, "bytes": len(body),
                                  "auth": self.headers.get("Authorization", "")}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})


class Server(ThreadingHTTPServer):
    request_queue_size = 64


server = Server(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
