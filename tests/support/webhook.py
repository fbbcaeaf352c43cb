"""A real local HTTP endpoint that records every POST and answers from a programmable script."""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Post:
    """One request the endpoint received."""

    def __init__(self, path: str, headers: dict[str, str], body: bytes) -> None:
        self.path = path
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class Webhook:
    """A ThreadingHTTPServer on 127.0.0.1 recording posts.

    ``script(500, (429, {"Retry-After": "1"}), 200)`` makes the next requests answer with those
    statuses in turn; once the script is used up every request gets ``default`` (200).
    """

    def __init__(self, default: int = 200) -> None:
        self.default = default
        self.posts: list[Post] = []
        self.answered: list[int] = []
        self._script: deque = deque()
        self._lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with hook._lock:
                    step = hook._script.popleft() if hook._script else hook.default
                    status, headers = step if isinstance(step, tuple) else (step, {})
                    hook.answered.append(status)
                    if status < 300:
                        hook.posts.append(Post(self.path, dict(self.headers), body))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                payload = b"ok" if status < 300 else b"error"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        # A short poll: stop() waits for serve_forever to notice, 0.5 s by default per server.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def script(self, *steps) -> None:
        with self._lock:
            self._script.extend(steps)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def json_url(self, path: str = "hook") -> str:
        """An Apprise json:// URL posting to this endpoint."""
        return f"json://127.0.0.1:{self.port}/{path}"

    def start(self) -> Webhook:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Webhook:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
