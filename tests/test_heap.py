"""The idle heap trim (ui/heap.py): when it trims, and that this machine's C library can.

What a trim gives back is measured by bench/capacity.py (server RSS per load, with and without
``ASSISTANT_TRIM_HEAP_WHEN_IDLE``); here the rule is checked: once after a busy spell, never during an answer.
"""

from __future__ import annotations

import time

from ui.admission import Admission
from ui.heap import HeapTrimmer, malloc_trim


def test_this_c_library_trims_its_heap():
    trim = malloc_trim()
    assert trim is not None  # glibc, as on every machine this is served from
    assert trim(0) in (0, 1)  # 1: memory was returned, 0: there was none to return


def test_the_heap_is_trimmed_once_after_answers_stop_and_never_during_one():
    admission = Admission(slots=2, max_seconds=5.0)
    calls: list[int] = []
    trimmer = HeapTrimmer(admission, calls.append)
    seen, trimmed = trimmer.look(0, 0)
    assert calls == []  # nothing answered yet
    with admission.admit():
        pass
    seen, trimmed = trimmer.look(seen, trimmed)
    assert calls == []  # an answer since the last look: the spell may not be over
    with admission.admit():
        seen, trimmed = trimmer.look(seen, trimmed)
        assert calls == []  # an answer is running
    seen, trimmed = trimmer.look(seen, trimmed)
    seen, trimmed = trimmer.look(seen, trimmed)
    assert calls == [0]  # a whole quiet look after answers: trimmed
    trimmer.look(seen, trimmed)
    assert calls == [0]  # once per busy spell


def test_the_trimmer_thread_trims_after_a_spell_of_answers():
    admission = Admission(slots=2, max_seconds=5.0)
    calls: list[int] = []
    trimmer = HeapTrimmer(admission, calls.append, look_every=0.05).start()
    try:
        for _ in range(5):
            with admission.admit():
                time.sleep(0.01)
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert calls == [0]
    finally:
        trimmer.stop()
