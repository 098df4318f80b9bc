"""Guards in front of the Gradio server: who may reach it, and what it may fetch or store for them.

* Host names: a page on another site can point its own DNS name at 127.0.0.1 (DNS rebinding) and
  then read this server's answers from the visitor's browser. Only requests naming this machine in
  their ``Host`` header are served (Starlette's ``TrustedHostMiddleware``; others get 400).
* No fetching for visitors: Gradio's ``/gradio_api/file=<URL>`` downloads a public URL on the
  server's behalf. The assistant promises never to touch the network, so any ``file=`` naming a
  scheme (``http:``, ``https:``, ...) is refused before Gradio sees it.
* Files: Gradio serves only files it created (uploads, its cache) and ``allowed_paths`` (none here);
  the corpus and the index are on ``blocked_paths`` too, should a setting ever widen that.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

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


def max_upload(max_upload_mb: int) -> str:
    """Gradio's ``max_file_size``: request bodies over the upload setting are refused before they are read."""
    return f"{max_upload_mb}mb"


def middleware(bound_host: str) -> list[Middleware]:
    """For ``launch(app_kwargs={"middleware": ...})``: Gradio builds its FastAPI app with them."""
    return [
        Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(bound_host)),
        Middleware(NoRemoteFiles),
    ]
