#!/usr/bin/env python3
"""A real FTP server (Debian's python3-pyftpdlib) on 127.0.0.1 for Herald's letter-upload tests:
one user with write access to --folder. Prints "PORT <n>" once it listens."""
import argparse
import logging
import signal

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--folder", required=True)
parser.add_argument("--user", required=True)
parser.add_argument("--password", required=True)
args = parser.parse_args()
logging.basicConfig(level=logging.WARNING)

authorizer = DummyAuthorizer()
authorizer.add_user(args.user, args.password, args.folder, perm="elradfmw")
handler = FTPHandler
handler.authorizer = authorizer
handler.passive_ports = None
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
server = FTPServer(("127.0.0.1", 0), handler)
print(f"PORT {server.address[1]}", flush=True)
server.serve_forever()
