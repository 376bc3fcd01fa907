#!/usr/bin/env python3
"""A real HTTP server playing SMS providers for Herald's tests (http.server, 127.0.0.1 only).

Twilio-compatible: POST /2010-04-01/Accounts/<AccountSid>/Messages.json, form fields To, From
(or MessagingServiceSid) and Body, HTTP Basic auth <AccountSid>:<--token>. Answers as Twilio
does, choosing by the To number (Twilio's own test numbers where they exist):

  +15005550001   400 {"code": 21211}  invalid 'To' number
  +15005550004   400 {"code": 21610}  the recipient replied STOP
  +15005550429   first request per number: 429 {"code": 20429} with Retry-After: 1, then 201
  anything else  201 {"sid": "SM…", "status": "queued", …}
  wrong auth     401 {"code": 20003}

Generic JSON gateway: POST /generic/send with a JSON body {"to", "from", "text", "ref"}: 200
{"result": "accepted", "id": "…"}; a "to" of +15005550001 gets 200 {"result": "rejected"}.

Every request is logged as one JSON line to --log: {"path", "status", "t", "auth_ok", "to",
"from", "body", "sid"}. Prints "PORT <n>" on stdout once it listens.
"""
import argparse
import base64
import json
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--account", required=True)
parser.add_argument("--token", required=True)
parser.add_argument("--log", required=True)
args = parser.parse_args()

LOG = open(args.log, "a", buffering=1)
LOCK = threading.Lock()
SEEN = {}
ERRORS = {
    "+15005550001": (400, 21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550004": (400, 21610, "Attempt to send to unsubscribed recipient"),
}


def twilio_message(sid, to, sender, body):
    """A success answer shaped like Twilio's (keys in its order: the sid comes late)."""
    now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    return {
        "account_sid": args.account, "api_version": "2010-04-01", "body": body,
        "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
        "error_code": None, "error_message": None, "from": sender, "messaging_service_sid": None,
        "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{args.account}/Messages/{sid}/Media.json"},
        "to": to, "uri": f"/2010-04-01/Accounts/{args.account}/Messages/{sid}.json",
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *_):
        pass

    def answer(self, status, payload, extra=None):
        reply = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def record(self, **entry):
        with LOCK:
            LOG.write(json.dumps({"path": self.path, "t": time.time(), **entry}) + "\n")

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.startswith("/generic/"):
            return self.generic(raw)
        expected = base64.b64encode(f"{args.account}:{args.token}".encode()).decode()
        auth_ok = self.headers.get("Authorization", "") == f"Basic {expected}"
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
        to, sender, body = form.get("To", ""), form.get("From", form.get("MessagingServiceSid", "")), form.get("Body", "")
        if self.path != f"/2010-04-01/Accounts/{args.account}/Messages.json":
            self.record(status=404, auth_ok=auth_ok, to=to, **{"from": sender}, body=body, sid=None)
            return self.answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
        if not auth_ok:
            self.record(status=401, auth_ok=False, to=to, **{"from": sender}, body=body, sid=None)
            return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        with LOCK:
            count = SEEN.get(to, 0)
            SEEN[to] = count + 1
        if to in ERRORS:
            status, code, message = ERRORS[to]
            self.record(status=status, auth_ok=True, to=to, **{"from": sender}, body=body, sid=None)
            return self.answer(status, {"code": code, "message": message,
                                        "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})
        if to == "+15005550429" and count == 0:
            self.record(status=429, auth_ok=True, to=to, **{"from": sender}, body=body, sid=None)
            return self.answer(429, {"code": 20429, "message": "Too Many Requests", "status": 429}, {"Retry-After": "1"})
        sid = "SM" + uuid.uuid4().hex
        self.record(status=201, auth_ok=True, to=to, **{"from": sender}, body=body, sid=sid,
                    callback=form.get("StatusCallback"))
        self.answer(201, twilio_message(sid, to, sender, body))

    def generic(self, raw):
        request = json.loads(raw)
        to = request.get("to", "")
        if to == "+15005550001":
            self.record(status=200, auth_ok=True, to=to, **{"from": request.get("from")}, body=request.get("text"), sid=None)
            return self.answer(200, {"result": "rejected", "reason": "unknown subscriber"})
        sid = "G-" + uuid.uuid4().hex[:12]
        self.record(status=200, auth_ok=True, to=to, **{"from": request.get("from")}, body=request.get("text"), sid=sid,
                    ref=request.get("ref"))
        self.answer(200, {"result": "accepted", "id": sid})


# A parent may hand down a blocked signal mask (the Swift test runner does).
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})


class Server(ThreadingHTTPServer):
    request_queue_size = 256


server = Server(("127.0.0.1", args.port), Handler)
server.daemon_threads = True
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
