"""Admission under overload (ui/admission.py): real threads doing timed work, no server.

The figures for a real server under an open-loop arrival rate are bench/capacity.py's; here the rule
itself is checked: a question is admitted only if it can be answered within the bound, the others are
told "busy" at once, and nothing waits past the bound.
"""

from __future__ import annotations

import threading
import time

import pytest

from ui.admission import DECIDE_SECONDS, LATE_FACTOR, Admission, AdmissionDoor, Busy

WORK_SECONDS = 0.2


def _visitors(admission: Admission, count: int, work_seconds: float = WORK_SECONDS) -> list[tuple[str, float]]:
    """``count`` questions arriving together; each: ("answered" or "busy", seconds until its reply)."""
    results: list[tuple[str, float]] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def visit() -> None:
        start.wait()
        began = time.monotonic()
        try:
            with admission.admit():
                time.sleep(work_seconds)
            outcome = "answered"
        except Busy:
            outcome = "busy"
        with lock:
            results.append((outcome, time.monotonic() - began))

    threads = [threading.Thread(target=visit) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_overload_is_told_busy_at_once_and_the_admitted_are_answered_within_the_bound():
    admission = Admission(slots=2, max_seconds=1.0, first_estimate=WORK_SECONDS)
    results = _visitors(admission, 40)
    answered = [seconds for outcome, seconds in results if outcome == "answered"]
    busy = [seconds for outcome, seconds in results if outcome == "busy"]
    assert len(results) == 40
    # 2 slots x 0.2 s, admitted up to 0.8 of the 1 s bound: about 8 are answered in time, the rest cannot be
    assert 4 <= len(answered) <= 12 and len(busy) == 40 - len(answered)
    assert max(answered) < 1.0 + 0.5  # the bound, plus scheduling slack on a busy machine
    assert max(busy) < 0.5  # refused at once, not after waiting
    assert admission.refused == len(busy)


def test_below_capacity_everyone_is_answered():
    admission = Admission(slots=4, max_seconds=5.0, first_estimate=WORK_SECONDS)
    results = _visitors(admission, 8)
    assert [outcome for outcome, _ in results] == ["answered"] * 8


def test_the_answer_time_estimate_follows_the_measured_answers():
    admission = Admission(slots=1, max_seconds=5.0, first_estimate=2.0)
    for _ in range(20):
        with admission.admit():
            time.sleep(0.01)
    assert admission.answer_seconds < 0.1


def test_answers_that_vary_are_planned_at_their_spread_so_no_admitted_question_is_refused_late():
    admission = Admission(slots=1, max_seconds=2.0, first_estimate=0.25)
    for work in [0.02, 0.45] * 6:  # answers of 0.25 s on average, some twice as slow
        with admission.admit():
            time.sleep(work)
    assert admission.answer_deviation > 0.1
    results = _visitors(admission, 20, work_seconds=0.45)  # now a run of the slow ones
    answered = [seconds for outcome, seconds in results if outcome == "answered"]
    busy = [seconds for outcome, seconds in results if outcome == "busy"]
    assert answered and max(answered) < 2.0 + 0.5
    # planned at the average alone, the fifth admitted would wait past its time and be refused after ~1.8 s
    assert max(busy) < 0.5


def test_answers_far_slower_than_planned_make_the_waiting_be_told_busy_soon_not_at_the_bound():
    # Planned at 0.1 s, every answer takes 0.6 s: ten arriving together are all let in (1.0 s of work planned).
    # When they are decided, the answer running has taken longer than planned: the last in line is told "busy"
    # then, the others wait and are answered, late rather than refused after waiting (at 2.9 s before).
    admission = Admission(slots=1, max_seconds=3.0, first_estimate=0.1)
    results = _visitors(admission, 10, work_seconds=0.6)
    busy = [seconds for outcome, seconds in results if outcome == "busy"]
    answered = [seconds for outcome, seconds in results if outcome == "answered"]
    assert busy and max(busy) < DECIDE_SECONDS + 0.3
    assert answered and max(answered) < LATE_FACTOR * 3.0  # those decided to wait are answered, late rather than refused late


def test_a_question_let_in_at_the_door_is_decided_soon_after_the_door_not_after_the_queue():
    admission = Admission(slots=1, max_seconds=3.0, first_estimate=0.5)
    holding, release = threading.Event(), threading.Event()

    def slow_answer() -> None:
        with admission.admit():
            holding.set()
            release.wait(10)

    threading.Thread(target=slow_answer).start()
    holding.wait(5)
    admission.promise()  # let in at the door: 0.5 s of wait and 0.5 s of answer fit the bound
    admission.answer_seconds = 2.0  # then answers run slower: its turn would now come too late
    time.sleep(0.8)  # Gradio's queue
    let_in_at = admission.settle()
    began = time.monotonic()
    try:
        with pytest.raises(Busy):
            with admission.admit(let_in_at):
                pass
        assert time.monotonic() - began < DECIDE_SECONDS  # its grace counted from the door, 0.8 s ago: none left
    finally:
        release.set()


def test_a_free_slot_answers_even_when_answers_have_been_slower_than_the_bound():
    admission = Admission(slots=1, max_seconds=1.0, first_estimate=3.0)
    with admission.admit():
        time.sleep(0.01)
    assert admission.answer_seconds < 3.0  # measured again, so the estimate can come back down


def test_busy_is_a_one_line_user_error():
    admission = Admission(slots=1, max_seconds=0.1, first_estimate=1.0)
    with admission.admit(), pytest.raises(Busy) as refused:  # the slot is taken: the next would wait too long
        with admission.admit():
            pass
    message = str(refused.value)
    assert "\n" not in message and "busy" in message and "try again" in message


def _door_client(admission: Admission):
    """A small Starlette app behind the door (the real server's door is exercised by bench/capacity.py)."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    async def reached(request):
        if await request.body() == b"malformed":
            return PlainTextResponse("bad JSON", status_code=422)
        return PlainTextResponse("reached")

    routes = [Route(path, reached, methods=["GET", "POST"])
              for path in ("/gradio_api/call/ask", "/gradio_api/run/ask", "/gradio_api/call/ask/event", "/gradio_api/queue/join")]
    return TestClient(Starlette(routes=routes, middleware=[Middleware(AdmissionDoor, admission=admission)]))


def test_the_door_refuses_a_rest_question_at_once_when_it_could_not_be_answered_in_time():
    admission = Admission(slots=1, max_seconds=1.0, first_estimate=0.3)
    client = _door_client(admission)
    # 0.3 s each, one slot, admitted up to 0.8 s: the first two are let in (promised), the third is not.
    assert [client.post("/gradio_api/call/ask").status_code for _ in range(2)] == [200, 200]
    refused = client.post("/gradio_api/run/ask")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert "busy" in refused.json()["error"] and admission.refused == 1
    # Only the POSTs that start a question are held at the door: the result stream and the page's events pass.
    assert client.get("/gradio_api/call/ask/event").status_code == 200
    assert client.post("/gradio_api/queue/join").status_code == 200
    # A question that reaches its handler is no longer a promise: room for the next one.
    admission.settle()
    assert client.post("/gradio_api/call/ask").status_code == 200


def test_a_call_refused_behind_the_door_is_no_longer_counted():
    admission = Admission(slots=1, max_seconds=1.0, first_estimate=0.3)
    client = _door_client(admission)
    assert [client.post("/gradio_api/call/ask", content=b"malformed").status_code for _ in range(5)] == [422] * 5
    assert client.post("/gradio_api/call/ask").status_code == 200 and admission.refused == 0


def test_a_promise_that_never_arrives_is_forgotten_after_the_bound():
    admission = Admission(slots=1, max_seconds=0.5, first_estimate=0.1)
    client = _door_client(admission)
    statuses = [client.post("/gradio_api/call/ask").status_code for _ in range(6)]
    assert 503 in statuses
    time.sleep(0.6)
    assert client.post("/gradio_api/call/ask").status_code == 200
