"""The index on a real Chroma server (``chroma run`` from the chromadb package) through ASSISTANT_CHROMA_URL.

Sync, the manifest, rebuilds, a crash, and several assistant processes sharing one server; each
test gets a fresh server on a free port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import OFFLINE_ENVIRONMENT
from assistant.store import BUILDING, LIVE, SERVER_PREFIX, ServerStore
from chroma_server import chroma_binary, free_port, start_chroma, stop
from generated_articles import generated_article, write_generated_corpus

ENV = {**os.environ, **OFFLINE_ENVIRONMENT}


@pytest.fixture
def chroma_url(tmp_path):
    """A real Chroma server on a free port, storing under the test's folder; stopped afterwards."""
    if chroma_binary() is None:
        pytest.skip("the `chroma` command of the chromadb package is not installed")
    server, url = start_chroma(tmp_path / "chroma-server")
    yield url
    stop(server)


def cli(corpus: Path, data: Path, url: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", "--corpus-dir", str(corpus), "--data-dir", str(data), *args],
                          capture_output=True, text=True, env={**ENV, "ASSISTANT_CHROMA_URL": url}, timeout=timeout)


def passage_collections(url: str) -> list[str]:
    return sorted(c.name for c in ServerStore(url).client.list_collections() if c.name.startswith(SERVER_PREFIX))


def ask_mayor(bot, n: int):
    town = generated_article(n)
    answer = bot.ask(f"Who is the mayor of {town.town}?", article=town.id)
    article = bot.index.articles[town.id]
    for citation in answer.citations:
        assert citation.text == article.text[citation.start : citation.end]
    return answer


def test_sync_and_questions_on_the_server(make_assistant, corpus_dir, tmp_path, chroma_url):
    data = tmp_path / "local-data"
    bot = make_assistant(corpus_dir, data, chroma_url=chroma_url)
    report = bot.sync(progress=None)
    assert report.added == ["ketamine-opioid"] and report.texts_embedded > 0
    answer = bot.ask("Who is Boris Heifets?")
    assert answer.found and "Boris Heifets" in answer.text
    # records and manifest are on the server, nothing in the local data dir
    assert not list(data.glob("store-*")) and not list(data.glob("*.json"))
    manifest = ServerStore(chroma_url).read_manifest(LIVE)
    assert [a["id"] for a in manifest["articles"]] == ["ketamine-opioid"] and not manifest["pending"]
    [collection] = passage_collections(chroma_url)
    assert collection == SERVER_PREFIX + manifest["generation"]
    count = ServerStore(chroma_url).client.get_collection(collection).count()
    assert count == bot.index.articles["ketamine-opioid"].record_count
    # an unchanged sync costs nothing; an edit replaces just that version
    assert bot.sync().texts_embedded == 0
    path = corpus_dir / "ketamine-opioid.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("Boris Heifets", "Boris Heifetz"), encoding="utf-8")
    report = bot.sync(progress=None)
    assert report.updated == ["ketamine-opioid"]
    assert "Heifetz" in bot.ask("Who is Boris Heifetz?").text
    assert ServerStore(chroma_url).client.get_collection(collection).count() == bot.index.articles["ketamine-opioid"].record_count


