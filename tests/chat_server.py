"""A real OpenAI-compatible chat server for tests, on 127.0.0.1 in a background thread.

It speaks ``POST /v1/chat/completions`` and ``GET /v1/models`` over real HTTP, records every
request, and answers through a ``responder`` the test supplies, so client code (retries, timeouts,
headers, caching, images) runs its real network path. Use it as a context manager::

    with ChatServer(lambda request: "[YES]") as server:
        backend = OpenAIChatBackend(server.base_url, "tiny", use_cache=False)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any = None

    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))

    def text(self) -> str:
        """All text of all messages, joined (text parts of multimodal content included)."""
        chunks = []
        for message in self.messages():
            content = message.get("content")
            if isinstance(content, str):
                chunks.append(content)
            elif isinstance(content, list):
                chunks += [p.get("text", "") for p in content if p.get("type") == "text"]
        return "\n".join(chunks)

    def last_user_text(self) -> str:
        for message in reversed(self.messages()):
            if message.get("role") == "user":
                content = message["content"]
                if isinstance(content, str):
                    return content
                return "\n".join(p.get("text", "") for p in content if p.get("type") == "text")
        return ""

    def image_urls(self) -> list[str]:
        urls = []
        for message in self.messages():
            content = message.get("content")
            if isinstance(content, list):
                urls += [p["image_url"]["url"] for p in content if p.get("type") == "image_url"]
        return urls


@dataclass
class Reply:
    """What the server sends: ``content`` as a chat completion (status 200), or ``status`` with
    ``error`` text, optionally after ``delay`` seconds and with extra headers."""

    content: str | None = None
    status: int = 200
    error: str = "error"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent verbatim instead of a JSON body


Responder = Callable[[Recorded], "Reply | str"]


def scripted(replies: Iterable[Reply | str]) -> Responder:
    """A responder that gives ``replies`` in order, then repeats the last one."""
    queue = list(replies)
    lock = threading.Lock()

    def respond(_: Recorded) -> Reply | str:
        with lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


def completion(content: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class ChatServer:
    """An OpenAI-compatible chat endpoint at ``base_url`` answering via ``responder``."""

    def __init__(self, responder: Responder | None = None, models: tuple[str, ...] = ("tiny-chat",)) -> None:
        self.responder: Responder = responder or (lambda request: "ok")
        self.models = models
        self.requests: list[Recorded] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests.append(Recorded("GET", self.path, dict(self.headers)))
                if self.path.rstrip("/") == "/v1/models":
                    data = {"object": "list", "data": [{"id": m, "object": "model"} for m in server.models]}
                    self._send(200, json.dumps(data).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                record = Recorded("POST", self.path, dict(self.headers), body)
                server.requests.append(record)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                reply = server.responder(record)
                if isinstance(reply, str):
                    reply = Reply(reply)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.raw is not None:
                    self._send(reply.status, reply.raw, reply.headers)
                elif reply.status != 200:
                    error = {"error": {"message": reply.error, "type": "test", "code": reply.status}}
                    self._send(reply.status, json.dumps(error).encode(), reply.headers)
                else:
                    model = (body or {}).get("model", "tiny-chat")
                    self._send(200, json.dumps(completion(reply.content or "", model)).encode(), reply.headers)

        return Handler

    def start(self) -> ChatServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
