#!/usr/bin/env python3
"""A real SMTP server for Herald's tests: Debian's python3-aiosmtpd on 127.0.0.1.

Every received message is parsed with Python's `email` package and logged as one JSON line to
--log: {"event": "message", "peer", "mail_from", "rcpt_tos", "subject", "from", "to", "reply_to",
"message_id", "date", "list_unsubscribe", "list_unsubscribe_post", "content_type", "text", "html",
"defects", "longest_line"}. Every EHLO is logged as {"event": "ehlo", "peer"}, so a test can
count connections.

Recipients decide the reply to RCPT TO:
  tempfail-once-*@...   451 4.3.0 the first time that address is seen, then 250
  nosuchuser*@...       550 5.1.1 No such user
  policy*@...           554 5.7.1 Rejected by policy
  anything else         250

--tls-cert/--tls-key offer STARTTLS (and then require it); --auth USER:PASSWORD requires AUTH.
Prints "PORT <n>" once it listens.
"""
import argparse
import email
import email.policy
import json
import os
import signal
import socket
import ssl
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("--log", required=True)
parser.add_argument("--tls-cert")
parser.add_argument("--tls-key")
parser.add_argument("--auth")
parser.add_argument("--raw-folder", help="also write each message as received to <folder>/<n>.eml")
args = parser.parse_args()

LOG = open(args.log, "a", buffering=1)
LOCK = threading.Lock()
SEEN = set()


def log(record):
    with LOCK:
        LOG.write(json.dumps(record) + "\n")


def peer(session):
    return "%s:%s" % session.peer[:2]


class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        log({"event": "ehlo", "peer": peer(session), "hostname": hostname, "tls": session.ssl is not None})
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("tempfail-once"):
            with LOCK:
                first = address not in SEEN
                SEEN.add(address)
            if first:
                return "451 4.3.0 Try again later"
        if local.startswith("nosuchuser"):
            return "550 5.1.1 <%s>: No such user" % address
        if local.startswith("policy"):
            return "554 5.7.1 Rejected by policy"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if args.raw_folder:
            with LOCK:
                count = len(os.listdir(args.raw_folder))
                with open(os.path.join(args.raw_folder, "%05d.eml" % (count + 1)), "wb") as f:
                    f.write(raw)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        log({
            "event": "message", "peer": peer(session), "tls": session.ssl is not None,
            "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
            "subject": str(message["subject"]), "from": str(message["from"]), "to": str(message["to"]),
            "reply_to": str(message["reply-to"]) if message["reply-to"] else None,
            "message_id": str(message["message-id"]), "date": str(message["date"]),
            "list_unsubscribe": str(message["list-unsubscribe"]) if message["list-unsubscribe"] else None,
            "list_unsubscribe_post": str(message["list-unsubscribe-post"]) if message["list-unsubscribe-post"] else None,
            "content_type": message.get_content_type(),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "defects": [type(d).__name__ for d in message.defects]
                       + [type(d).__name__ for part in message.walk() for d in part.defects],
            "longest_line": max(len(line) for line in raw.split(b"\r\n")),
            "headers": {name: str(value) for name, value in message.items()},
        })
        return "250 2.0.0 Ok: queued"


def authenticator(server, session, envelope, mechanism, auth_data):
    user, password = args.auth.split(":", 1)
    if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password:
        return AuthResult(success=True)
    # handled=False lets aiosmtpd answer 535; handled=True without a reply hangs the client.
    return AuthResult(success=False, handled=False)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
kwargs = {}
if args.tls_cert:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    kwargs.update(tls_context=context, require_starttls=True)
if args.auth:
    kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.tls_cert))
port = free_port()
controller = Controller(Handler(), hostname="127.0.0.1", port=port, server_hostname="localhost",
                        data_size_limit=10 * 1024 * 1024, **kwargs)
controller.start()
print("PORT %d" % port, flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
stop.wait()
controller.stop()
