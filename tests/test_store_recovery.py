"""A damaged, missing or read-only store: the next command says what happened in one line and goes on.

Damage is done to real files of a real Chroma store (built with the real MiniLM); the CLI cases run
the real ``assistant`` command in a subprocess.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import OFFLINE_ENVIRONMENT
from assistant.store import LIVE
from generated_articles import write_generated_corpus

SEED_ID = "ketamine-opioid"
QUESTION = "Who is Boris Heifets?"
ANSWER_WORDS = "Stanford anesthesiologist Boris Heifets"


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, **OFFLINE_ENVIRONMENT}
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def message_lines(stderr: str) -> list[str]:
    """stderr without the progress bar's redraws."""
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.strip() and "text/s" not in line and "%|" not in line]


def store_folders(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("store-*"))


def sqlite_of(data_dir: Path) -> Path:
    [folder] = store_folders(data_dir)
    return folder / "chroma.sqlite3"


def garbage(data_dir: Path) -> str:
    path = sqlite_of(data_dir)
    path.write_bytes(os.urandom(path.stat().st_size))
    return "file is not a database"


def truncated(data_dir: Path) -> str:
    path = sqlite_of(data_dir)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    return "malformed"


def deleted(data_dir: Path) -> str:
    sqlite_of(data_dir).unlink()
    return "chroma.sqlite3 is missing"


def broken_manifest(data_dir: Path) -> str:
    (data_dir / f"{LIVE}.json").write_text('{"articles": [', encoding="utf-8")
    return "not valid JSON"


def binary_manifest(data_dir: Path) -> str:
    (data_dir / f"{LIVE}.json").write_bytes(os.urandom(4096) + b"\xff\xfe\x81")
    return "not text"


def foreign_manifest(data_dir: Path) -> str:
    (data_dir / f"{LIVE}.json").write_text("[1, 2, 3]", encoding="utf-8")
    return "does not hold a manifest"


def assert_answers_from_the_article(bot) -> None:
    answer = bot.ask(QUESTION)
    assert answer.found and ANSWER_WORDS in answer.text.replace("**", "")  # the answer span is bold
    for citation in answer.citations:
        assert citation.text == bot.index.articles[citation.article_id].text[citation.start : citation.end]


@pytest.mark.parametrize("damage", [garbage, truncated, deleted, broken_manifest, binary_manifest, foreign_manifest])
def test_a_damaged_store_is_moved_aside_and_rebuilt(make_assistant, corpus_dir, data_dir, caplog, damage):
    make_assistant(corpus_dir, data_dir).sync()
    damaged_files = {p.relative_to(data_dir) for p in data_dir.rglob("*") if p.is_file()}
    expected_reason = damage(data_dir)
    damaged_bytes = {p: (data_dir / p).read_bytes() for p in damaged_files if (data_dir / p).exists()}

    bot = make_assistant(corpus_dir, data_dir)
    with caplog.at_level(logging.WARNING, logger="assistant.index"):
        report = bot.sync(progress=None)

    assert report.recovered and expected_reason in report.recovered
    assert report.added == [SEED_ID] and report.texts_embedded > 0
    [line] = [r.getMessage() for r in caplog.records if r.name == "assistant.index"]
    assert "\n" not in line and line.startswith("index: the store was damaged") and "rebuilt 1 article(s)" in line
    # kept for inspection, byte for byte, in the folder the line names
    [aside] = list(data_dir.glob("damaged-*"))
    assert str(aside) in line
    for relative, content in damaged_bytes.items():
        assert (aside / relative).read_bytes() == content
    assert len(store_folders(data_dir)) == 1
    assert_answers_from_the_article(bot)
    # and the next process finds a healthy store: nothing to recover, nothing to embed
    again = make_assistant(corpus_dir, data_dir)
    report = again.sync()
    assert report.recovered is None and report.texts_embedded == 0 and len(list(data_dir.glob("damaged-*"))) == 1


def test_damaged_vector_index_files_are_detected(make_assistant, tmp_path, data_dir):
    """Chroma rebuilds its vector index from its log while the log holds every record, so damaging the
    segment files only matters past ~1,000 records, when the log has been folded into them."""
    corpus = tmp_path / "towns"
    write_generated_corpus(corpus, 105, filler_sentences=6)
    bot = make_assistant(corpus, data_dir)
    bot.sync(progress=None)
    assert sum(a.record_count for a in bot.index.articles.values()) > 1000
    [folder] = store_folders(data_dir)
    [segment] = [p for p in folder.iterdir() if p.is_dir()]
    for part in segment.iterdir():
        part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    for path in sorted(corpus.iterdir())[8:]:  # a short rebuild is enough to show the recovery
        path.unlink()

    again = make_assistant(corpus, data_dir)
    report = again.sync(progress=None)
    assert report.recovered and "moved it to" in report.recovered and "rebuilt 8 article(s)" in report.recovered
    assert report.added == [f"town-{n:04d}" for n in range(8)]
    assert len(list(data_dir.glob("damaged-*"))) == 1
    answer = again.ask("Who is the mayor of Townsend0005?")
    assert answer.found and answer.citations[0].article_id == "town-0005"


