"""Cold start, torch path against ONNX path, in one run: what a script or a fresh server waits for.

Why: a one-off `assistant ask` used to spend ~6 s importing sentence-transformers and torch to embed
one question. The ONNX path (assistant/onnx_embeddings.py) embeds with onnxruntime + tokenizers from
a checked export. Each path gets its own data dir, built by that path (`ASSISTANT_ONNX_EXPORT=false`
is the torch path), and the same measurements, as real subprocesses:
  * index build: `assistant index` of a generated corpus from scratch (wall, texts embedded per second;
    the ONNX path's first build includes loading torch once and exporting);
  * cold `assistant ask` on the built index, median of ``--repeats`` (the OS file cache is warm after
    one untimed run: a "second run of the day");
  * `assistant --help`, median of ``--repeats``;
  * a fresh `assistant serve`: seconds from launch to the first answer over HTTP, and its peak RSS
    (VmHWM) after that question;
  * `python -X importtime` totals for `--help`, `articles` and `ask`, with the heavy packages each loads.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time

from _common import (ASSISTANT_CLI, PYTHON, SHIPPED_CORPUS, free_port, median, proc_status, report, run_timed,
                     scratch_dir, stop, subprocess_env, table, write_corpus)
from memory import START_TIMEOUT, ask_over_http, wait_for_port

QUESTION = "How many of the participants saw their symptoms subside?"
PATHS = {"torch (sentence-transformers)": {"ASSISTANT_ONNX_EXPORT": "false"}, "ONNX export": {}}
HEAVY = ("torch", "sentence_transformers", "transformers", "gradio", "langchain_openai", "chromadb", "onnxruntime")


def first_answer(where: list[str], env: dict) -> tuple[float, int]:
    """Seconds from launching `assistant serve` to its first answer, and its peak RSS (MiB) after it."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([ASSISTANT_CLI, *where, "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=subprocess_env(**env))
    try:
        wait_for_port(port, server, START_TIMEOUT)
        ask_over_http(port, QUESTION)
        return time.perf_counter() - started, proc_status(server.pid, "VmHWM")
    finally:
        stop(server)


def import_profile(args: list[str], env: dict) -> tuple[float, str]:
    """Total self time of every import (seconds) and which heavy packages got imported."""
    done = subprocess.run([PYTHON, "-X", "importtime", "-m", "assistant", *args], capture_output=True, text=True,
                          timeout=300, env=subprocess_env(**env))
    if done.returncode != 0:  # a failed command imports less: its profile would flatter it
        raise RuntimeError(f"assistant {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-400:]}")
    total, loaded = 0, set()
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|(\s*)(\S+)", line)
        if match:
            total += int(match.group(1))
            loaded.add(match.group(3))
    return total / 1e6, ", ".join(name for name in HEAVY if name in loaded) or "none of them"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--articles", type=int, default=10, help="generated articles in the index-build corpus")
    args = parser.parse_args()

    with report("cold_start", "cold start: torch path against ONNX path"), scratch_dir("cold") as tmp:
        build_corpus = tmp / "generated"
        write_corpus(build_corpus, args.articles)
        rows, imports = {}, []
        for name, env in PATHS.items():
            key = name.split()[0]
            where = ["--corpus-dir", str(SHIPPED_CORPUS), "--data-dir", str(tmp / f"index-{key}")]
            build_where = ["--corpus-dir", str(build_corpus), "--data-dir", str(tmp / f"build-{key}")]
            seconds, out = run_timed([ASSISTANT_CLI, *build_where, "index"], **env)
            embedded = int(re.search(r"(\d+) texts embedded", out).group(1))
            run_timed([ASSISTANT_CLI, *where, "index"], **env)
            run_timed([ASSISTANT_CLI, *where, "ask", QUESTION], **env)  # untimed: warms the OS file cache
            asks = [run_timed([ASSISTANT_CLI, *where, "ask", QUESTION], **env)[0] for _ in range(args.repeats)]
            helps = [run_timed([ASSISTANT_CLI, "--help"], **env)[0] for _ in range(args.repeats)]
            to_answer, peak = first_answer(where, env)
            rows[name] = [median(asks), min(asks), median(helps), to_answer, peak, seconds, embedded / seconds]
            for label, command in (("--help", ["--help"]), ("articles", [*where, "articles"]),
                                   ("ask", [*where, "ask", QUESTION])):
                imports.append([name, f"assistant {label}", *import_profile(command, env)])

        print(f"question: {QUESTION!r}; median of {args.repeats} where stated\n")
        metrics = ["cold `assistant ask`, median s", "cold `assistant ask`, min s", "`assistant --help`, median s",
                   "fresh server: launch to first answer, s", "server peak RSS after one question, MiB",
                   f"index {args.articles} generated articles from scratch, s", "index build, texts embedded per s"]
        names = list(rows)
        print(table(["measure", *names], [[metric, *(rows[n][i] for n in names)] for i, metric in enumerate(metrics)],
                    digits=2))
        print("\n## `python -X importtime -m assistant ...`: total import time and the heavy packages loaded")
        print(table(["path", "command", "imports s", "heavy packages imported"], imports, digits=2))
        print(f"\n$ .venv/bin/python bench/cold_start.py --repeats {args.repeats} --articles {args.articles}")


if __name__ == "__main__":
    main()
