"""Load: N visitors asking at once through a real `assistant serve`, while the corpus changes under it.

Why: the web chat serves several people from one process on a 2-core laptop. Before issue 8 every
question, re-scan and page load shared one queue of concurrency 1 (50 clients: p95 5.93 s), and one
slow job blocked everyone. Targets at 50 clients, extractive backend: 0 errors, p95 <= 2 s.

  * server: `assistant serve` in a subprocess on a free port, over a copy of the shipped corpus plus
    one generated article (2 articles), its index built at start-up, warmed by one question.
  * clients: N threads, each its own gradio_client ``Client`` (its own session), asking the seed
    question set about all articles (``/ask``) back to back for ``--seconds``. The clients run on the
    same cores as the server, as a visitor's browser would on a laptop. gradio_client costs 60-90 ms of
    CPU per answer on those cores, so the same runs are repeated with light REST visitors (``--visitors``)
    to show what the server itself sustains.
  * during each run: a third of the way in, a new article is dropped into the corpus and a re-scan
    runs through ``/rescan`` (it embeds that article while the questions keep coming); the article is
    removed and re-scanned away after the run.
  * the extractive runs are made twice, on a server with its answer cache (the default) and on one
    without (``ASSISTANT_ANSWER_CACHE=0``): the visitors cycle through the same 68 questions, so the
    first shows repeats, the second what every answer costs when no two questions are alike.
  * figures per N: answers, errors, requests/s, p50/p95/max latency of the answers, the re-scan's own
    time, and the server's RSS at the start and its peak (VmHWM) at the end of the run.
  * slow-session variant (``--slow-clients``): a second server answering with the openai backend,
    pointed at a stand-in LLM (tests/fake_llm.py) that replies at once, except to one session whose
    question asks it to answer slowly, which takes ``--slow-seconds`` (75 by default). The other
    sessions' p95 is reported for a run without and a run with that slow session going on.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from _common import (ASSISTANT_CLI, PROJECT, SHIPPED_CORPUS, free_port, make_article, parse_sizes, percentile,
                     proc_status, report, scratch_dir, seed_questions, stop, subprocess_env, table, write_corpus)
from memory import ask_over_http

sys.path.insert(0, str(PROJECT / "tests"))
from fake_llm import MODEL, FakeLLM  # noqa: E402

START_TIMEOUT = 300
LLM_REPLY = "Stanford researchers report that ketamine may work on the brain's opioid system [1]."
SLOW_QUESTION = "Please answer slowly: what do researchers suspect ketamine acts on?"


@dataclass
class RunResult:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rescan_seconds: float | None = None
    slow_seconds: float | None = None


class Server:
    """`assistant serve` in a subprocess, with its corpus and index in ``folder``."""

    def __init__(self, folder: Path, **env: str):
        self.corpus = folder / "corpus"
        self.corpus.mkdir(parents=True)
        for source in SHIPPED_CORPUS.iterdir():
            shutil.copyfile(source, self.corpus / source.name)
        write_corpus(self.corpus, 1)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        command = [ASSISTANT_CLI, "--corpus-dir", str(self.corpus), "--data-dir", str(folder / "index"), "serve",
                   "--port", str(self.port)]
        self.log = (folder / "server.log").open("wb")
        self.process = subprocess.Popen(command, env=subprocess_env(**env), stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"assistant serve exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url, timeout=5):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise TimeoutError(f"assistant serve not up within {START_TIMEOUT} s")
        client(self.url).predict(seed_questions()[0], "all", api_name="/ask")  # waits for the warm-up

    def rss(self, field_name: str = "VmRSS") -> int:
        return proc_status(self.process.pid, field_name)

    def cpu_seconds(self) -> float:
        """CPU time the server has used (user + system), to tell its cost per answer from the clients'."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        stop(self.process, timeout=30)
        self.log.close()


def client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


