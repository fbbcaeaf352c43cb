"""A tiny forwarding HTTP proxy on 127.0.0.1 for tests: ``GET http://host:port/path``
is sent on to that host (resolved the way any proxy resolves it, by the system resolver:
``2130706433`` and ``127.1`` mean 127.0.0.1) and the answer relayed as it is.

    proxy = ForwardingProxy(hosts={"news.example": ("127.0.0.1", 8123)}).start()
    env = {"http_proxy": proxy.url}
    proxy.forwarded  # [(host, port, path), ...] of every request that went through
    proxy.stop()

``hosts`` gives names that do not resolve here (``.example``) an address, as a public
DNS would.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}


class ForwardingProxy:
    """A threaded forwarding proxy (plain HTTP only, no CONNECT)."""

    def __init__(self, hosts: dict[str, tuple[str, int]] | None = None):
        self.hosts = dict(hosts or {})
        self.forwarded: list[tuple[str, int, str]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> ForwardingProxy:
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler_for(proxy: ForwardingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # keep test output quiet
            pass

        def do_GET(self):
            parts = urlsplit(self.path)
            host, port = parts.hostname or "", parts.port or 80
            host, port = proxy.hosts.get(host, (host, port))
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            with proxy._lock:
                proxy.forwarded.append((parts.hostname or "", port, path))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            try:
                upstream = http.client.HTTPConnection(host, port, timeout=10)
                upstream.request(self.command, path, headers=headers)
                reply = upstream.getresponse()
                body = reply.read()
            except OSError as e:
                return self._answer(502, f"proxy: {e}".encode(), {})
            self._answer(reply.status, body, dict(reply.getheaders()))

        def do_HEAD(self):
            self.do_GET()

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for k, v in headers.items():
                if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return Handler
