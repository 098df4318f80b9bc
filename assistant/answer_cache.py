"""Answers already given, kept for the next person who asks the same thing about the same text.

Why: on the web page many visitors click the same suggested questions, and popular questions repeat.
A quoted answer is a pure function of the question, its standalone form, and the article versions it
was drawn from, so asking again can skip ~0.1 s of model work (two cores serve everyone). Article
versions are part of the key: a re-scan that changes an article makes its old answers unreachable,
and they age out. Only deterministic answers are kept (quotes and intent answers, never an LLM's).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Hashable


class AnswerCache:
    """A bounded, thread-safe LRU of answer event lists (text pieces, then the ``Answer``)."""

    def __init__(self, size: int):
        """``size``: answers kept (a few KB each, with their citations); 0 keeps none."""
        self.size = size
        self._events: OrderedDict[Hashable, list] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> list | None:
        """A copy of what was stored (callers stamp timings on the answer), or None."""
        with self._lock:
            events = self._events.get(key)
            if events is None:
                return None
            self._events.move_to_end(key)
        return copy.deepcopy(events)

    def put(self, key: Hashable, events: list) -> None:
        if not self.size:
            return
        stored = copy.deepcopy(events)
        with self._lock:
            self._events[key] = stored
            self._events.move_to_end(key)
            while len(self._events) > self.size:
                self._events.popitem(last=False)

    def __len__(self) -> int:
        return len(self._events)
