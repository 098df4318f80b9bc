"""What the benchmarks share: timing, percentiles, tables, result files, generated articles.

Each benchmark prints small tables and writes the same text to ``bench/results/NAME.txt``
(gitignored). Generated corpora and indexes live in temporary folders, removed at the end.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant.config import OFFLINE_ENVIRONMENT

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results"
PYTHON = sys.executable
ASSISTANT_CLI = str(Path(PYTHON).with_name("assistant"))
SHIPPED_CORPUS = PROJECT / "corpus"
SEED_QUESTIONS = PROJECT / "tests" / "data" / "seed_questions.yaml"
TEMPLATE_ARTICLE = PROJECT / "tests" / "data" / "second_article" / "river-cleanup.md"


# -- timing and statistics --------------------------------------------------------------------
class Stopwatch:
    """``with Stopwatch() as t: ...`` then ``t.seconds``."""

    def __enter__(self) -> "Stopwatch":
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1]


median = statistics.median


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


# -- output -----------------------------------------------------------------------------------
def table(headers: list[str], rows: list[list], digits: int = 1) -> str:
    """A Markdown table; numbers right-aligned."""
    cells = [[fmt(c, digits) for c in row] for row in rows]
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *cells)]
    numeric = [all(isinstance(row[i], (int, float)) or row[i] is None for row in rows) for i in range(len(headers))]

    def line(items):
        return "| " + " | ".join(s.rjust(w) if num else s.ljust(w) for s, w, num in zip(items, widths, numeric)) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if num else ("-" * (w + 2)) for w, num in zip(widths, numeric)) + "|"
    return "\n".join([line(headers), rule] + [line(r) for r in cells])


def machine_line() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · load avg {load}"


def _cpu_seconds() -> tuple[float, float]:
    """(CPU seconds all processes have been busy, CPU seconds of this process and its waited-for children)."""
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    ours = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[11:15]  # utime stime cutime cstime
    return (user + nice + system + irq + softirq + steal) / tick, sum(map(int, ours)) / tick


def _process_ticks() -> dict[int, int]:
    ticks = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ticks[int(stat.parent.name)] = sum(map(int, stat.read_text().rsplit(")", 1)[1].split()[11:13]))
        except (OSError, ValueError):
            continue
    return ticks


def busy_processes(interval: float = 1.0, threshold: float = 20.0) -> str:
    """Other processes using more than ``threshold``% of a core right now (they would skew the numbers)."""
    before = _process_ticks()
    time.sleep(interval)
    after, tick = _process_ticks(), os.sysconf("SC_CLK_TCK")
    busy = []
    for pid, used in after.items():
        share = 100 * (used - before.get(pid, used)) / tick / interval
        if pid != os.getpid() and share > threshold:
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            busy.append(f"{share:.0f}% {argv.strip()[:90]}")
    return "; ".join(busy) or "none"


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
            stream.flush()
        return len(text)


@contextlib.contextmanager
def report(name: str, description: str):
    """Print to the terminal and to ``bench/results/NAME.txt``; header names the command and machine."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.txt"
    with path.open("w", encoding="utf-8") as file, contextlib.redirect_stdout(_Tee(sys.stdout, file)):
        command = " ".join([".venv/bin/python", os.path.relpath(sys.argv[0], PROJECT), *sys.argv[1:]])
        print(f"# {name}: {description}\n$ {command}\n{machine_line()}\nbusy processes at start: {busy_processes()}\n")
        started, (busy_before, ours_before) = time.perf_counter(), _cpu_seconds()
        yield
        wall = time.perf_counter() - started
        busy, ours = _cpu_seconds()
        others = max(0.0, (busy - busy_before) - (ours - ours_before))
        print(f"\n(total run time {wall:.0f} s; other processes used {others:.0f} CPU-s meanwhile, "
              f"{100 * others / wall / (os.cpu_count() or 1):.0f}% of the machine; "
              f"written to {os.path.relpath(path, PROJECT)})")


