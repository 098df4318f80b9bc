"""The web server against hostile input and hostile callers: real servers over HTTP, Chromium for rendering.

* an article full of HTML (a tracking pixel, a script, a password form, ``javascript:`` links) and file
  names with markup and backticks: shown as the article's literal words, nothing runs, nothing is fetched;
* routes: no file outside what the page needs, no URL fetched for a caller, no 50 MB upload, no
  request naming another host (DNS rebinding);
* ``/chat`` and ``/ask`` take articles added after start-up;
* ``assistant serve``: loopback unless ``--allow-remote``; a port in use is one line naming
  ``--port``/``ASSISTANT_PORT``; no connection past loopback (strace) over a whole visit.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from llm_server import free_port

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "corpus" / "ketamine-opioid.txt"
CHROMIUM = Path("/usr/bin/chromium")
ASSISTANT = str(Path(sys.executable).with_name("assistant"))
HOSTILE_ID = "ferry-vote"
BACKTICK_NAME = "notes`with`ticks.txt"
MARKUP_NAME = "<img src=x onerror=document.title='pwned'>.pdf"


def _hostile_article(pixel: str) -> str:
    return textwrap.dedent(f"""\
        Harbour Council Votes On A New Ferry <img src={pixel}/title-pixel>

        The harbour council met on Tuesday evening. <img src={pixel}/pixel onerror="fetch('{pixel}/onerror')"> The new electric ferry will carry 120 passengers across the bay.

        <script>fetch('{pixel}/script'); document.title = 'pwned';</script>

        <form action="{pixel}/form"><input type="password" name="pw" placeholder="Council password"></form> The motion to buy the ferry passed by nine votes to two.

        Residents can read the full plan at [the council site](javascript:fetch('{pixel}/md-link')) or <a href="javascript:fetch('{pixel}/a-link')">on paper</a> in the town hall library.
        """)


class _Pixel:
    """A loopback HTTP server recording every path requested of it: a tracking pixel's view of the page."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def pixel():
    pixel = _Pixel()
    yield pixel
    pixel.server.shutdown()


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory, pixel) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "corpus"
    folder.mkdir()
    shutil.copyfile(SEED, folder / SEED.name)
    (folder / f"{HOSTILE_ID}.txt").write_text(_hostile_article(pixel.url), encoding="utf-8")
    (folder / BACKTICK_NAME).write_text(
        "Allotment Society Opens Waiting List\n\nThe allotment society opened a waiting list of 75 plots this spring.\n",
        encoding="utf-8",
    )
    (folder / MARKUP_NAME).write_bytes(b"this is not a PDF")  # reported in the status line by its name
    return folder


@pytest.fixture(scope="module")
def server(hostile_corpus, embedding_model):
    from assistant import Assistant
    from ui.app import serve

    bot = Assistant(corpus_dir=hostile_corpus, data_dir=hostile_corpus.parent / "index", embeddings=embedding_model)
    port = free_port()
    app = serve(bot, port=port, block=False)
    yield f"http://127.0.0.1:{port}/", port, bot
    app.close()