class RestSession:
    """A visitor through Gradio's plain REST API (POST, then read the event stream), as a script without
    gradio_client would ask: a few ms of client CPU per answer where gradio_client spends 60-90 ms. On
    the server's own 2 cores that difference decides the 50-client figures, so both are measured."""

    def __init__(self, url: str):
        self.port = int(url.rstrip("/").rsplit(":", 1)[1])

    def predict(self, question: str, scope: str, api_name: str) -> dict:
        assert scope == "all" and api_name == "/ask", "only what the visitors ask"
        return ask_over_http(self.port, question)


SESSIONS = {"gradio_client": client, "REST": RestSession}


def _visitor(url: str, session_kind: str, questions: list[str], offset: int, until: float, result: RunResult) -> None:
    """One session asking back to back; its own Client, as one browser tab has its own session."""
    try:
        session = SESSIONS[session_kind](url)
    except Exception as error:  # noqa: BLE001 - a refused connection is a finding, not a crash
        result.errors.append(f"connect: {type(error).__name__}: {error}")
        return
    i = offset
    while time.monotonic() < until:
        question = questions[i % len(questions)]
        i += 1
        started = time.perf_counter()
        try:
            answer = session.predict(question, "all", api_name="/ask")
            if "answer" not in answer:
                raise ValueError(f"no answer in {answer!r}"[:200])
        except Exception as error:  # noqa: BLE001
            result.errors.append(f"{type(error).__name__}: {str(error)[:160]}")
            continue
        result.latencies.append(time.perf_counter() - started)


def _drop_and_rescan(server: Server, copy: int, at: float, result: RunResult) -> None:
    """A new article appears in the corpus and someone presses "Re-scan corpus"."""
    time.sleep(max(0.0, at - time.monotonic()))
    name, text = make_article(copy)
    (server.corpus / name).write_text(text, encoding="utf-8")
    started = time.perf_counter()
    try:
        client(server.url).predict("all", api_name="/rescan")
        result.rescan_seconds = time.perf_counter() - started
    except Exception as error:  # noqa: BLE001
        result.errors.append(f"rescan: {type(error).__name__}: {str(error)[:160]}")


def _slow_session(url: str, result: RunResult) -> None:
    started = time.perf_counter()
    try:
        client(url).predict(SLOW_QUESTION, "all", api_name="/ask")
        result.slow_seconds = time.perf_counter() - started
    except Exception as error:  # noqa: BLE001
        result.errors.append(f"slow session: {type(error).__name__}: {str(error)[:160]}")


def run(server: Server, clients: int, seconds: float, *, drop: int | None = None, slow: bool = False,
        session_kind: str = "gradio_client") -> RunResult:
    """``clients`` visitors for ``seconds``; optionally a file drop + re-scan, and one slow session."""
    questions, result = seed_questions(), RunResult()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=_visitor, args=(server.url, session_kind, questions, 7 * i, until, result))
               for i in range(clients)]
    if drop is not None:
        threads.append(threading.Thread(target=_drop_and_rescan, args=(server, drop, until - seconds * 2 / 3, result)))
    background = threading.Thread(target=_slow_session, args=(server.url, result), daemon=True) if slow else None
    if background:
        background.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if drop is not None:  # back to the two articles for the next run
        (server.corpus / make_article(drop)[0]).unlink(missing_ok=True)
        client(server.url).predict("all", api_name="/rescan")
    return result


def measured_run(server: Server, label: str, clients: int, seconds: float, **options) -> tuple[list, RunResult]:
    """One ``run`` and its table row."""
    rss_start, cpu_start, clients_cpu_start = server.rss(), server.cpu_seconds(), time.process_time()
    result = run(server, clients, seconds, **options)
    answers, cpu = result.latencies, server.cpu_seconds() - cpu_start
    clients_cpu = time.process_time() - clients_cpu_start
    row = [
        label, clients, len(answers), len(result.errors), round(len(answers) / seconds, 1),
        percentile(answers, 50) if answers else None, percentile(answers, 95) if answers else None,
        max(answers) if answers else None, round(1000 * cpu / len(answers)) if answers else None,
        round(1000 * clients_cpu / len(answers)) if answers else None,
        result.rescan_seconds, rss_start, server.rss("VmHWM"),
    ]
    return row, result


