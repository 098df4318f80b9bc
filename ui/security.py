"""Guards in front of the Gradio server: who may reach it, and what it may fetch or store for them.

* Host names: a page on another site can point its own DNS name at 127.0.0.1 (DNS rebinding) and
  then read this server's answers from the visitor's browser. Only requests naming this machine in
  their ``Host`` header are served (Starlette's ``TrustedHostMiddleware``; others get 400).
* No fetching for visitors: Gradio's ``/gradio_api/file=<URL>`` downloads a public URL on the
  server's behalf. The assistant promises never to touch the network, so any ``file=`` naming a
  scheme (``http:``, ``https:``, ...) is refused before Gradio sees it.
* Files: Gradio serves only files it created (uploads, its cache) and ``allowed_paths`` (none here);
  the corpus and the index are on ``blocked_paths`` too, should a setting ever widen that.
* Request bodies: each route has a size that fits it (``body_limits``); a larger body is refused with
  413 before it is read (by its Content-Length, or as soon as a streamed body passes the size), so no
  caller can make the server hold hundreds of megabytes, and the log names its size, never its content.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys

from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.cleaning import escape_control_characters

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
_FILE_URL = re.compile(r"/file=[A-Za-z][A-Za-z0-9+.-]*:")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.1, ::1 and 'localhost': addresses no other machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """0.0.0.0 or ::, which listen on every interface under names this process cannot know."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def allowed_hosts(bound_host: str) -> list[str]:
    """``Host`` header values served: loopback names and the bound address; any name when bound to every
    interface (remote visitors use names this process cannot know, and ``--allow-remote`` accepted them)."""
    if is_wildcard(bound_host):
        return ["*"]
    return sorted({*LOOPBACK_NAMES, bound_host.lower(), socket.gethostname().lower()})


class NoRemoteFiles:
    """Refuses ``/gradio_api/file=<scheme>:...``: the server never downloads a URL for a visitor."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _FILE_URL.search(scope.get("path", "")):
            await PlainTextResponse("File not allowed: this server does not fetch URLs", status_code=403)(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)


MB = 1024 * 1024
# One question (at most 2,000 characters, up to 12 bytes each when JSON escapes them) and an article id.
QUESTION_CALL_BYTES = 32 * 1024
# A page event: the question, the conversation on screen and the chats kept in the browser (ui/app.py
# bounds both, MAX_SAVED_MESSAGES and MAX_SAVED_CHARS).
PAGE_EVENT_BYTES = 4 * MB
# Anything else Gradio is sent (heartbeats, a cancel, a component's call) is small.
OTHER_BYTES = 64 * 1024
# Multipart headers and boundaries around an uploaded file.
UPLOAD_FRAMING_BYTES = 64 * 1024


def body_limits(max_upload_mb: int) -> list[tuple[str, int]]:
    """(path prefix, largest body) for each route; the first prefix that matches applies."""
    return [
        ("/gradio_api/upload", max_upload_mb * MB + UPLOAD_FRAMING_BYTES),
        ("/gradio_api/call/ask", QUESTION_CALL_BYTES),
        ("/gradio_api/run/ask", QUESTION_CALL_BYTES),
        ("/gradio_api/queue/join", PAGE_EVENT_BYTES),
        ("/gradio_api/call/", PAGE_EVENT_BYTES),
        ("/gradio_api/run/", PAGE_EVENT_BYTES),
        ("", OTHER_BYTES),
    ]


class BodyLimits:
    """Refuses (413) a request body larger than its route's limit: before reading it when its size is
    declared, else as soon as the streamed bytes pass the limit (the route is then told the caller left)."""

    def __init__(self, app: ASGIApp, limits: list[tuple[str, int]]) -> None:
        self.app, self.limits = app, limits

    def limit_for(self, path: str) -> int:
        return next(limit for prefix, limit in self.limits if path.startswith(prefix))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.limit_for(path)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(scope, receive, send, path, f"{int(declared):,} bytes", limit)
            return
        received, refused, started = 0, False, False

        async def counting_receive() -> dict:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                refused = True
                if not started:
                    await _refuse(scope, receive, send, path, f"over {limit:,} bytes (streamed)", limit)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if refused:
                return  # the route's own reply to a body it never got: the caller has its 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, guarded_send)


async def _refuse(scope: Scope, receive: Receive, send: Send, path: str, size: str, limit: int) -> None:
    """413, and one log line with the body's size and route, never its content."""
    print(f"refused a request body of {size} to {escape_control_characters(path[:80])} (at most {limit:,})", file=sys.stderr, flush=True)
    response = PlainTextResponse(f"Request body too large: at most {limit:,} bytes here", status_code=413,
                                 headers={"Connection": "close"})
    await response(scope, receive, send)


def max_upload(max_upload_mb: int) -> str:
    """Gradio's ``max_file_size``: request bodies over the upload setting are refused before they are read."""
    return f"{max_upload_mb}mb"


def middleware(bound_host: str, max_upload_mb: int) -> list[Middleware]:
    """For ``launch(app_kwargs={"middleware": ...})``: Gradio builds its FastAPI app with them."""
    return [
        Middleware(BodyLimits, limits=body_limits(max_upload_mb)),
        Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(bound_host)),
        Middleware(NoRemoteFiles),
    ]
