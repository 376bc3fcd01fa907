#!/usr/bin/python3
"""A client of the test's Dovecot other than Herald's: Python's imaplib over TLS.

  imap_mailbox.py --port P --cafile F --user U --password W list FOLDER
      prints one JSON line: [{"uid": n, "seen": bool, "size": n}, ...] ([] when FOLDER does not exist)
  imap_mailbox.py ... fetch FOLDER UID
      writes the message's bytes to standard output without marking it read (BODY.PEEK[])
  imap_mailbox.py ... mark-seen FOLDER UID
"""
import argparse
import imaplib
import json
import re
import ssl
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("command", choices=["list", "fetch", "mark-seen"])
    parser.add_argument("folder")
    parser.add_argument("uid", nargs="?")
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.cafile)
    client = imaplib.IMAP4_SSL("127.0.0.1", args.port, ssl_context=context)
    client.login(args.user, args.password)
    status, _ = client.select('"%s"' % args.folder, readonly=args.command != "mark-seen")
    if status != "OK":
        if args.command == "list":
            print("[]")
            return 0
        print("cannot select %s" % args.folder, file=sys.stderr)
        return 1
    if args.command == "list":
        status, data = client.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE)")
        listed = []
        for item in data:
            if not item:
                continue
            line = item.decode() if isinstance(item, bytes) else item[0].decode()
            uid = re.search(r"UID (\d+)", line)
            size = re.search(r"RFC822\.SIZE (\d+)", line)
            if uid and size:
                listed.append({"uid": int(uid.group(1)), "seen": "\\Seen" in line, "size": int(size.group(1))})
        print(json.dumps(sorted(listed, key=lambda m: m["uid"])))
    elif args.command == "fetch":
        status, data = client.uid("FETCH", args.uid, "(BODY.PEEK[])")
        parts = [item for item in data if isinstance(item, tuple)]
        if status != "OK" or not parts:
            print("no message %s in %s" % (args.uid, args.folder), file=sys.stderr)
            return 1
        sys.stdout.buffer.write(parts[0][1])
    else:
        status, _ = client.uid("STORE", args.uid, "+FLAGS", "(\\Seen)")
        if status != "OK":
            return 1
    client.logout()
    return 0


if __name__ == "__main__":
    sys.exit(main())
