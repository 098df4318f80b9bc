"""The ``assistant`` command as a user runs it: real subprocesses, real index in a temporary folder.

Each process that answers a question pays ~7 s of model loading, so the index is built once per
module and shared; commands that fail before answering never load the model.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEED_PATH = REPO / "corpus" / "ketamine-opioid.txt"
SEED_ID = "ketamine-opioid"
SEED_TITLE = "What if Ketamine Actually Works Like an Opioid?"
SEED_URL = "https://www.wired.com/story/ketamine-opioid/"

ANSWER_KEYS = {"question", "answer", "found", "article", "backend", "citations", "timings_ms", "standalone_question",
               "unsupported_sentences", "note", "confidence", "weak", "intent"}
CITATION_KEYS = {"n", "article_id", "source", "title", "text", "start", "end", "score"}
TIMING_KEYS = {"retrieve", "answer", "total"}
TIMEOUT = 300


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        env=env,
        cwd=cwd,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def cli_env(corpus_dir: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_CORPUS_DIR=str(corpus_dir),
        ASSISTANT_DATA_DIR=str(data_dir),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        ANONYMIZED_TELEMETRY="False",
        PYTHONIOENCODING="utf-8",
    )
    return env


def assert_usage_error(result: subprocess.CompletedProcess, *expected: str) -> str:
    """Exit 2, no traceback, and the message on stderr (what the user reads)."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for text in expected:
        assert text in result.stderr, result.stderr
    return result.stderr


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> None:
    stderr = assert_usage_error(result, *expected)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert result.stdout == ""


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """A corpus copy indexed once by ``assistant index``; shared (read-only) by the tests below."""
    root = tmp_path_factory.mktemp("cli")
    corpus_dir = root / "corpus"
    corpus_dir.mkdir()
    shutil.copyfile(SEED_PATH, corpus_dir / SEED_PATH.name)
    env = cli_env(corpus_dir, root / "index")
    first = run_cli(env, "index", cwd=root)
    assert first.returncode == 0, first.stderr
    return {"root": root, "corpus_dir": corpus_dir, "env": env, "first_index": first}


def texts_embedded(output: str) -> int:
    match = re.search(r"(\d+) texts embedded", output)
    assert match, output
    return int(match.group(1))


def test_index_then_index_again_embeds_nothing(indexed):
    first = indexed["first_index"]
    assert "indexed 1 article(s)" in first.stdout
    assert "1 added" in first.stdout
    assert texts_embedded(first.stdout) > 0
    assert "Traceback" not in first.stderr

    again = run_cli(indexed["env"], "index", cwd=indexed["root"])
    assert again.returncode == 0, again.stderr
    assert "1 unchanged" in again.stdout and "0 added" in again.stdout
    assert texts_embedded(again.stdout) == 0


def test_ask_json_prints_one_cited_answer(indexed, seed_text):
    result = run_cli(indexed["env"], "ask", "Who is Boris Heifets?", "--json", cwd=indexed["root"])
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    answer = json.loads(result.stdout)  # exactly one JSON document, nothing else on stdout
    assert set(answer) == ANSWER_KEYS
    assert answer["question"] == "Who is Boris Heifets?"
    assert answer["article"] == SEED_ID
    assert answer["backend"] == "extractive"
    assert answer["found"] is True
    assert answer["citations"]
    assert set(answer["timings_ms"]) == TIMING_KEYS
    assert all(isinstance(v, (int, float)) and v >= 0 for v in answer["timings_ms"].values())
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])}
    assert cited == {c["n"] for c in answer["citations"]}
    for citation in answer["citations"]:
        assert CITATION_KEYS <= set(citation)
        assert citation["article_id"] == SEED_ID
        assert citation["title"] == SEED_TITLE
        assert Path(citation["source"]) == indexed["corpus_dir"] / SEED_PATH.name
        assert citation["text"] == seed_text[citation["start"] : citation["end"]]
        assert isinstance(citation["score"], float)


def test_ask_off_topic_is_answered_with_not_found(indexed):
    result = run_cli(indexed["env"], "ask", "What is the capital of France?", "--json", cwd=indexed["root"])
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == ANSWER_KEYS
    assert answer["found"] is False
    assert answer["citations"] == []
    assert answer["answer"].strip()
    assert not re.search(r"\[\d+\]", answer["answer"])


def test_ask_unknown_article(indexed):
    result = run_cli(indexed["env"], "ask", "What is ketamine?", "--article", "no-such-article", cwd=indexed["root"])
    assert_one_line_error(result, "no-such-article", SEED_ID)


def test_ask_empty_question(indexed):
    result = run_cli(indexed["env"], "ask", "   ", cwd=indexed["root"])
    assert_one_line_error(result, "empty")


def test_ask_with_an_empty_corpus(tmp_path):
    empty = tmp_path / "corpus"
    empty.mkdir()
    result = run_cli(cli_env(empty, tmp_path / "index"), "ask", "What is ketamine?", "--json", cwd=tmp_path)
    assert_one_line_error(result, str(empty))


def test_unknown_subcommand_is_a_usage_error(indexed):
    result = run_cli(indexed["env"], "frobnicate", cwd=indexed["root"])
    stderr = assert_usage_error(result, "frobnicate")
    assert "invalid choice" in stderr.splitlines()[-1]
    assert result.stdout == ""


def test_unknown_subcommand_is_one_line(indexed):
    result = run_cli(indexed["env"], "frobnicate", cwd=indexed["root"])
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_articles_json(indexed):
    result = run_cli(indexed["env"], "articles", "--json", cwd=indexed["root"])
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [a["id"] for a in listed] == [SEED_ID]
    (article,) = listed
    assert set(article) >= {"id", "title", "path", "url"}
    assert article["title"] == SEED_TITLE
    assert article["url"] == SEED_URL
    assert Path(article["path"]) == indexed["corpus_dir"] / SEED_PATH.name
    assert article["passages"] > 0


def test_chat_through_stdin(indexed):
    questions = "Who is Boris Heifets?\nWhat did he say about glutamate?\n"
    result = run_cli(indexed["env"], "chat", stdin=questions, cwd=indexed["root"])
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert SEED_TITLE in result.stdout
    replies = result.stdout.split("assistant> ")[1:]
    assert len(replies) == 2, result.stdout
    first_reply = replies[0]
    assert re.search(r"\[\d+\]", first_reply.splitlines()[0]), first_reply  # the answer cites ...
    assert re.search(rf"^\s+\[1\] {re.escape(SEED_TITLE)} — ", first_reply, re.MULTILINE)  # ... and lists the passage
    assert SEED_URL in first_reply


def test_reader_leaving_early_is_not_an_error(indexed):
    """`assistant articles | head -0`: the pipe closes before the output is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "articles"], env=indexed["env"], cwd=indexed["root"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    process.stdout.close()  # like `head` exiting at once
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, stderr
    assert "error" not in stderr
