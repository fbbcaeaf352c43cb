"""A real HTTP server on 127.0.0.1 for tests and benchmarks, with programmable faults.

    server = LocalServer().start()
    server.add("/feed.xml", body=b"<rss ...>", content_type="application/rss+xml")
    server.add("/flaky", Reply(status=500), Reply(body=b"ok"))   # a status sequence
    server.add("/slow", Reply(body=b"x", delay=5))
    server.add("/limited", Reply(status=429, headers={"Retry-After": "1"}), Reply(body=b"ok"))
    server.add("/gz", Reply(body=b"...", gzip=True))
    server.add("/loop", Reply(redirect="/loop"))
    server.add("/hang", Reply(never_finish=True))
    server.add("/huge", Reply(stream_bytes=50_000_000))        # no Content-Length
    server.add("/page", body=b"...", etag='"v1"', last_modified="Mon, 01 Jan 2024 ...")  # 304s
    url = server.url("/feed.xml")
    server.stop()

Replies of a route are used in order; the last one repeats. A route with an ``etag`` or
``last_modified`` answers conditional requests with 304. Every request is recorded in
``server.requests`` as ``(method, path, headers)``. The server also accepts proxy-style
request lines (``GET http://host/path``), so a test can give a source a public-looking
host name by pointing ``http_proxy`` at it.
"""

from __future__ import annotations

import gzip as gzip_mod
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Reply:
    """One response, or one fault."""

    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0
    gzip: bool = False  # compress ``body`` and send Content-Encoding: gzip
    raw_gzip: bytes | None = None  # send these bytes as a gzip body (e.g. a gzip bomb)
    redirect: str | None = None  # 302 to this address
    never_finish: bool = False  # headers, then a byte now and then, forever
    stream_bytes: int = 0  # send this many bytes without Content-Length


@dataclass
class Route:
    replies: list[Reply]
    etag: str | None = None
    last_modified: str | None = None
    hits: int = 0


def gzip_bomb(decompressed_bytes: int) -> bytes:
    """A small gzip stream that inflates to ``decompressed_bytes`` zero bytes."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    out = []
    left = decompressed_bytes
    while left > 0:
        out.append(comp.compress(chunk[: min(left, len(chunk))]))
        left -= len(chunk)
    out.append(comp.flush())
    return b"".join(out)


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 (a free port unless given one)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> LocalServer:
        # A short poll: stop() waits for serve_forever to notice, 0.5 s by default per server.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(
        self,
        path: str,
        *replies: Reply,
        body: bytes | str | None = None,
        content_type: str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Serve ``path`` (optionally ``http://host/path`` for proxy requests)."""
        if not replies:
            replies = (
                Reply(
                    body=body or b"",
                    status=status,
                    headers=dict(headers or {}),
                    content_type=content_type,
                ),
            )
        with self._lock:
            self.routes[path] = Route(list(replies), etag=etag, last_modified=last_modified)

    def add_file(self, path: str, file, content_type: str | None = None, **kw) -> None:
        """Serve a file's bytes."""
        with open(file, "rb") as f:
            self.add(path, body=f.read(), content_type=content_type, **kw)

    def hits(self, path: str) -> int:
        return sum(1 for _m, p, _h in self.requests if p == path)

    def _route(self, raw_path: str) -> tuple[str, Route | None]:
        with self._lock:
            if raw_path in self.routes:
                return raw_path, self.routes[raw_path]
            parts = urlsplit(raw_path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path in self.routes:
                return path, self.routes[path]
            return path, self.routes.get(parts.path)


def _handler_for(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # keep test output quiet
            pass

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            path, route = server._route(self.path)
            with server._lock:
                server.requests.append((self.command, path, dict(self.headers.items())))
            if route is None:
                return self._send(Reply(status=404, body=b"not found"))
            with server._lock:
                reply = route.replies[min(route.hits, len(route.replies) - 1)]
                route.hits += 1
            if reply.delay:
                time.sleep(reply.delay)
            if reply.status == 200 and self._not_modified(route):
                self.send_response(304)
                self._validators(route)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(reply, route)

        def _not_modified(self, route: Route) -> bool:
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if route.etag and inm:
                return route.etag in [t.strip() for t in inm.split(",")]
            return bool(route.last_modified and ims and ims == route.last_modified)

        def _validators(self, route: Route | None) -> None:
            if route and route.etag:
                self.send_header("ETag", route.etag)
            if route and route.last_modified:
                self.send_header("Last-Modified", route.last_modified)

        def _send(self, reply: Reply, route: Route | None = None) -> None:
            body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
            if reply.redirect:
                self.send_response(302)
                self.send_header("Location", reply.redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(reply.status)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self._validators(route)
            if reply.never_finish or reply.stream_bytes:
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                return self._stream(reply)
            if reply.raw_gzip is not None or reply.gzip:
                body = reply.raw_gzip if reply.raw_gzip is not None else gzip_mod.compress(body)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _stream(self, reply: Reply) -> None:
            try:
                if reply.never_finish:
                    self.wfile.write(b"<")
                    while not server._stopping.wait(0.2):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    return
                chunk = b"x" * 65536
                left = reply.stream_bytes
                while left > 0 and not server._stopping.is_set():
                    self.wfile.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)
            except OSError:
                pass  # the client gave up, as it should

    return Handler