def test_processes_sharing_one_server_share_one_manifest(make_assistant, tmp_path, chroma_url):
    corpus = tmp_path / "towns"
    write_generated_corpus(corpus, 4)
    first = make_assistant(corpus, tmp_path / "machine-a", chroma_url=chroma_url)
    first.sync(progress=None)
    # another process, with its own (empty) data dir, finds the index built and embeds nothing
    other = cli(corpus, tmp_path / "machine-b", chroma_url, "index")
    assert other.returncode == 0, other.stderr
    assert "0 added" in other.stdout and "4 unchanged; 0 texts embedded" in other.stdout
    asked = cli(corpus, tmp_path / "machine-b", chroma_url, "ask", "Who is the mayor of Townsend0003?", "--article",
                "town-0003")
    assert asked.returncode == 0 and generated_article(3).mayor in asked.stdout, asked.stderr
    # a rebuild with new content by another process: this one's next question follows it
    path = corpus / "town-0002.txt"
    path.write_text(path.read_text(encoding="utf-8").replace(generated_article(2).mayor, "Zora Quill"), encoding="utf-8")
    rebuilt = cli(corpus, tmp_path / "machine-b", chroma_url, "index", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    time.sleep(0.5)
    assert "Zora Quill" in ask_mayor(first, 2).text
    assert len(passage_collections(chroma_url)) == 1
    assert first.index.live.name == ServerStore(chroma_url).read_manifest(LIVE)["generation"]


def test_kill_9_during_a_rebuild_on_the_server(make_assistant, tmp_path, chroma_url):
    corpus = tmp_path / "towns"
    write_generated_corpus(corpus, 12)
    make_assistant(corpus, tmp_path / "data", chroma_url=chroma_url).sync(progress=None)
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "--corpus-dir", str(corpus), "--data-dir", str(tmp_path / "data"), "index",
         "--rebuild"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env={**ENV, "ASSISTANT_CHROMA_URL": chroma_url})
    seen = b""
    while b"embedding town-0006" not in seen:
        chunk = process.stderr.read1(4096)
        assert chunk, "the rebuild ended before it reached the sixth article"
        seen += chunk
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL

    store = ServerStore(chroma_url)
    building = store.read_manifest(BUILDING)
    assert building is not None and building["pending"]
    assert len(passage_collections(chroma_url)) == 2  # the live generation and the unfinished one
    bot = make_assistant(corpus, tmp_path / "data", chroma_url=chroma_url)
    for n in (1, 9):
        assert ask_mayor(bot, n).found
    finished = cli(corpus, tmp_path / "data", chroma_url, "index")
    assert finished.returncode == 0, finished.stderr
    assert store.read_manifest(BUILDING) is None
    [collection] = passage_collections(chroma_url)
    live = store.read_manifest(LIVE)
    assert collection == SERVER_PREFIX + live["generation"] and len(live["articles"]) == 12
    expected = sum(len(a["passages"]) + len(a["sentences"]) for a in live["articles"])
    assert store.client.get_collection(collection).count() == expected


def test_an_unreachable_server_is_one_line(tmp_path, corpus_dir):
    result = cli(corpus_dir, tmp_path / "data", f"http://127.0.0.1:{free_port()}", "articles", timeout=120)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: cannot reach the Chroma server at http://127.0.0.1:")


def test_two_read_only_servers_answer_the_version_one_indexer_wrote(tmp_path, chroma_url):
    """docs/deploy.md's layout on one machine: `assistant index` writes, two `assistant serve` processes
    with ASSISTANT_READ_ONLY=1 answer over HTTP, and both follow a new version of an article."""
    from test_request_limits import ask_over_rest

    corpus, data = tmp_path / "towns", tmp_path / "data"
    write_generated_corpus(corpus, 2)
    assert cli(corpus, data, chroma_url, "index").returncode == 0
    env = {**ENV, "ASSISTANT_CHROMA_URL": chroma_url, "ASSISTANT_READ_ONLY": "1"}
    ports = [free_port(), free_port()]
    servers = [subprocess.Popen([sys.executable, "-m", "assistant", "--corpus-dir", str(corpus), "--data-dir", str(data),
                                 "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, start_new_session=True) for port in ports]
    question, town = "Who is the mayor of Townsend0001?", "town-0001"
    try:
        for port, server in zip(ports, servers):
            deadline = time.monotonic() + 180
            while True:
                assert server.poll() is None, server.stderr.read()
                try:
                    status, body = ask_over_rest(port, question, town)
                    break
                except OSError:
                    assert time.monotonic() < deadline, "server not up"
                    time.sleep(0.5)
            assert status == 200 and generated_article(1).mayor in body, body[:300]
        path = corpus / f"{town}.txt"
        path.write_text(path.read_text(encoding="utf-8").replace(generated_article(1).mayor, "Zora Quill"), encoding="utf-8")
        indexed = cli(corpus, data, chroma_url, "index")
        assert indexed.returncode == 0 and "1 updated" in indexed.stdout, indexed.stderr
        time.sleep(1.0)
        for port in ports:
            status, body = ask_over_rest(port, question, town)
            assert status == 200 and "Zora Quill" in body and generated_article(1).mayor not in body, body[:300]
        # a reader never writes: an index command under the same settings is refused in one line
        refused = subprocess.run([sys.executable, "-m", "assistant", "--corpus-dir", str(corpus), "--data-dir", str(data),
                                  "index"], env=env, capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2 and refused.stderr.strip().startswith("error: ASSISTANT_READ_ONLY is set")
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
