"""Gives the C heap's free memory back to the system when the server goes quiet after answering.

Why: an answer allocates in native code (ONNX Runtime, tokenizers, Chroma's core) from several threads at
once, and glibc keeps what they free in its per-thread arenas, so the server's RSS stays at the high-water
mark of its busiest minute (bench/capacity.py: 987 MiB at 25 % of capacity, 1,156 MiB after 150 %).
``malloc_trim(0)`` returns the free pages of every arena. It walks the heap (a few ms), so it runs on a
thread of its own, only once answers have stopped, and never while one is running.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable

from ui.admission import Admission

# How often the trimmer looks; a trim waits for a look that finds no answer running and none since the last look.
LOOK_EVERY_SECONDS = 2.0


def malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS): there is nothing to do."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


class HeapTrimmer:
    """Trims once after each busy spell: when answers have been given since the last trim and, for a whole
    look, no answer ran."""

    def __init__(self, admission: Admission, trim: Callable[[int], int] | None, look_every: float = LOOK_EVERY_SECONDS):
        self.admission, self.trim, self.look_every = admission, trim, look_every
        self.trims = 0
        self._stop = threading.Event()

    def look(self, last_seen: int, trimmed_at: int) -> tuple[int, int]:
        """One look: ``(answers counted now, answers counted at the last trim)``."""
        answered = self.admission.answered
        if answered != trimmed_at and answered == last_seen and self.admission.idle():
            self.trim(0)
            self.trims += 1
            trimmed_at = answered
        return answered, trimmed_at

    def run(self) -> None:
        last_seen = trimmed_at = self.admission.answered
        while not self._stop.wait(self.look_every):
            last_seen, trimmed_at = self.look(last_seen, trimmed_at)

    def start(self) -> HeapTrimmer:
        if self.trim is not None:
            threading.Thread(target=self.run, name="heap-trimmer", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
