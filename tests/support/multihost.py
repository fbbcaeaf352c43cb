"""A local HTTP server on several loopback addresses (127.0.0.2, 127.0.0.3, ...: on Linux
all of 127.0.0.0/8 is loopback), one site per address, that records what politeness is
about: per host, every request's path and start and end time, and the most requests it had
in flight at once.

    server = MultiHostServer(3).start()
    server.add(0, "/feed.xml", body, delay=0.2)   # host 0 answers that path after 0.2 s
    server.url(0, "/feed.xml"); server.log(0); server.max_active(0)
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from support.smtp import free_port


@dataclass
class Page:
    """What one path of one host answers, in turn (the last answer repeats)."""

    answers: list[tuple[int, bytes, dict[str, str], float]] = field(default_factory=list)
    hits: int = 0


@dataclass
class Hit:
    path: str
    start: float
    end: float = 0.0


class MultiHostServer:
    """``hosts`` sites on 127.0.0.2 ... 127.0.0.(hosts + 1), the same port on each."""

    def __init__(self, hosts: int):
        self.hosts = [f"127.0.0.{i + 2}" for i in range(hosts)]
        self.pages: dict[tuple[int, str], Page] = {}
        self.hits: dict[int, list[Hit]] = {i: [] for i in range(hosts)}
        self._active = [0] * hosts
        self._max = [0] * hosts
        self._lock = threading.Lock()
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self._server = None

    def start(self) -> MultiHostServer:
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        async def close():
            self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def url(self, host: int, path: str = "/") -> str:
        return f"http://{self.hosts[host]}:{self.port}{path}"

    def add(
        self,
        host: int,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        then: list[tuple[int, bytes | str, dict[str, str]]] = (),
    ) -> None:
        """Serve ``path`` on ``host``: this answer first, then each of ``then`` in turn."""
        answers = [(status, _b(body), dict(headers or {}), delay)]
        answers += [(s, _b(b), dict(h), delay) for s, b, h in then]
        with self._lock:
            self.pages[(host, path)] = Page(answers)

    def log(self, host: int) -> list[Hit]:
        """The requests ``host`` received, in order of arrival."""
        with self._lock:
            return list(self.hits[host])

    def paths(self, host: int) -> list[str]:
        return [h.path for h in self.log(host)]

    def max_active(self, host: int) -> int:
        """The most requests ``host`` had in flight at one moment."""
        with self._lock:
            return self._max[host]

    def gaps(self, host: int) -> list[float]:
        """Seconds between the starts of consecutive requests to ``host``."""
        starts = [h.start for h in self.log(host)]
        return [b - a for a, b in zip(starts, starts[1:], strict=False)]

    # ------------------------------------------------------------------ serving

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.port = free_port()
        self._server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, host=self.hosts, port=self.port, backlog=256)
        )
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer) -> None:
        host = self.hosts.index(writer.get_extra_info("sockname")[0])
        try:
            while True:
                request = await reader.readline()
                if not request:
                    break
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                parts = request.split()
                path = parts[1].decode("latin-1") if len(parts) > 1 else "/"
                hit = Hit(path, time.monotonic())
                with self._lock:
                    self.hits[host].append(hit)
                    self._active[host] += 1
                    self._max[host] = max(self._max[host], self._active[host])
                    page = self.pages.get((host, path))
                    if page is None:
                        answer = (404, b"not found", {}, 0.0)
                    else:
                        answer = page.answers[min(page.hits, len(page.answers) - 1)]
                        page.hits += 1
                status, body, headers, delay = answer
                try:
                    if delay:
                        await asyncio.sleep(delay)
                    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n"
                    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                    writer.write(head.encode("latin-1") + b"\r\n" + body)
                    await writer.drain()
                finally:
                    with self._lock:
                        self._active[host] -= 1
                        hit.end = time.monotonic()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


def _b(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body
