"""Admission of questions: under overload a visitor is told "busy" at once instead of waiting in a queue.

Why: with more questions arriving than the CPU answers (issue 16: 50 visitors asking back to back on
2 cores waited 5.7 s at p50), a count-bounded queue only makes everyone wait longer. Here a question
is admitted only when its expected wait plus its own answer fits ``max_seconds``; the others are
refused at once with a one-line "busy" message. The wait is bounded by time, not by count: the
expected wait comes from the measured answer time and the questions ahead. Answer times vary (a long
article, a cold cache, another process on the core), so each answer ahead is planned at its moving
average plus twice its moving deviation, as TCP plans a retransmission: planned at the average alone,
an admitted question whose answers ahead ran slow had to be refused after waiting (3 of 128 "busy" at
150 % of capacity took 5 s, bench/capacity.py). The spread makes that rare, not impossible, so a question
still waiting DECIDE_SECONDS after it arrived is decided then: "busy" if its turn, after the questions that came
before it, would come too late; else it is answered when its turn comes, late rather than refused after waiting.

Questions sent to the REST routes are admitted at the door as well (``AdmissionDoor``, an ASGI
middleware), before Gradio queues them: at 150 % of capacity Gradio's own event handling took up to
14 s to reach the check inside the answer (bench/capacity.py), so "busy" came late. A question let in
at the door is counted as on its way (a "promise", forgotten after ``max_seconds``) until it reaches
``admit``, so the door sees the work already promised, not only the work already started.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.errors import UserError

# Weight of the newest answer time in the moving average: a few answers move it, one slow outlier does not.
SMOOTHING = 0.2
# Each answer ahead is planned at the moving average plus this many moving (mean absolute) deviations.
DEVIATIONS = 2
# Questions are admitted up to this share of the bound; the rest is headroom for answers slower than the
# average, so that an admitted question is rarely refused late (after waiting) instead of at once.
ADMIT_SHARE = 0.8
# A question not yet answering is decided this soon after it arrived: it is refused then if its planned wait no
# longer fits the bound, else it waits its turn. Well under the second, as the reply still has to travel
# (bench/capacity.py at 150 % of capacity: decided at 1.0 s, a third of the "busy" replies took 1.0-1.6 s; at
# 0.5 s, 7 of 183 took 1.0-1.19 s; at 0.3 s, none past 1 s).
DECIDE_SECONDS = 0.3
# A question decided to wait is answered, however late, up to this many times the bound; past it, "busy".
LATE_FACTOR = 2
# `serve` plans answers to end within this share of the wait it promises (ASSISTANT_ANSWER_WITHIN_SECONDS): the rest
# is for the time a question spends outside its answer (Gradio's queue, the event loop, the reply's stream), which
# at 150 % of capacity added up to 2 s (bench/capacity.py, planned within 5 s: 14 answers took over 5 s, the slowest
# 5.95 s; within 3.5 s: 1, 5.24 s; within 3 s: none, the slowest 4.47 s; "busy" within 0.85 s in each).
PLAN_SHARE = 0.6
# The REST routes whose POST starts a question (Gradio's two-step /call and its one-step /run).
QUESTION_ROUTES = ("/gradio_api/call/ask", "/gradio_api/run/ask")
# What a caller told "busy" at the door is asked to wait before trying again (the Retry-After header).
RETRY_AFTER_SECONDS = 1


class Busy(UserError):
    """The server is answering as many questions as it can; the message says to try again."""


class Admission:
    """``slots`` questions answer at once; one more waits only if it can be answered within ``max_seconds``."""

    def __init__(self, slots: int, max_seconds: float, first_estimate: float = 0.25):
        self.slots, self.max_seconds = slots, max_seconds
        self.answer_seconds = first_estimate  # moving average of one answer's time
        self.answer_deviation = 0.0  # moving average of its distance from that average
        self._lock = threading.Lock()
        self._free = threading.Semaphore(slots)
        self._running_since: dict[int, float] = {}  # when each answer running began, by ticket
        self._waiting: list[int] = []  # tickets of the questions waiting for a slot, in arrival order
        self._tickets = itertools.count()
        self._promised: deque[float] = deque()  # when each question let in at the door was let in
        self.refused = 0
        self.answered = 0  # answers finished (ui/heap.py trims after a busy spell)

    def expected_wait(self) -> float:
        """Seconds a question arriving now would wait for a slot (0 when one is free). Call under the lock: it
        drops the promises past the bound."""
        forgotten = time.monotonic() - self.max_seconds
        while self._promised and self._promised[0] < forgotten:  # its caller left, or it never came
            self._promised.popleft()
        ahead = len(self._running_since) + len(self._waiting) + len(self._promised) - self.slots + 1
        return 0.0 if ahead <= 0 else math.ceil(ahead / self.slots) * self.planned_answer_seconds()

    def idle(self) -> bool:
        """No answer running or waiting for a slot."""
        with self._lock:
            return not self._running_since and not self._waiting

    def planned_answer_seconds(self) -> float:
        """One answer's time as planned for: slower than the average by its usual spread."""
        return self.answer_seconds + DEVIATIONS * self.answer_deviation

    def _check(self) -> None:
        """Raises ``Busy`` when a question arriving now would be answered too late (call under the lock)."""
        wait = self.expected_wait()
        # A free slot always answers: else answers slower than the bound would stop every answer, and with
        # them the measurements that would bring the estimate back down.
        if wait > 0 and wait + self.planned_answer_seconds() > ADMIT_SHARE * self.max_seconds:
            self.refused += 1
            raise Busy(self._busy_message(wait))

    def promise(self) -> None:
        """At the door: raises ``Busy`` as ``admit`` would, else counts the question as on its way."""
        with self._lock:
            self._check()
            self._promised.append(time.monotonic())

    def settle(self) -> float | None:
        """A question let in at the door has reached its handler (from there ``admit`` counts it), or never will
        (Gradio refused the call): either way it is no longer on its way. Returns when the oldest question on its
        way was let in (promises arrive in about the order they were made), None if none was."""
        with self._lock:
            return self._promised.popleft() if self._promised else None

    @contextmanager
    def admit(self, let_in_at: float | None = None) -> Iterator[None]:
        """Hold a slot while answering; raises ``Busy`` at once when the answer would come too late.

        ``let_in_at``: when the door let this question in (``settle``). The door already planned for it, so it is
        not checked again on arrival, and its grace (DECIDE_SECONDS) counts from the door: the time Gradio's
        queue took is part of the visitor's wait."""
        arrived = time.monotonic() if let_in_at is None else let_in_at
        with self._lock:
            if let_in_at is None:
                self._check()
            ticket = next(self._tickets)
            self._waiting.append(ticket)
        admitted = False
        try:
            self._wait_for_slot(ticket, arrived)
            admitted = True
        finally:
            with self._lock:
                self._waiting.remove(ticket)
                if admitted:
                    self._running_since[ticket] = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                elapsed = time.monotonic() - self._running_since.pop(ticket)
                self.answered += 1
                self.answer_deviation += SMOOTHING * (abs(elapsed - self.answer_seconds) - self.answer_deviation)
                self.answer_seconds += SMOOTHING * (elapsed - self.answer_seconds)
            self._free.release()

    def _wait_for_slot(self, ticket: int, arrived: float) -> None:
        """Takes a slot for the question holding ``ticket``, or raises ``Busy``: DECIDE_SECONDS after it arrived, if
        its turn would come too late; else when it has waited LATE_FACTOR times the bound."""
        if self._free.acquire(timeout=max(0.0, arrived + DECIDE_SECONDS - time.monotonic())):
            return
        with self._lock:
            now = time.monotonic()
            # Its turn: after the questions that came before it (a semaphore wakes its waiters in order), each
            # planned at least as long as the answer running longest has already taken.
            turns = math.ceil((self._waiting.index(ticket) + 1) / self.slots)
            longest = max((now - began for began in self._running_since.values()), default=0.0)
            per_answer = max(self.planned_answer_seconds(), longest)
            if now - arrived + (turns + 1) * per_answer > self.max_seconds:
                self.refused += 1
                raise Busy(self._busy_message(turns * per_answer))
        # Its turn comes in time as planned. Should answers run slower still, it is answered late rather than told
        # "busy" after waiting, up to LATE_FACTOR times the bound.
        if not self._free.acquire(timeout=max(0.0, arrived + LATE_FACTOR * self.max_seconds - time.monotonic())):
            with self._lock:
                self.refused += 1
            raise Busy(self._busy_message(self.planned_answer_seconds()))

    def _busy_message(self, wait: float) -> str:
        return (f"the server is busy answering other questions (about {max(1, round(wait))} s of work queued): "
                "please try again in a moment")


class AdmissionDoor:
    """Refuses a question sent to a REST route with 503 and Retry-After at once when the server could not
    answer it in time (``Admission.promise``); everything else passes untouched."""

    def __init__(self, app: ASGIApp, admission: Admission) -> None:
        self.app, self.admission = app, admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST" and scope.get("path", "").rstrip("/") in QUESTION_ROUTES:
            try:
                self.admission.promise()
            except Busy as busy:
                response = JSONResponse({"error": str(busy)}, status_code=503,
                                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
                await response(scope, receive, send)
                return

            async def settling_send(message: dict) -> None:
                if message["type"] == "http.response.start" and message["status"] != 200:
                    self.admission.settle()  # a malformed call: Gradio made no event, no handler will run
                await send(message)

            await self.app(scope, receive, settling_send)
            return
        await self.app(scope, receive, send)
