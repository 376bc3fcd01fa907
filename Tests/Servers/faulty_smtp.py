"""An SMTP server that misbehaves on purpose, for Herald's fault tests. Listens on 127.0.0.1,
prints "PORT n" once ready, and appends one JSON line per event to --log:
{"event": "connect"|"command"|"message"|"quit", "peer": ..., "t": unix time, ...}.

Faults (--fault):
  silent-after-data  answers everything but the end of DATA: holds the connection open, silent
  slow               answers every line (the greeting too) after --delay seconds
  garbage            answers the end of DATA with a line that is not an SMTP reply
  silent-greeting    accepts the connection and never says anything
  drop               accepts the connection and closes it at once
  unaccepted         never accepts: its listen queue is kept full, so a connect times out

    /usr/bin/python3 faulty_smtp.py --fault silent-after-data --log events.ndjson [--delay 3]
"""
import argparse
import asyncio
import json
import signal
import socket
import time

signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
parser = argparse.ArgumentParser()
parser.add_argument("--fault", required=True,
                    choices=["silent-after-data", "slow", "garbage", "silent-greeting", "drop",
                             "unaccepted"])
parser.add_argument("--log", required=True)
parser.add_argument("--delay", type=float, default=3.0)
args = parser.parse_args()


def record(event, peer, **fields):
    with open(args.log, "a") as log:
        log.write(json.dumps({"event": event, "peer": peer, "t": time.time(), **fields}) + "\n")


async def reply(writer, text):
    if args.fault == "slow":
        await asyncio.sleep(args.delay)
    writer.write(text.encode() + b"\r\n")
    await writer.drain()


async def session(reader, writer):
    peer = "%s:%d" % writer.get_extra_info("peername")[:2]
    record("connect", peer)
    try:
        if args.fault == "drop":
            return
        if args.fault == "silent-greeting":
            await reader.read()  # until the client gives up
            return
        await reply(writer, "220 faulty.test ESMTP")
        while True:
            line = await reader.readline()
            if not line:
                return
            command = line.decode("latin-1").strip()
            verb = command.split(" ", 1)[0].upper()
            record("command", peer, verb=verb)
            if verb in ("EHLO", "HELO"):
                await reply(writer, "250-faulty.test\r\n250-8BITMIME\r\n250 SIZE 10000000")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                await reply(writer, "250 ok")
            elif verb == "DATA":
                await reply(writer, "354 end with <CRLF>.<CRLF>")
                size = 0
                while True:
                    data = await reader.readline()
                    if not data or data in (b".\r\n", b".\n"):
                        break
                    size += len(data)
                record("message", peer, size=size)
                if args.fault == "silent-after-data":
                    await reader.read()  # hold the connection, say nothing
                    return
                if args.fault == "garbage":
                    await reply(writer, "\x00\x07 this is not an SMTP reply")
                else:
                    await reply(writer, "250 queued")
            elif verb == "QUIT":
                record("quit", peer)
                await reply(writer, "221 bye")
                return
            else:
                await reply(writer, "502 not implemented")
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


def unaccepted_listener():
    """A socket that listens with a zero backlog and is never accepted from; the connections made
    here fill its queue, and Linux then drops further SYNs: a client's connect can only time out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    time.sleep(0.2)
    return listener, fillers


async def main():
    if args.fault == "unaccepted":
        listener, fillers = unaccepted_listener()
        port = listener.getsockname()[1]
    else:
        server = await asyncio.start_server(session, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
    print("PORT %d" % port, flush=True)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set_result, None)
    await stop


asyncio.run(main())
