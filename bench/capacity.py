"""Capacity: how many people one `assistant serve` serves, from an open-loop arrival rate.

Why: a fixed number of clients asking back to back (bench/load.py) measures a queue, not use. Real
visitors arrive when they like: here questions arrive as a Poisson process at 25, 50, 75, 100 and
150 % of the measured capacity, whatever the server's state, and each waits for its own reply.

  * server: `assistant serve` in a subprocess over the shipped corpus plus one generated article,
    with the answer cache off (``ASSISTANT_ANSWER_CACHE=0``) and every question distinct (the seed
    questions with a varying lead-in), so no reply is a cached one.
  * capacity: answers/s of 8 REST visitors asking back to back for ``--probe-seconds``.
  * each rate: ``--seconds`` of arrivals through Gradio's REST ``/ask`` (a few ms of client CPU each;
    the clients share the 2 cores with the server, as on a laptop). Per rate: answers/s, p50 / p95 /
    p99 and the slowest of the answers, how many took over ANSWER_TARGET, how many were told "busy" and
    how fast, other errors, and the server's RSS at the end of the arrivals and again after
    QUIET_SECONDS without questions.
  * ``--base-rate R``: the rates are shares of R answers/s (an earlier run's capacity) instead of this run's own.
  * ``--soak-rounds N``: after the rates, N more rounds at 100 %, with the RSS after each once quiet: whether
    memory keeps growing with the questions answered or stays at the high-water mark of the busiest rate.
  * people per server: a person asking every 30 s is 1/30 question per second; the figure is the
    highest rate tested with p95 <= 1 s, no "busy" and no error, times 30.

    .venv/bin/python bench/capacity.py [--compare-env 'ASSISTANT_ANSWER_SLOTS=2 MALLOC_ARENA_MAX=2' ...]  # more sweeps
"""

from __future__ import annotations

import argparse
import itertools
import random
import threading
import time
from dataclasses import dataclass, field

from _common import machine_line, percentile, report, scratch_dir, seed_questions, table
from load import Server
from memory import ask_over_http

LEAD_INS = ["", "In the article, ", "According to the piece, ", "Quick question: ", "Tell me, ", "I wonder: ",
            "From the text, ", "Please say: ", "One thing: ", "Briefly, ", "Out of interest, ", "Can you say: "]
RATE_SHARES = (0.25, 0.5, 0.75, 1.0, 1.5)
SECONDS_BETWEEN_QUESTIONS = 30  # one person's pace, for the people-per-server figure
P95_TARGET = 1.0
BUSY_TARGET = 1.0  # a visitor told "busy" is told within this (issue 16)
ANSWER_TARGET = 5.0  # and one answered, within this
QUIET_SECONDS = 5.0  # after each rate, the server's RSS again once it has been idle this long (ui/heap.py trims)


def distinct_questions():
    """An endless supply of questions no two alike: each seed question behind each lead-in, then numbered."""
    base = [q for q in seed_questions() if len(q) < 300]
    for round_number in itertools.count():
        for lead_in in LEAD_INS:
            for question in base:
                tail = f" ({round_number})" if round_number else ""
                yield f"{lead_in}{question[0].lower() if lead_in else question[0]}{question[1:]}{tail}"


@dataclass
class Outcomes:
    answered: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ask(self, port: int, question: str) -> None:
        began = time.monotonic()
        try:
            ask_over_http(port, question)
            kind, value = self.answered, time.monotonic() - began
        except Exception as error:  # noqa: BLE001 - a failed request is a finding, not a crash
            busy = "busy" in str(error) or getattr(error, "code", None) == 503  # told in the answer, or at the door
            kind, value = (self.busy, time.monotonic() - began) if busy else (self.errors, str(error)[:160])
        with self.lock:
            kind.append(value)


