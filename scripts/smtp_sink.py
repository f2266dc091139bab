#!/usr/bin/env python3
"""A real SMTP server for tests: accepts every message and writes it as a .eml file.

    smtp_sink.py --port PORT --dir DIR [--host 127.0.0.1] [--ready-file PATH]

Each message received is written to DIR/<n>-<time>.eml atomically (a hidden temporary
file renamed into place), so a reader never sees a partial file. The envelope recipients
are added as `X-Sink-Rcpt-To:` lines above the message. Plain SMTP only (no TLS, no AUTH):
it binds to loopback by default and is meant for tests.

Needs aiosmtpd: Debian's python3-aiosmtpd (for /usr/bin/python3) or `pip install aiosmtpd`.
Stops on SIGTERM or SIGINT.
"""

import argparse
import itertools
import os
import signal
import sys
import threading
import time

try:
    from aiosmtpd.controller import Controller
except ImportError:  # pragma: no cover - reported to the caller
    sys.stderr.write(
        "smtp_sink.py: aiosmtpd is not installed "
        "(apt-get install python3-aiosmtpd, or pip install aiosmtpd)\n"
    )
    sys.exit(3)


class SinkHandler:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.counter)
        name = "%06d-%d.eml" % (n, time.time_ns())
        tmp = os.path.join(self.directory, ".%s.tmp" % name)
        final = os.path.join(self.directory, name)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        rcpts = "".join("X-Sink-Rcpt-To: %s\r\n" % r for r in envelope.rcpt_tos)
        with open(tmp, "wb") as f:
            f.write(rcpts.encode("utf-8"))
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--ready-file", help="written once the server accepts connections")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    controller = Controller(
        SinkHandler(args.dir),
        hostname=args.host,
        port=args.port,
        decode_data=False,
        # Without this aiosmtpd announces the machine's FQDN, which may need DNS.
        server_hostname="smtp-sink.localhost",
        ready_timeout=10,
    )
    controller.start()
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("%d\n" % os.getpid())
    print("smtp_sink listening on %s:%d, writing to %s" % (args.host, args.port, args.dir),
          flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