def _get(port: int, path: str, host: str | None = None) -> tuple[int, bytes]:
    """A raw GET: the path and Host header go out exactly as written (no client normalises '..')."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host or f"127.0.0.1:{port}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# -- routes -------------------------------------------------------------------------------------------
def test_file_route_serves_nothing_outside_what_the_page_needs(server, hostile_corpus):
    _, port, _ = server
    seed_copy = hostile_corpus / SEED.name
    manifest = next(path for path in sorted((hostile_corpus.parent / "index").rglob("*.json")) if path.is_file())
    relative_up = "../" * len(Path.cwd().parts) + "etc/passwd"
    for target in ("/etc/passwd", str(seed_copy), str(manifest), str(hostile_corpus), relative_up,
                   str(REPO / "pyproject.toml"), "http://example.com/", "https://127.0.0.1/"):
        status, body = _get(port, f"/gradio_api/file={target}")
        assert status in (400, 403, 404), (target, status)
        assert not any(secret in body for secret in (b"root:x:", b"Heifets", b"[build-system]", b"passages")), target


def test_gradio_monitoring_is_off(server):
    """Its summary would tell anyone, without a key, which functions ran how often and how they fared."""
    _, port, _ = server
    for route in ("/monitoring", "/monitoring/summary", "/gradio_api/monitoring/summary"):
        status, body = _get(port, route)
        assert status in (403, 404), (route, status)
        assert b"success_rate" not in body and b"add_article" not in body


def test_a_50_mb_upload_is_refused(server):
    _, port, _ = server
    boundary = "assistant-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode()
    body = head + b"a" * (50 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/gradio_api/upload", body=body,
                           headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        response = connection.getresponse()
        status, text = response.status, response.read()
    except (BrokenPipeError, ConnectionResetError):
        status, text = 413, b"connection closed while uploading"
    finally:
        connection.close()
    assert status == 413, (status, text[:200])


def test_requests_naming_another_host_are_refused(server):
    _, port, _ = server
    assert _get(port, "/", host="evil.example")[0] == 400
    assert _get(port, "/gradio_api/info", host=f"evil.example:{port}")[0] == 400
    assert _get(port, "/", host=f"127.0.0.1:{port}")[0] == 200
    assert _get(port, "/", host=f"localhost:{port}")[0] == 200


def test_chat_and_ask_take_an_article_added_after_start_up(server, hostile_corpus):
    from gradio_client import Client

    url, _, bot = server
    client = Client(url, verbose=False)
    (hostile_corpus / "late-news.txt").write_text(
        "Late News From The Pier\n\nThe pier reopened on Friday after 14 months of repairs.\n", encoding="utf-8"
    )
    try:
        bot.sync()  # as another tab's "Re-scan corpus" would
        # (reader run 4 gives "How long did the repairs take?" 0.53, under its found level 0.55: a question in
        # the sentence's own words tests what this test is about, the new article being answered at all)
        _, messages = client.predict("When did the pier reopen?", [], "late-news", api_name="/chat")
        assert "14 months" in messages[1]["content"][0]["text"]
        assert "14 months" in client.predict("When did the pier reopen?", "late-news", api_name="/ask")["answer"]
        _, messages = client.predict("How long did the repairs take?", [], "no-such-article", api_name="/chat")
        assert "no article 'no-such-article'" in messages[-1]["content"][0]["text"]
    finally:
        (hostile_corpus / "late-news.txt").unlink()
        bot.sync()


# -- rendering in Chromium ------------------------------------------------------------------------------
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium: apt-get install chromium")
def test_article_markup_is_shown_as_text_and_never_runs(server, pixel):
    from playwright.sync_api import expect, sync_playwright

    url, _, _ = server
    dialogs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url)
        status = page.locator("#status")
        expect(status).to_contain_text(f"skipped {MARKUP_NAME}")  # the file name, as text
        assert status.locator("img").count() == 0

        picker = page.get_by_label("Article")
        picker.click()
        title = f"Harbour Council Votes On A New Ferry <img src={pixel.url}/title-pixel>"
        page.get_by_role("option", name=title).click()

        chat = page.locator("#chat")
        box = page.get_by_placeholder("Ask a question about the article")
        for question, words in (
            ("How many passengers will the new ferry carry?", f"<img src={pixel.url}/pixel onerror="),
            ("By how many votes did the motion to buy the ferry pass?", '<input type="password" name="pw"'),
            ("Where can residents read the full plan?", f"[the council site](javascript:fetch('{pixel.url}/md-link'))"),
        ):
            expect(box).to_be_editable(timeout=30_000)  # the previous answer has finished streaming
            box.fill(question)
            box.press("Enter")
            expect(chat).to_contain_text(question, timeout=30_000)
            expect(chat).to_contain_text(words, timeout=60_000)
        page.wait_for_timeout(1500)  # time for anything that would load or run to do so

        assert chat.locator("img, script, form, input, iframe").count() == 0
        assert chat.locator("a[href^='javascript']").count() == 0
        assert page.locator("input[type=password]").count() == 0
        assert page.title() != "pwned"

        picker.click()
        page.get_by_role("option", name="Allotment Society Opens Waiting List").click()
        box.fill("How many plots are on the waiting list?")
        box.press("Enter")
        expect(chat).to_contain_text(BACKTICK_NAME, timeout=60_000)  # the Sources line shows the whole name
        browser.close()
    assert pixel.hits == [], pixel.hits
    assert dialogs == []


# -- `assistant serve` ----------------------------------------------------------------------------------
def _serve_command(corpus: Path, data: Path, *extra: str, env: dict | None = None, timeout: float = 120):
    return subprocess.run([ASSISTANT, "--corpus-dir", str(corpus), "--data-dir", str(data), "serve", *extra],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_serving_beyond_this_machine_needs_an_explicit_flag(tmp_path):
    result = _serve_command(tmp_path / "corpus", tmp_path / "index", "--host", "0.0.0.0", "--port", str(free_port()))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "--allow-remote" in result.stderr and "Traceback" not in result.stderr


def test_a_port_in_use_is_one_line_naming_the_setting(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve_command(tmp_path / "corpus", tmp_path / "index", "--port", str(port))
        remote = _serve_command(tmp_path / "corpus", tmp_path / "index", "--host", "0.0.0.0", "--allow-remote",
                                "--port", str(port))
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and "in use" in line, line
    assert "--port" in line and "ASSISTANT_PORT" in line and "GRADIO_SERVER_PORT" not in line
    # With the flag, the wider address is accepted with a warning (and then refused here only for the port).
    assert remote.returncode == 2
    assert "warning: serving on 0.0.0.0" in remote.stderr and "in use" in remote.stderr


# A connect() or send to anything but loopback or a local socket, as strace prints it.
_SOCKET_CALL = re.compile(r"\b(connect|sendto|sendmsg|sendmmsg)\(\d+, .*?sa_family=(AF_INET6?)\b[^}]*?"
                          r"(?:sin_port=htons\((\d+)\)|sin6_port=htons\((\d+)\))[^}]*?"
                          r"(?:inet_addr\(\"([^\"]+)\"\)|inet_pton\(AF_INET6, \"([^\"]+)\")")


def outbound_calls(strace_log: str) -> list[str]:
    """The calls of a strace log that reach past loopback (DNS lookups included: they connect to port 53)."""
    found = []
    for line in strace_log.splitlines():
        match = _SOCKET_CALL.search(line)
        if not match:
            continue
        port = match.group(3) or match.group(4)
        address = match.group(5) or match.group(6)
        if port == "53" or not (address.startswith("127.") or address in ("::1", "::ffff:127.0.0.1")):
            found.append(line.strip())
    return found


def test_outbound_calls_are_read_from_strace_lines():
    lookup = ('61 connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0')
    local = ('61 connect(9, {sa_family=AF_INET, sin_port=htons(7860), sin_addr=inet_addr("127.0.0.1")}, 16) = 0')
    remote6 = ('61 connect(4, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
               'inet_pton(AF_INET6, "2606:4700::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH')
    unix = '61 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT'
    assert outbound_calls("\n".join([lookup, local, remote6, unix])) == [lookup, remote6]


@pytest.mark.skipif(shutil.which("strace") is None or not Path("/usr/bin/chromium").exists(),
                    reason="needs strace and Debian's chromium (make setup installs both as root)")
def test_no_connection_leaves_loopback_over_a_whole_visit(tmp_path):
    """``assistant serve`` under strace (every thread and child, C libraries included: onnxruntime's
    telemetry looked up its host from C++), and a whole visit in Chromium: the page, a question, an
    upload. Only loopback and local sockets may be on record; no name lookup at all."""
    from playwright.sync_api import expect, sync_playwright

    from test_page import ANSWER_TIMEOUT, _ask, _open

    if subprocess.run(["strace", "-qq", "-o", os.devnull, "true"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("strace is installed but may not trace here (ptrace not permitted)")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(SEED, corpus / SEED.name)
    log = tmp_path / "strace.log"
    port = free_port()
    command = ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg", "-o", str(log),
               ASSISTANT, "--corpus-dir", str(corpus), "--data-dir", str(tmp_path / "index"), "serve", "--port", str(port)]
    started = time.monotonic()
    # A session of its own, so nothing is left behind if the server will not stop.
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if _get(port, "/")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        assert process.poll() is None, process.stderr.read()
        upload = tmp_path / "harbour.txt"
        upload.write_text("Harbour seals return\n\nVolunteers counted 41 harbour seals on the sandbank in May, "
                          "up from 28 a year before, the county's wildlife trust said.\n", encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = _open(browser, f"http://127.0.0.1:{port}/")
            _ask(page, "Who is Boris Heifets?", "Heifets")
            page.get_by_text("Library").click()
            page.locator("#upload input[type=file]").set_input_files(str(upload))
            expect(page.locator("#article h2")).to_have_text("Harbour seals return", timeout=ANSWER_TIMEOUT)
            _ask(page, "How many harbour seals were counted in May?", "41")
            browser.close()
        # onnxruntime's telemetry uploader first sends about 30 s after start: keep the server up past that.
        time.sleep(max(0.0, started + 45 - time.monotonic()))
    finally:
        # Stop the server, not its tracer: what it sends while shutting down is on record too (onnxruntime's
        # telemetry looked its host up at exit as well as at start).
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        server = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        for pid in server:
            os.kill(pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    calls = log.read_text(encoding="utf-8", errors="replace")
    assert "connect(" in calls  # the trace saw the server's own sockets: it was really watching
    assert outbound_calls(calls) == []


def test_follow_ups_read_the_answer_words_not_the_escaped_markdown():
    from ui.app import answer_markdown, history_pairs

    answer = "“The *new* <b>ferry</b> carries **120** people across the bay_side.” [1]"
    shown = answer_markdown(answer)
    assert "<b>" not in shown and "\\*new\\*" in shown and "**120**" in shown
    messages = [{"role": "user", "content": "How many?"}, {"role": "assistant", "content": [{"type": "text", "text": shown}]}]
    assert history_pairs(messages) == [("How many?", answer.replace("**", ""))]
