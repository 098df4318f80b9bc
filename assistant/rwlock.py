"""A reader-writer lock: many questions read the index at once; a re-scan or rebuild writes it alone.

Writers go first: once a writer waits, new readers wait behind it, so a steady stream of questions
cannot starve a re-scan. A thread may take the read side again while it holds it (an intent answer
checks its suggestions by asking them) and may read while it writes;
those re-entries never wait, because waiting on yourself would deadlock. Taking the write side while
holding only the read side is refused: two readers doing that would wait for each other forever.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadWriteLock:
    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._readers = 0  # read holds across all threads, re-entries included
        self._writer: int | None = None  # ident of the thread holding the write side
        self._write_depth = 0
        self._writers_waiting = 0
        self._held = threading.local()  # this thread's read depth

    def _read_depth(self) -> int:
        return getattr(self._held, "reads", 0)

    @contextmanager
    def read(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._changed:
            if self._read_depth() == 0 and self._writer != me:
                self._changed.wait_for(lambda: self._writer is None and not self._writers_waiting)
            self._readers += 1
        self._held.reads = self._read_depth() + 1
        try:
            yield
        finally:
            self._held.reads -= 1
            with self._changed:
                self._readers -= 1
                if not self._readers:
                    self._changed.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._changed:
            if self._writer == me:
                self._write_depth += 1
            else:
                if self._read_depth():
                    raise RuntimeError("cannot take the write lock while holding the read lock")
                self._writers_waiting += 1
                try:
                    self._changed.wait_for(lambda: self._writer is None and not self._readers)
                finally:
                    self._writers_waiting -= 1
                self._writer, self._write_depth = me, 1
        try:
            yield
        finally:
            with self._changed:
                self._write_depth -= 1
                if not self._write_depth:
                    self._writer = None
                    self._changed.notify_all()
