"""An HTTP server whose answers go wrong on purpose, for Herald's fault tests. Listens on
127.0.0.1, prints "PORT n" once ready, and appends one JSON line per request it read to --log:
{"path": ..., "t": unix time}. The path picks the fault:

  /ok            200 with a short body
  /cut-headers   "HTTP/1.1 200 OK" and half a header line, then the connection closes
  /slow-body     200 and complete headers announcing 100 bytes, then one byte a second
  /short-body    200 and complete headers announcing 100 bytes, 10 bytes, then close
  /redirect      302 to another address

    /usr/bin/python3 faulty_http.py --log requests.ndjson
"""
import argparse
import asyncio
import json
import signal
import time

signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
parser = argparse.ArgumentParser()
parser.add_argument("--log", required=True)
args = parser.parse_args()


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return path


async def session(reader, writer):
    try:
        while True:
            try:
                path = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            with open(args.log, "a") as log:
                log.write(json.dumps({"path": path, "t": time.time()}) + "\n")
            if path == "/cut-headers":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Ty")
                await writer.drain()
                return
            if path == "/redirect":
                writer.write(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/moved-here\r\n"
                             b"Content-Length: 0\r\n\r\n")
                await writer.drain()
                continue
            if path in ("/slow-body", "/short-body"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n")
                await writer.drain()
                if path == "/short-body":
                    writer.write(b"0123456789")
                    await writer.drain()
                    return
                for _ in range(100):
                    writer.write(b"x")
                    await writer.drain()
                    await asyncio.sleep(1)
                continue
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(session, "127.0.0.1", 0)
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set_result, None)
    await stop


asyncio.run(main())
