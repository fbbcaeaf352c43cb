"""The local servers of bench/bench_peer.py: the 200 feeds, each on its own loopback address
with ETag and 304s, and the SMTP server both tools mail (optionally strict about line length).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import Counter

# --- the feed server: one loopback address per feed ---------------------------------------


class FeedServer:
    """Serves ``bodies[i]`` at http://127.0.0.(i+2):port/feed.xml, with ETag and 304s."""

    def __init__(self, bodies: list[bytes]):
        self.bodies = bodies
        self.etags = [f'"{hashlib.sha1(b).hexdigest()[:16]}"' for b in bodies]
        self.hosts = [f"127.0.0.{i + 2}" for i in range(len(bodies))]
        self.by_host = {h: i for i, h in enumerate(self.hosts)}
        self.counts: Counter = Counter()
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait()

    def url(self, i: int) -> str:
        return f"http://{self.hosts[i]}:{self.port}/feed.xml"

    def _run(self, ready: threading.Event) -> None:
        from support.smtp import free_port

        asyncio.set_event_loop(self.loop)
        self.port = free_port()  # the same port on every address
        self.loop.run_until_complete(
            asyncio.start_server(self._handle, host=self.hosts, port=self.port, backlog=256)
        )
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer) -> None:
        try:
            host = writer.get_extra_info("sockname")[0]
            while True:
                request = await reader.readline()
                if not request:
                    break
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    k, _, v = line.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                path = request.split()[1] if len(request.split()) > 1 else b"/"
                i = self.by_host.get(host)
                if i is None or path != b"/feed.xml":
                    self.counts["404"] += 1
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                elif headers.get("if-none-match") == self.etags[i]:
                    self.counts["304"] += 1
                    writer.write(
                        b"HTTP/1.1 304 Not Modified\r\nETag: %s\r\nContent-Length: 0\r\n\r\n"
                        % self.etags[i].encode()
                    )
                else:
                    self.counts["200"] += 1
                    body = self.bodies[i]
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nETag: %s\r\n"
                        b"Content-Length: %d\r\n\r\n" % (self.etags[i].encode(), len(body))
                    )
                    writer.write(body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


# --- the mail server ------------------------------------------------------------------------


class Mail:
    """Collects every message; ``strict`` refuses lines over 1,000 octets (RFC 5321)."""

    def __init__(self, strict: bool = False):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        self.strict = strict
        self.raw: list[bytes] = []
        self.refused = 0
        self.lock = threading.Lock()
        mail = self

        class LongLines(SMTP):
            line_length_limit = 1 << 20  # aiosmtpd refuses lines over 1001 octets by default

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                data = envelope.original_content or envelope.content
                if mail.strict and any(len(x) > 998 for x in data.split(b"\r\n")):
                    with mail.lock:
                        mail.refused += 1
                    return "500 5.5.2 Line too long (over 1000 octets)"
                with mail.lock:
                    mail.raw.append(data)
                return "250 OK"

        class Server(Controller):
            def factory(self):
                return (SMTP if strict else LongLines)(self.handler, **self.SMTP_kwargs)

        from support.smtp import free_port

        self.port = free_port()
        self.controller = Server(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def count(self) -> int:
        with self.lock:
            return len(self.raw)

    def stop(self) -> None:
        self.controller.stop()
