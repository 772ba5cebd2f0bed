"""A real HTTP receiver for webhooks on a free loopback port (http.server in a thread).

It answers each POST with the next status of its script (200 when the script is used up), or with
"stall": it reads the request, then holds the connection without answering until `release()`. Every
request it read is kept, headers and raw body, so tests verify what was sent as a receiver would."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | None

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class Receiver:
    script: list = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def https_url(self, path: str = "/hooks") -> str:
        return f"https://localhost:{self.port}{path}"

    def answer(self, *statuses) -> None:
        """What the next requests get: status codes, or "stall"."""
        with self.lock:
            self.script.extend(statuses)

    def release(self) -> None:
        self.released.set()

    def start(self, tls=None) -> Receiver:
        """Serve (over TLS with `tls`, an `ssl.SSLContext` holding the server's certificate)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    planned = receiver.script.pop(0) if receiver.script else 200
                if planned == "stall":
                    receiver.requests.append(Received(self.path, dict(self.headers), body, None))
                    receiver.stalled.set()
                    receiver.released.wait(60)
                    return
                receiver.requests.append(Received(self.path, dict(self.headers), body, planned))
                payload = b"ok" if planned < 300 else b"nope " * 400  # a long body, to be trimmed
                self.send_response(planned)
                if 300 <= planned < 400:
                    self.send_header("Location", receiver.url("/elsewhere"))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