HEADERS = ["server", "clients", "answers", "errors", "req/s", "p50 s", "p95 s", "max s", "server CPU ms/answer",
           "client CPU ms/answer",
           "re-scan s", "RSS start MiB", "RSS peak MiB"]


def extractive_runs(counts: list[int], seconds: float, session_kinds: list[str]) -> None:
    """The same runs on a server with the answer cache (the default) and on one without it: the visitors
    cycle through 68 questions, so with the cache most answers are repeats; without it every answer
    pays for retrieval and the cross-encoder, as wholly new questions would. Each kind of client gets a
    fresh server, so none inherits a cache another one warmed."""
    rows, problems = [], []
    for cache_label, cache in (("answer cache on", "512"), ("answer cache off", "0")):
        for kind in session_kinds:
            with scratch_dir("load") as folder:
                server = Server(folder, ASSISTANT_ANSWER_CACHE=cache)
                try:
                    server.wait_ready()
                    for n, clients in enumerate(counts):
                        label = f"extractive, {cache_label}, {kind} visitors"
                        row, result = measured_run(server, label, clients, seconds, drop=100 + n, session_kind=kind)
                        rows.append(row)
                        problems += result.errors[:3]
                finally:
                    server.stop()
    print(table(HEADERS, rows, digits=2))
    if problems:
        print("\nfirst errors:\n" + "\n".join(f"  {p}" for p in problems))


def slow_session_runs(clients: int, seconds: float, slow_seconds: float) -> None:
    words = len(LLM_REPLY.split(" "))
    with FakeLLM(LLM_REPLY, slow_marker="slowly", slow_delay=slow_seconds / words) as llm, scratch_dir("load-slow") as folder:
        server = Server(folder, ASSISTANT_BACKEND="openai", ASSISTANT_OPENAI_BASE_URL=llm.base_url,
                        ASSISTANT_OPENAI_MODEL=MODEL, ASSISTANT_LLM_TIMEOUT=str(slow_seconds + 60))
        try:
            server.wait_ready()
            rows = []
            for slow in (False, True):
                label = f"openai, {'with' if slow else 'no'} slow session"
                row, result = measured_run(server, label, clients, seconds, slow=slow)
                rows.append(row)
                if slow:
                    slow_result = result
        finally:
            server.stop()
    print(table(HEADERS, rows, digits=2))
    finished = f"{slow_result.slow_seconds:.1f} s" if slow_result.slow_seconds else "still running when the run ended"
    print(f"\nthe slow session's own answer ({slow_seconds:g} s of LLM writing): {finished}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="1,10,50", help="comma-separated numbers of concurrent visitors")
    parser.add_argument("--seconds", type=float, default=60, help="how long each run asks")
    parser.add_argument("--visitors", default="gradio_client,REST",
                        help=f"comma-separated kinds of visitor client, of {', '.join(SESSIONS)}")
    parser.add_argument("--slow-clients", type=int, default=10, help="visitors in the slow-session variant (0: skip it)")
    parser.add_argument("--slow-seconds", type=float, default=75, help="how long the slow session's answer takes")
    args = parser.parse_args()
    with report("load", "concurrent visitors against a real `assistant serve`"):
        kinds = [kind.strip() for kind in args.visitors.split(",") if kind.strip()]
        unknown = [kind for kind in kinds if kind not in SESSIONS]
        if unknown or not kinds:
            parser.error(f"--visitors: unknown kind {unknown}; choose from {', '.join(SESSIONS)}")
        extractive_runs(parse_sizes(args.clients), args.seconds, kinds)
        if args.slow_clients:
            print()
            slow_session_runs(args.slow_clients, args.seconds, args.slow_seconds)


if __name__ == "__main__":
    main()
