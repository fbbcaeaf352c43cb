"""The simulated web of bench_scale.py: N loopback hosts (127.x.y.z) serving real feeds
with fresh items each cycle and, for a share of full-text sources, real article pages, with
realistic latencies."""

from __future__ import annotations

import asyncio
import gzip
import random
import re
import socket
import threading
import time
from pathlib import Path

CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
FEEDS = CORPORA / "real-feeds"
ARTICLES = CORPORA / "article-extraction" / "html"
FRESH = 2  # new items per source per cycle


def host(i: int) -> str:
    return f"127.1.{i // 250}.{i % 250 + 2}"


def load_corpora() -> tuple[list[bytes], list[bytes]]:
    feeds = []
    for d in sorted(FEEDS.iterdir()):
        for f in sorted(d.iterdir()) if d.is_dir() else [d]:
            data = f.read_bytes()
            if f.suffix == ".gz":
                data = gzip.decompress(data)
            if b"<item" in data or b"<entry" in data:
                feeds.append(data)
    pages = [gzip.decompress(f.read_bytes()) for f in sorted(ARTICLES.glob("*.html.gz"))]
    return feeds, pages


_ITEM = re.compile(rb"<(item|entry)[\s>].*?</\1>", re.S)


def fresh_items(feed: bytes, h: str, cycle: int) -> bytes:
    """The feed with FRESH items in front: copies of its first item under new links."""
    m = _ITEM.search(feed)
    if not m:
        return feed
    tag = m.group(1)
    new = []
    for k in range(FRESH):
        link = f"http://{h}/fresh/{cycle}/{k}".encode()
        item = re.sub(rb"<link[^>]*?/>", b'<link href="' + link + b'"/>', m.group(0))
        item = re.sub(rb"<link>.*?</link>", b"<link>" + link + b"</link>", item, flags=re.S)
        item = re.sub(
            rb"<(guid|id)([^>]*)>.*?</\1>", rb"<\1\2>" + link + rb"</\1>", item, flags=re.S
        )
        if tag == b"entry" and b"<link" not in item:
            item = item.replace(b"</entry>", b'<link href="' + link + b'"/></entry>')
        new.append(item)
    return feed[: m.start()] + b"".join(new) + feed[m.start() :]


def own_feed(h: str, cycle: int, pages: int) -> bytes:
    """A full-text source's feed: 8 items linking to its own article pages."""
    items = []
    for k in range(cycle * FRESH + 8 - 1, cycle * FRESH - 1, -1):
        items.append(
            f"<item><title>Story {k} on {h}</title><link>http://{h}/a/{k % pages}-{k}</link>"
            f"<guid>http://{h}/a/{k % pages}-{k}</guid></item>"
        )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{h}</title>'
        f"{''.join(items)}</channel></rss>"
    ).encode()


class Web:
    """N hosts on loopback, one asyncio server thread; ``next_cycle()`` adds fresh items, or,
    with ``period`` (seconds), every period adds them by itself (for a running daemon)."""

    def __init__(
        self,
        n: int,
        full_text: float,
        feeds: list[bytes],
        pages: list[bytes],
        period: float | None = None,
    ):
        rng = random.Random(19)
        self.period, self.t0 = period, time.monotonic()
        self.n, self.feeds, self.pages = n, feeds, pages
        self.full = {i for i in range(n) if rng.random() < full_text}
        self.latency = [rng.uniform(0.05, 0.5) for _ in range(n)]
        self.cycle = 0
        self.by_host = {host(i): i for i in range(n)}
        self.loop = asyncio.new_event_loop()
        self.port = _free_port()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait()

    def url(self, i: int) -> str:
        return f"http://{host(i)}:{self.port}/feed.xml"

    def next_cycle(self) -> None:
        self.cycle += 1

    def current(self) -> int:
        """The cycle whose fresh items are served now."""
        if self.period:
            return self.cycle + int((time.monotonic() - self.t0) // self.period)
        return self.cycle

    def _body(self, i: int, path: str) -> bytes | None:
        h = f"{host(i)}:{self.port}"
        if path == "/feed.xml":
            cycle = self.current()
            if i in self.full:
                return own_feed(h, cycle, len(self.pages))
            return fresh_items(self.feeds[i % len(self.feeds)], h, cycle)
        if path.startswith("/a/") and i in self.full:
            try:
                return self.pages[int(path[3:].split("-")[0]) % len(self.pages)]
            except ValueError:
                return None
        return None

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        hosts = [host(i) for i in range(self.n)]
        self.loop.run_until_complete(
            asyncio.start_server(self._handle, host=hosts, port=self.port, backlog=512)
        )
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer) -> None:
        try:
            i = self.by_host.get(writer.get_extra_info("sockname")[0])
            while True:
                request = await reader.readline()
                if not request:
                    break
                while await reader.readline() not in (b"\r\n", b"\n", b""):
                    pass
                parts = request.split()
                path = parts[1].decode("latin-1") if len(parts) > 1 else "/"
                body = self._body(i, path) if i is not None else None
                await asyncio.sleep(self.latency[i] if i is not None else 0)
                if body is None:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                else:
                    kind = b"application/xml" if path == "/feed.xml" else b"text/html"
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                        % (kind, len(body))
                    )
                    writer.write(body)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
