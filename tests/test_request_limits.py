"""Bad requests against a real ``assistant serve`` process: none may pin memory or fill the log.

Each route takes a body of the size that fits it (ui/security.py ``body_limits``): larger ones are
refused with 413 before they are read. Measured before on main 05960b4: a 200 MB body to
``/gradio_api/call/ask`` took the server from 354 to 916 MiB, twenty 25 MB questions added 754 MiB
that was never returned, and three refused 50 MB questions wrote 157 MB of log.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import copy_corpus
from llm_server import free_port

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "corpus" / "ketamine-opioid.txt"
ASSISTANT = str(Path(sys.executable).with_name("assistant"))
MB = 1024 * 1024


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _post(port: int, path: str, declared: int | None, body_bytes: int, chunk: bytes = b"a" * MB) -> int | None:
    """POST ``body_bytes`` of ``chunk`` (declaring ``declared`` bytes, or streamed in chunks when None).
    The status, or None when the server closed the connection before answering."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/json")
        if declared is None:
            connection.putheader("Transfer-Encoding", "chunked")
        else:
            connection.putheader("Content-Length", str(declared))
        connection.endheaders()
        sent = 0
        try:
            while sent < body_bytes:
                piece = chunk[: body_bytes - sent]
                connection.send(b"%x\r\n%s\r\n" % (len(piece), piece) if declared is None else piece)
                sent += len(piece)
            if declared is None:
                connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            return connection.getresponse().status
        except (http.client.HTTPException, ConnectionError):
            return None
    finally:
        connection.close()


def ask_over_rest(port: int, question: str, article: str = "all") -> tuple[int, str]:
    """Gradio's two-step call to ``/ask``: the event, then its result stream (status, the stream's text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", "/gradio_api/call/ask", body=json.dumps({"data": [question, article]}),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read().decode()
        if response.status != 200:
            return response.status, body
        connection.request("GET", f"/gradio_api/call/ask/{json.loads(body)['event_id']}")
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``assistant serve`` over the shipped article, its stderr in a file; the process is the server itself."""
    root = tmp_path_factory.mktemp("limits")
    corpus = copy_corpus(root / "corpus", SEED)
    port = free_port()
    log = (root / "server.log").open("w")
    process = subprocess.Popen([ASSISTANT, "--corpus-dir", str(corpus), "--data-dir", str(root / "index"), "serve",
                                "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if ask_over_rest(port, "Who is Boris Heifets?")[0] == 200:
                break
        except OSError:
            time.sleep(0.5)
    assert process.poll() is None, (root / "server.log").read_text()
    yield port, process, root / "server.log"
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)
    log.close()


def test_bodies_over_a_routes_limit_are_refused_before_they_are_read(served):
    port, _, _ = served
    started = time.monotonic()
    assert _post(port, "/gradio_api/call/ask", 200 * MB, 64 * 1024) == 413
    assert _post(port, "/gradio_api/queue/join", 200 * MB, 64 * 1024) == 413
    assert _post(port, "/gradio_api/upload", 200 * MB, 64 * 1024) == 413
    assert time.monotonic() - started < 10  # 200 MB each were declared, a few KB sent: nobody waited for the rest
    # Streamed without a declared size: refused once past the limit (4 MB for page events), not at 25 MB.
    assert _post(port, "/gradio_api/queue/join", None, 25 * MB) in (413, None)
    assert _post(port, "/gradio_api/call/ask", None, 1 * MB, chunk=b"a" * 8192) in (413, None)


def test_a_hundred_bad_requests_leave_memory_and_log_as_they_were(served):
    port, process, log = served
    assert ask_over_rest(port, "How many participants were in the study?")[0] == 200
    before_rss, before_log = _rss_mib(process.pid), log.stat().st_size
    too_long_question = "Why " * 7000  # 28,000 characters: under the body limit, over the question's
    for i in range(100):
        kind = i % 4
        if kind == 0:
            assert _post(port, "/gradio_api/call/ask", 200 * MB, 64 * 1024) == 413
        elif kind == 1:
            assert _post(port, "/gradio_api/queue/join", None, 25 * MB) in (413, None)
        elif kind == 2:
            status, body = ask_over_rest(port, too_long_question)
            assert status == 200 and "too long" in body and "Why Why Why" not in body
        else:
            assert _post(port, "/gradio_api/call/ask", 20_000, 20_000, chunk=b"{" * 20_000) in (400, 422)
    time.sleep(2)
    after_rss = _rss_mib(process.pid)
    assert after_rss - before_rss < 50, (before_rss, after_rss)
    written = log.read_text(encoding="utf-8", errors="replace")[before_log:]
    assert len(written) < 100 * 50 * 4, len(written)  # a line or so per refusal, not the bodies
    assert "aaaa" not in written and "Why Why" not in written and "{{{{" not in written
    assert "refused a request body of 209,715,200 bytes to /gradio_api/call/ask" in written
    status, body = ask_over_rest(port, "How many participants were in the study?")
    assert status == 200 and "event: complete" in body, body[:300]