def measure_capacity(port: int, questions, seconds: float, visitors: int = 8) -> float:
    """Answers per second with ``visitors`` asking back to back (no think time)."""
    outcomes, lock, until = Outcomes(), threading.Lock(), time.monotonic() + seconds

    def visit() -> None:
        while time.monotonic() < until:
            with lock:
                question = next(questions)
            outcomes.ask(port, question)

    started = time.monotonic()
    threads = [threading.Thread(target=visit) for _ in range(visitors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(outcomes.answered) / (time.monotonic() - started)


def open_loop(port: int, questions, rate: float, seconds: float, seed: int) -> tuple[Outcomes, float]:
    """Questions arriving at ``rate`` per second (Poisson) for ``seconds``, each on a thread of its own."""
    outcomes, rng, threads = Outcomes(), random.Random(seed), []
    started = time.monotonic()
    next_arrival = started
    while next_arrival < started + seconds:
        time.sleep(max(0.0, next_arrival - time.monotonic()))
        thread = threading.Thread(target=outcomes.ask, args=(port, next(questions)))
        thread.start()
        threads.append(thread)
        next_arrival += rng.expovariate(rate)
    for thread in threads:
        thread.join(timeout=180)
    return outcomes, time.monotonic() - started


def soak(server, questions, rate: float, args) -> list[int]:
    """The server's RSS, once quiet, after each of ``args.soak_rounds`` rounds of arrivals at ``rate``."""
    after = []
    for round_number in range(args.soak_rounds):
        open_loop(server.port, questions, rate, args.seconds, seed=1000 + round_number)
        time.sleep(QUIET_SECONDS)
        after.append(server.rss())
    return after


def sweep(folder, questions, args, label: str, baseline: float | None = None, **env: str) -> float:
    """One server (with ``env``): its capacity, then every rate share; prints the table and the people figure.
    The shares are of ``baseline`` when given (the first sweep's capacity: every variant meets the same
    arrival rates), else of this server's own. Returns this server's capacity."""
    server = Server(folder, ASSISTANT_ANSWER_CACHE="0", **env)
    try:
        server.wait_ready()
        capacity = measure_capacity(server.port, questions, args.probe_seconds)
        print(f"## {label}\n{machine_line()}\ncapacity: {capacity:.1f} answers/s (8 visitors back to back, "
              f"{args.probe_seconds:.0f} s), server RSS {server.rss()} MiB"
              + (f"; rates below are shares of {baseline:.1f} answers/s (the first sweep's, or --base-rate)" if baseline else "") + "\n")
        rows, best = [], 0.0
        for share in RATE_SHARES:
            rate = share * (baseline or capacity)
            outcomes, wall = open_loop(server.port, questions, rate, args.seconds, seed=int(share * 100))
            answered = outcomes.answered
            p95 = percentile(answered, 95) if answered else None
            rows.append([f"{share:.0%}", f"{rate:.1f}", f"{len(answered) / wall:.1f}",
                         percentile(answered, 50) if answered else None, p95,
                         percentile(answered, 99) if answered else None, max(answered) if answered else None,
                         sum(seconds > ANSWER_TARGET for seconds in answered), len(outcomes.busy),
                         sum(seconds > BUSY_TARGET for seconds in outcomes.busy),
                         max(outcomes.busy) if outcomes.busy else None, len(outcomes.errors), server.rss()])
            time.sleep(QUIET_SECONDS)
            rows[-1].append(server.rss())
            if p95 is not None and p95 <= P95_TARGET and not outcomes.busy and not outcomes.errors:
                best = max(best, rate)
            for error in outcomes.errors[:3]:
                print(f"  error at {share:.0%}: {error}")
        print(table(["load", "arrivals/s", "answers/s", "p50 s", "p95 s", "p99 s", "slowest s", f"> {ANSWER_TARGET:.0f} s", "busy", f"busy > {BUSY_TARGET:.0f} s",
                     "slowest busy s", "errors", "RSS MiB", f"RSS {QUIET_SECONDS:.0f} s later"], rows, digits=2))
        if args.soak_rounds:
            print(f"RSS {QUIET_SECONDS:.0f} s after each of {args.soak_rounds} more rounds of {args.seconds:.0f} s at 100 %: "
                  + ", ".join(f"{rss:,} MiB" for rss in soak(server, questions, baseline or capacity, args)))
        people = int(best * SECONDS_BETWEEN_QUESTIONS)
        print(f"\none server on this machine serves {people} people asking every {SECONDS_BETWEEN_QUESTIONS} s "
              f"with p95 <= {P95_TARGET:.0f} s ({best:.1f} questions/s, the highest rate tested that held it)\n")
        return capacity
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="arrivals per rate")
    parser.add_argument("--probe-seconds", type=float, default=20.0, help="back-to-back run that measures capacity")
    parser.add_argument("--base-rate", type=float, default=None,
                        help="answers/s the rate shares are of (an earlier run's capacity, to meet the same rates), "
                             "instead of this run's measured capacity")
    parser.add_argument("--soak-rounds", type=int, default=0, help="more rounds at 100 %% after the rates, RSS after each")
    parser.add_argument("--compare-env", metavar="'NAME=VALUE ...'", action="append", default=[],
                        help="another sweep, its server with these settings (repeatable), at the first sweep's rates")
    args = parser.parse_args()
    questions = distinct_questions()
    with report("capacity", "open-loop arrivals against one assistant serve"):
        with scratch_dir("capacity") as folder:
            baseline = sweep(folder, questions, args, "as shipped", args.base_rate)
        for settings in args.compare_env:
            env = dict(pair.partition("=")[::2] for pair in settings.split())
            with scratch_dir("capacity") as folder:
                sweep(folder, questions, args, f"with {settings}", args.base_rate or baseline, **env)


if __name__ == "__main__":
    main()