@contextlib.contextmanager
def scratch_dir(prefix: str):
    """A temporary folder for generated corpora and indexes, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- the assistant --------------------------------------------------------------------------------
def load_model():
    """MiniLM loaded once and shared by every Assistant of a run (model load is not what we time)."""
    from assistant.config import bundled_model_path
    from assistant.index import load_embeddings

    return load_embeddings(bundled_model_path())


def subprocess_env(**extra: str) -> dict:
    """Environment for child processes: offline, plus ``extra``."""
    return {**os.environ, **OFFLINE_ENVIRONMENT, **extra}


def run_timed(args: list[str], timeout: float = 300, **extra_env: str) -> tuple[float, str]:
    """Wall time and stdout of a child process; fails loudly on a non-zero exit."""
    with Stopwatch() as t:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=subprocess_env(**extra_env))
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-800:]}")
    return t.seconds, done.stdout


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate a server the bench started, then kill it if it has not stopped within ``timeout`` s."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def proc_status(pid: int | str, field: str) -> int:
    """A ``kB`` field of /proc/PID/status (VmRSS, VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024)
    raise KeyError(field)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_questions() -> list[str]:
    """Every question of tests/data/seed_questions.yaml (answerable, unanswerable, follow-up last turns)."""
    from assistant.evaluation import load_qa_file

    _, items = load_qa_file(SEED_QUESTIONS)
    return [item.question for item in items]


# -- generated articles ---------------------------------------------------------------------------
# Names in river-cleanup.md and the pools that replace them, so every copy reads as its own story.
# A person's surname alone ("Okafor said") is replaced by the surname of the same substitute.
_NAMES = {
    "Millbrook": ["Ashford", "Brambleton", "Carrow", "Dunmore", "Elsworth", "Fenwick", "Glenrath"],
    "Alder": ["Severn", "Wren", "Otter", "Kestrel", "Heron", "Linnet", "Mallow", "Teal", "Rook", "Finch", "Swale"],
    "Helen Okafor": ["Ruth Adeyemi", "Clara Lindqvist", "Maya Brennan", "Joan Petrakis", "Ines Moreau"],
    "Tomasz Rudnicki": ["Pavel Novak", "Arjun Mehta", "Liam Gallagher", "Kenji Sato", "Omar Haddad", "Sven Olsen"],
    "Priya Ramaswamy": ["Anna Kowalska", "Lucia Ferreira", "Hannah Weiss", "Fatima Bello"],
    "Gordon Featherstone": ["Derek Holloway", "Martin Crane", "Neil Ashworth"],
    "Harlow": ["Stanton", "Oakley", "Pennick", "Thorne", "Whitby", "Yelland", "Corbin", "Hadley"],
    "Coldbrook": ["Greystone", "Marsh End", "Kingsmead", "Blackwater", "Southgate"],
    "Westfield": ["Northgate", "Eastbury", "Riverside", "Hillcrest"],
}
_SURNAMES = {full.split()[-1]: full for full in _NAMES if " " in full}
_NAME_PATTERN = re.compile("|".join(sorted(map(re.escape, [*_NAMES, *_SURNAMES]), key=len, reverse=True)))
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _shift_number(match: re.Match, copy: int) -> str:
    text = match.group()
    if "." in text:
        return f"{float(text) + copy * 0.1:.1f}"
    value = int(text.replace(",", "")) + copy
    return f"{value:,}" if "," in text or value >= 10_000 else str(value)


def make_article(copy: int) -> tuple[str, str]:
    """(file name, markdown) of one distinct variant of the river-cleanup test article.

    Copy ``n`` rotates the body paragraphs by ``n``, adds ``n`` to every number (the title's too),
    and swaps every name for one from a pool, so each copy has its own title, file name and hash.
    """
    title, *body, source = [p for p in TEMPLATE_ARTICLE.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    shift = copy % len(body)
    body = body[shift:] + body[:shift]
    names = {key: pool[(copy * (i + 1)) % len(pool)] for i, (key, pool) in enumerate(_NAMES.items())}
    names.update({surname: names[full].split()[-1] for surname, full in _SURNAMES.items()})

    def rewrite(text: str) -> str:
        text = _NAME_PATTERN.sub(lambda m: names[m.group()], text)
        return _NUMBER.sub(lambda m: _shift_number(m, copy), text)

    title = title.replace("Three Tonnes", f"{3 + copy} Tonnes")
    slug = names["Millbrook"].lower().replace(" ", "-")
    source = source.replace("river-cleanup", f"{slug}-river-cleanup-{copy}")
    markdown = "\n\n".join([rewrite(title)] + [rewrite(p) for p in body] + [source]) + "\n"
    return f"{slug}-cleanup-{copy:03d}.md", markdown


def write_corpus(folder: Path, count: int, first: int = 0) -> list[Path]:
    """Write ``count`` distinct generated articles (copies ``first``..) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for copy in range(first, first + count):
        name, text = make_article(copy)
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def parse_sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]
