"""The idle heap trim (ui/heap.py): when it trims, and that this machine's C library can.

What a trim gives back is measured by bench/capacity.py (server RSS per load, with and without
``ASSISTANT_TRIM_HEAP_WHEN_IDLE``); here the rule is checked: once after a busy spell, never during an answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import REPO, SHIPPED_CORPUS

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


# `assistant serve` as far as its server: the command builds the real Assistant over the shipped article; the one
# stand-in is ui.app.serve, which instead of listening answers from eight threads at once (as the server's
# workers do) and prints how many malloc arenas the process has then (glibc's malloc_info: one <heap> each).
SERVE_AND_COUNT_ARENAS = textwrap.dedent('''
    import ctypes, sys, tempfile, threading
    import ui.app
    from assistant.cli import main

    def answer_from_threads_and_count_arenas(bot, allow_remote=False):
        threads = [threading.Thread(target=bot.ask, args=(f"Who led study {n} of ketamine?",)) for n in range(8)]
        [thread.start() for thread in threads]
        [thread.join() for thread in threads]
        libc = ctypes.CDLL("libc.so.6")
        libc.fopen.restype = ctypes.c_void_p
        with tempfile.NamedTemporaryFile("r") as report:
            stream = ctypes.c_void_p(libc.fopen(report.name.encode(), b"w"))
            libc.malloc_info(0, stream)
            libc.fclose(stream)
            print("arenas", report.read().count("<heap nr="))

    ui.app.serve = answer_from_threads_and_count_arenas
    sys.exit(main(sys.argv[1:]))
''')


@pytest.mark.parametrize("setting, most", [("2", 2), ("0", None)])
def test_serve_caps_the_malloc_arenas_its_answering_threads_share(tmp_path, setting, most):
    env = {**os.environ, "ASSISTANT_MALLOC_ARENAS": setting}
    result = subprocess.run(
        [sys.executable, "-c", SERVE_AND_COUNT_ARENAS, "--corpus-dir", str(SHIPPED_CORPUS),
         "--data-dir", str(tmp_path / "data"), "serve"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    arenas = int(result.stdout.split("arenas")[-1])
    if most:
        assert arenas <= most, result.stdout
    else:  # glibc's default: a thread of its own gets an arena of its own, so the cap above is what held it
        assert arenas > 2, result.stdout
