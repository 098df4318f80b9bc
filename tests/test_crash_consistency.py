"""``kill -9`` in the middle of ``assistant index --rebuild``, and a rebuild while ``assistant serve`` runs.

Real processes throughout: the CLI is killed with SIGKILL at moments chosen by watching its progress
bar; the server is a real ``assistant serve`` asked over HTTP with gradio_client.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from assistant.config import OFFLINE_ENVIRONMENT
from assistant.store import BUILDING, LIVE
from chroma_server import free_port, stop
from generated_articles import generated_article, write_generated_corpus

ARTICLES = 30
ENV = {**os.environ, **OFFLINE_ENVIRONMENT}


def cli(corpus: Path, data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "assistant", "--corpus-dir", str(corpus), "--data-dir", str(data), *args]


def rename_mayors(corpus: Path, numbers: range, suffix: str) -> None:
    """A real edit: new versions of these articles."""
    for n in numbers:
        article = generated_article(n)
        path = corpus / f"{article.id}.txt"
        path.write_text(path.read_text(encoding="utf-8").replace(article.mayor, article.mayor + suffix), encoding="utf-8")


def kill_when(command: list[str], trigger: str | None, delay: float = 0.0) -> int:
    """Start ``command``; SIGKILL it once ``trigger`` appears on its stderr (or after ``delay`` s when None).
    Returns its exit status: ``-SIGKILL`` when it was still running."""
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=ENV)
    seen: list[bytes] = []
    fired = threading.Event()

    def watch():
        while chunk := process.stderr.read1(4096):
            seen.append(chunk)
            if trigger and trigger.encode() in b"".join(seen):
                fired.set()
        fired.set()

    threading.Thread(target=watch, daemon=True).start()
    if trigger is None:
        time.sleep(delay)
    else:
        fired.wait(timeout=150)
    process.send_signal(signal.SIGKILL)
    return process.wait(timeout=30)


def records_by_version(index, generation) -> Counter:
    collection = index.store_for(generation)
    return Counter(meta["version"] for meta in collection.get(include=["metadatas"])["metadatas"])


def assert_consistent(make_assistant, corpus: Path, data: Path) -> None:
    """Every article a manifest names has all its records; questions quote the version they cite."""
    bot = make_assistant(corpus, data)
    index = bot.index
    for generation in (index.live, index._unfinished):
        if generation is None:
            continue
        present = records_by_version(index, generation)
        for article in generation.articles.values():
            assert present[article.version] >= article.record_count, (generation.name, article.id)
    for n in (2, 17, 29):
        town = generated_article(n)
        answer = bot.ask(f"Who is the mayor of {town.town}?", article=town.id)
        assert answer.found, answer.text
        citation = answer.citations[0]
        assert citation.article_id == town.id
        article = bot.index.articles[town.id]
        assert citation.text == article.text[citation.start : citation.end]
        assert citation.quote in article.text


def test_kill_9_during_rebuild_at_five_moments(make_assistant, tmp_path):
    corpus, data = tmp_path / "corpus", tmp_path / "index"
    write_generated_corpus(corpus, ARTICLES)
    make_assistant(corpus, data).sync(progress=None)
    rename_mayors(corpus, range(0, ARTICLES, 2), " Junior")  # half the articles get new versions

    moments = [(None, 1.0), ("embedding town-0001", 0), ("embedding town-0008", 0), ("embedding town-0017", 0),
               ("embedding town-0029", 0)]
    for trigger, delay in moments:
        assert kill_when(cli(corpus, data, "index", "--rebuild"), trigger, delay) == -signal.SIGKILL, trigger
        assert_consistent(make_assistant, corpus, data)

    finished = subprocess.run(cli(corpus, data, "index"), capture_output=True, text=True, env=ENV, timeout=300)
    assert finished.returncode == 0, finished.stderr
    bot = make_assistant(corpus, data)
    assert not bot.index.rebuild_unfinished and not (data / f"{BUILDING}.json").exists()
    assert len(list(data.glob("store-*"))) == 1
    live = json.loads((data / f"{LIVE}.json").read_text(encoding="utf-8"))
    assert not live["pending"] and len(live["articles"]) == ARTICLES
    present = records_by_version(bot.index, bot.index.live)
    assert present == Counter({a.version: a.record_count for a in bot.index.live.articles.values()})
    assert bot.sync().texts_embedded == 0
    answer = bot.ask(f"Who is the mayor of {generated_article(4).town}?", article=generated_article(4).id)
    assert generated_article(4).mayor + " Junior" in answer.text


def wait_for(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"assistant serve exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"assistant serve did not answer at {url} within {timeout} s")


def test_a_rebuild_from_the_cli_while_serve_runs(make_assistant, tmp_path):
    from gradio_client import Client

    corpus, data = tmp_path / "corpus", tmp_path / "index"
    write_generated_corpus(corpus, 3)
    make_assistant(corpus, data).sync(progress=None)
    port = free_port()
    server = subprocess.Popen(cli(corpus, data, "serve", "--port", str(port)), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=ENV)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url, server)
        client = Client(url, verbose=False)
        town = generated_article(1)
        question = f"Who is the mayor of {town.town}?"
        before = client.predict(question, "all", api_name="/ask")
        assert before["found"] and town.mayor in before["answer"]

        rename_mayors(corpus, range(1, 2), " Senior")
        rebuilt = subprocess.run(cli(corpus, data, "index", "--rebuild"), capture_output=True, text=True, env=ENV,
                                 timeout=300)
        assert rebuilt.returncode == 0, rebuilt.stderr
        time.sleep(0.5)  # longer than the index's check interval
        for _ in range(3):
            after = client.predict(question, "all", api_name="/ask")
            assert after["found"] and f"{town.mayor} Senior" in after["answer"]
            assert after["citations"][0]["article_id"] == town.id
        other = generated_article(2)
        assert other.mayor in client.predict(f"Who is the mayor of {other.town}?", "all", api_name="/ask")["answer"]
    finally:
        stop(server)
