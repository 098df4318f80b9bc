"""A real Chroma server (``chroma run`` from the chromadb package) on a free loopback port, for tests and bench/scale.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from assistant.config import OFFLINE_ENVIRONMENT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def chroma_binary() -> str | None:
    """The ``chroma`` command installed with chromadb (beside this Python), else one on PATH."""
    beside = Path(sys.executable).with_name("chroma")
    return str(beside) if beside.exists() else shutil.which("chroma")


def start_chroma(path: Path, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """``chroma run`` storing under ``path``, waited for until its heartbeat answers: (process, url)."""
    binary = chroma_binary()
    if binary is None:
        raise FileNotFoundError("the `chroma` command of the chromadb package is not installed")
    port = free_port()
    server = subprocess.Popen([binary, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **OFFLINE_ENVIRONMENT})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2)
            return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"chroma run did not answer on port {port} within {timeout} s") from None
            time.sleep(0.25)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
