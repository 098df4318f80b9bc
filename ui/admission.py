"""Admission of questions: under overload a visitor is told "busy" at once instead of waiting in a queue.

Why: with more questions arriving than the CPU answers (issue 16: 50 visitors asking back to back on
2 cores waited 5.7 s at p50), a count-bounded queue only makes everyone wait longer. Here a question
is admitted only when its expected wait plus its own answer fits ``max_seconds``; the others are
refused at once with a one-line "busy" message. The wait is bounded by time, not by count: the
expected wait comes from the measured answer time (a moving average) and the questions ahead.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from assistant.errors import UserError

# Weight of the newest answer time in the moving average: a few answers move it, one slow outlier does not.
SMOOTHING = 0.2
# Questions are admitted up to this share of the bound; the rest is headroom for answers slower than the
# average, so that an admitted question is rarely refused late (after waiting) instead of at once.
ADMIT_SHARE = 0.8


class Busy(UserError):
    """The server is answering as many questions as it can; the message says to try again."""


class Admission:
    """``slots`` questions answer at once; one more waits only if it can be answered within ``max_seconds``."""

    def __init__(self, slots: int, max_seconds: float, first_estimate: float = 0.25):
        self.slots, self.max_seconds = slots, max_seconds
        self.answer_seconds = first_estimate  # moving average of one answer's time
        self._lock = threading.Lock()
        self._free = threading.Semaphore(slots)
        self._running = 0
        self._waiting = 0
        self.refused = 0

    def expected_wait(self) -> float:
        """Seconds a question arriving now would wait for a slot (0 when one is free)."""
        ahead = self._running + self._waiting - self.slots + 1
        return 0.0 if ahead <= 0 else math.ceil(ahead / self.slots) * self.answer_seconds

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold a slot while answering; raises ``Busy`` at once when the answer would come too late."""
        with self._lock:
            wait = self.expected_wait()
            if wait + self.answer_seconds > ADMIT_SHARE * self.max_seconds:
                self.refused += 1
                raise Busy(self._busy_message(wait))
            self._waiting += 1
        admitted = self._free.acquire(timeout=max(0.0, self.max_seconds - self.answer_seconds))
        with self._lock:
            self._waiting -= 1
            if not admitted:  # slower answers than measured: refuse rather than overrun the bound
                self.refused += 1
                raise Busy(self._busy_message(self.expected_wait()))
            self._running += 1
        started = time.monotonic()
        try:
            yield
        finally:
            elapsed = time.monotonic() - started
            with self._lock:
                self._running -= 1
                self.answer_seconds += SMOOTHING * (elapsed - self.answer_seconds)
            self._free.release()

    def _busy_message(self, wait: float) -> str:
        return (f"the server is busy answering other questions (about {max(1, round(wait))} s of work queued): "
                "please try again in a moment")
