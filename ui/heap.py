"""Keeps the server's C heap small: few malloc arenas, and their free memory given back once answers stop.

Why: an answer allocates in native code (ONNX Runtime, tokenizers, Chroma's core) from several threads at
once, and glibc gives each new thread an arena of its own (up to eight per core) whose freed memory only
that arena reuses: in-process, four threads answering 2,400 distinct questions took RSS from 709 to 812 MiB,
still rising; with two arenas it levels off after the first 480 (709 -> 769, then 767-775). In the server
this is ~10 MiB (its steady growth was Gradio's sessions, ASSISTANT_SESSIONS_KEPT; docs/deploy.md). The cap
must be set before the server's threads first allocate: glibc fixes it then. ``malloc_trim(0)`` returns the
free pages of every arena; it walks the heap (a few ms), so it runs on a thread of its own, only once answers
have stopped, and never while one is running.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable

from ui.admission import Admission

# How often the trimmer looks; a trim waits for a look that finds no answer running and none since the last look.
LOOK_EVERY_SECONDS = 2.0


# mallopt's parameter for the most arenas (glibc's malloc.h: M_ARENA_MAX).
M_ARENA_MAX = -8


def _glibc_function(name: str) -> Callable[[int], int] | None:
    """A glibc heap function, or None where the C library has none (musl, macOS): there is nothing to do."""
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):
        return None


def malloc_trim() -> Callable[[int], int] | None:
    return _glibc_function("malloc_trim")


def limit_malloc_arenas(arenas: int) -> None:
    """Cap glibc's malloc arenas (0: leave its default). Call it before the process starts the threads that answer."""
    mallopt = _glibc_function("mallopt")
    if arenas and mallopt is not None:
        mallopt(M_ARENA_MAX, arenas)


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