def test_rebuilds_leave_one_store_folder(make_assistant, corpus_dir, data_dir):
    bot = make_assistant(corpus_dir, data_dir)
    bot.sync()

    def size() -> int:
        return sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())

    first = size()
    for _ in range(4):
        bot.index.rebuild()
        assert bot.sync(progress=None).added == [SEED_ID]
        assert len(store_folders(data_dir)) == 1
    assert size() < 1.5 * first
    assert sorted(p.name for p in data_dir.iterdir()) == [f"{LIVE}.json", store_folders(data_dir)[0].name]


def test_index_rebuild_works_on_a_garbage_store(corpus_dir, data_dir, make_assistant):
    make_assistant(corpus_dir, data_dir).sync()
    garbage(data_dir)
    result = run_cli("--corpus-dir", str(corpus_dir), "--data-dir", str(data_dir), "index", "--rebuild")
    assert result.returncode == 0, result.stderr
    assert "indexed 1 article(s): 1 added" in result.stdout
    assert "Traceback" not in result.stderr
    [folder] = store_folders(data_dir)
    assert (folder / "chroma.sqlite3").read_bytes().startswith(b"SQLite format 3")
    assert_answers_from_the_article(make_assistant(corpus_dir, data_dir))


@pytest.mark.parametrize("damage", [garbage, binary_manifest])
def test_a_garbage_store_is_recovered_by_the_next_ask(corpus_dir, data_dir, make_assistant, damage):
    make_assistant(corpus_dir, data_dir).sync()
    reason = damage(data_dir)
    result = run_cli("--corpus-dir", str(corpus_dir), "--data-dir", str(data_dir), "ask", QUESTION)
    assert result.returncode == 0, result.stderr
    assert ANSWER_WORDS in result.stdout.replace("**", "")
    [line] = message_lines(result.stderr)
    assert line.startswith("index: the store was damaged (") and reason in line
    assert "rebuilt 1 article(s)" in line and len(list(data_dir.glob("damaged-*"))) == 1


def test_a_missing_corpus_folder_keeps_the_index(corpus_dir, data_dir, make_assistant):
    bot = make_assistant(corpus_dir, data_dir)
    bot.sync()
    live_before = (data_dir / f"{LIVE}.json").read_bytes()
    missing = corpus_dir.parent / "no-such-corpus"
    for command in (["ask", QUESTION], ["index"], ["articles"]):
        result = run_cli("--corpus-dir", str(missing), "--data-dir", str(data_dir), *command)
        assert result.returncode == 2, (command, result.stderr)
        [line] = message_lines(result.stderr)
        assert str(missing) in line and "missing" in line and "index of 1 article(s) is kept" in line
    assert (data_dir / f"{LIVE}.json").read_bytes() == live_before
    again = make_assistant(corpus_dir, data_dir)
    assert again.sync().texts_embedded == 0
    assert_answers_from_the_article(again)


