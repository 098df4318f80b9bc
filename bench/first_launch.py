"""First launch: `assistant serve` on an empty data dir, as `make run` starts it on a fresh machine.

Why: the first thing every new user sees. The server answers the page at once and indexes behind it
(issue 17); this measures, per run, from launch: the port accepting connections, the page answering
(HTTP 200 with the app), the scan being over (the first REST answer waits for it), and that first
answer. Each run gets a new empty data dir; the shipped corpus; the environment `make run` sets.

    .venv/bin/python bench/first_launch.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import subprocess
import time
import urllib.request

from _common import (ASSISTANT_CLI, SHIPPED_CORPUS, free_port, median, proc_status, report, scratch_dir, stop,
                     subprocess_env, table)
from memory import START_TIMEOUT, ask_over_http, wait_for_port

QUESTION = "What is a K-hole?"


def page_answers(port: int, timeout: float) -> None:
    """Returns once GET / gives the page (the chat app's HTML), polling."""
    until = time.perf_counter() + timeout
    while time.perf_counter() < until:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                if response.status == 200 and b"gradio" in response.read().lower():
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"no page on {port} after {timeout} s")


def one_launch(data_dir) -> list[float]:
    """Seconds from launch to: port open, page served, first answer; then the peak RSS in MiB."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [ASSISTANT_CLI, "--corpus-dir", str(SHIPPED_CORPUS), "--data-dir", str(data_dir), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=subprocess_env(ASSISTANT_DEFAULT_ARTICLE="ketamine-opioid"))
    try:
        wait_for_port(port, server, START_TIMEOUT)
        listening = time.perf_counter() - started
        page_answers(port, START_TIMEOUT)
        page = time.perf_counter() - started
        answer = ask_over_http(port, QUESTION)
        assert answer["found"], answer
        return [listening, page, time.perf_counter() - started, proc_status(server.pid, "VmHWM")]
    finally:
        stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with report("first_launch", "first launch on an empty data dir"), scratch_dir("first") as tmp:
        runs = [one_launch(tmp / f"data-{n}") for n in range(args.repeats)]
        rows = [[f"run {n + 1}", *run] for n, run in enumerate(runs)]
        rows.append(["median", *(median([run[i] for run in runs]) for i in range(4))])
        print(table(["launch", "port open s", "page served s", "first answer s", "peak RSS MiB"], rows, digits=1))
        print(f"\nquestion: {QUESTION!r}, REST /ask (it waits for the first scan); each run a new empty data dir")


if __name__ == "__main__":
    main()