def _read_only(data_dir: Path, *command: str) -> list[str]:
    """``command`` run with ``data_dir`` read-only: a read-only bind mount for root (who may write to any
    folder whatever its mode), the folder's mode for anyone else."""
    if os.geteuid() == 0:
        if shutil.which("unshare") is None or shutil.which("mount") is None:
            pytest.skip("running as root without unshare/mount: cannot make a folder read-only")
        quoted = " ".join(f"'{part}'" for part in command)
        return ["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{data_dir}' '{data_dir}' && exec {quoted}"]
    for path in [data_dir, *data_dir.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    return list(command)


def test_a_read_only_data_dir_answers_but_does_not_index(corpus_dir, data_dir, make_assistant):
    make_assistant(corpus_dir, data_dir).sync()
    (corpus_dir / "late.txt").write_text("A late arrival\n\nThe harbour festival in Kelso drew nine thousand visitors "
                                         "this summer, organisers said.\n", encoding="utf-8")
    files_before = sorted((p.relative_to(data_dir), p.stat().st_mtime_ns) for p in data_dir.rglob("*"))
    cli = [sys.executable, "-m", "assistant", "--corpus-dir", str(corpus_dir), "--data-dir", str(data_dir)]
    env = {**os.environ, **OFFLINE_ENVIRONMENT}
    try:
        asked = subprocess.run(_read_only(data_dir, *cli, "ask", QUESTION), capture_output=True, text=True, env=env, timeout=180)
        listed = subprocess.run(_read_only(data_dir, *cli, "articles"), capture_output=True, text=True, env=env, timeout=180)
        indexed = subprocess.run(_read_only(data_dir, *cli, "index"), capture_output=True, text=True, env=env, timeout=180)
    finally:
        for path in [data_dir, *data_dir.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert asked.returncode == 0, asked.stderr
    assert ANSWER_WORDS in asked.stdout.replace("**", "")
    assert any("late.txt" in line and "read-only" in line for line in message_lines(asked.stderr))
    assert listed.returncode == 0 and listed.stdout.startswith(SEED_ID), listed.stderr
    assert indexed.returncode == 2
    [line] = message_lines(indexed.stderr)
    assert line.startswith("error: the data dir") and "read-only" in line
    assert sorted((p.relative_to(data_dir), p.stat().st_mtime_ns) for p in data_dir.rglob("*")) == files_before


# -- the disk refusing writes is not damage -----------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 40 MB tmpfs of the test's own (needs root, as `make setup` runs): a disk that can really fill up."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()[:80]}): needs root")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=True)


def index_files(data_dir: Path) -> list[Path]:
    """The store and its manifests (not the embedding model's export, a cache the CLI tries to write)."""
    return sorted(p.relative_to(data_dir) for p in data_dir.rglob("*") if "onnx-minilm" not in p.parts)


def fill(disk: Path) -> None:
    """Write until the disk refuses: from here on every write on it fails with ENOSPC."""
    with (disk / "filler").open("wb") as filler:
        try:
            while True:
                filler.write(b"\0" * (1024 * 1024))
                filler.flush()
        except OSError:
            pass
    assert shutil.disk_usage(disk).free < 64 * 1024


def test_a_full_disk_answers_from_the_intact_store_and_moves_nothing(corpus_dir, small_disk, make_assistant):
    """Before: ``ask`` on a full disk failed with an internal ENOSPC and moved the intact store aside."""
    data_dir = small_disk / "index"
    make_assistant(corpus_dir, data_dir).sync()
    files_before = index_files(data_dir)
    fill(small_disk)
    (corpus_dir / "late.txt").write_text("A late arrival\n\nThe harbour festival in Kelso drew nine thousand visitors "
                                         "this summer, organisers said.\n", encoding="utf-8")
    cli = ["--corpus-dir", str(corpus_dir), "--data-dir", str(data_dir)]
    asked = run_cli(*cli, "ask", QUESTION)
    indexed = run_cli(*cli, "index")
    assert asked.returncode == 0, asked.stderr
    assert ANSWER_WORDS in asked.stdout.replace("**", "")
    assert f"warning: the disk holding {data_dir} is full: answering from the index as it is" in asked.stderr
    assert indexed.returncode == 2
    [line] = message_lines(indexed.stderr)
    assert line.startswith(f"error: the disk holding {data_dir} is full")
    assert index_files(data_dir) == files_before  # nothing moved aside


def test_indexing_on_a_full_disk_stops_in_one_line_and_the_index_keeps_answering(corpus_dir, small_disk, make_assistant):
    data_dir = small_disk / "index"
    bot = make_assistant(corpus_dir, data_dir)
    assert_answers_from_the_article(bot)
    fill(small_disk)
    sentence = "The harbour festival in Kelso drew nine thousand visitors this summer, organisers said. "
    (corpus_dir / "festival.txt").write_text("Festival\n\n" + sentence * 2000, encoding="utf-8")
    report = bot.sync(progress=None)
    assert report.disk == (f"indexing stopped: the disk holding {data_dir} is full; "
                           "the index as it was keeps answering")
    assert_answers_from_the_article(bot)
    assert not list(data_dir.glob("damaged-*")) and not list(data_dir.glob("*.tmp"))
    (small_disk / "filler").unlink()  # space again: the next process finds the index intact and adds the article
    again = make_assistant(corpus_dir, data_dir)
    report = again.sync(progress=None)
    assert report.recovered is None and report.disk is None and "festival" in report.added
    assert_answers_from_the_article(again)


@pytest.mark.parametrize(("error", "condition"), [
    (OSError(28, "No space left on device"), "is full"),
    (OSError(5, "Input/output error"), "reports I/O errors"),
    (OSError(13, "Permission denied"), "may not be written"),
    (RuntimeError("error returned from database: (code: 13) database or disk is full"), "is full"),
    (RuntimeError("attempt to write a readonly database"), "may not be written"),
    (RuntimeError("file is not a database"), None),
    (OSError(2, "No such file or directory"), None),
])
def test_disk_conditions_are_told_from_damage(error, condition):
    from assistant.store import disk_condition

    wrapped = ValueError("probe failed")
    wrapped.__cause__ = error
    assert disk_condition(error) == condition
    assert disk_condition(wrapped) == condition
