"""Questions run side by side; a re-scan runs alone; a slow LLM answer holds up nobody else.

Real components throughout: the session's Assistant and MiniLM, Chroma on disk, a real Gradio server
called over HTTP by two gradio_client clients, and an OpenAI-compatible server (tests/fake_llm.py)
slow on demand.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant.rwlock import ReadWriteLock
from fake_llm import FakeLLM

QUESTIONS = [
    "How many of the 12 participants saw their symptoms subside?",
    "Who is Boris Heifets?",
    "What did the researchers give the participants before the ketamine?",
    "What kind of receptor does ketamine block?",
    "What is the capital of France?",
    "Summarize the article.",
]
# A short article of our own: re-embedding it while questions run takes a fraction of the seed's time.
SMALL_ID = "seed-library"
SMALL_ARTICLE = """Harbour Town Library Starts Lending Seeds

The public library in Harbour Town has begun lending vegetable and flower seeds alongside its books. \
Members can borrow up to five packets a month.

Head librarian Marisol Ekwueme said the library handed out 340 packets in the first month, far more than \
the 120 staff had expected. Tomatoes, runner beans and marigolds were the most requested varieties.
"""
SMALL_QUESTION = "How many packets did the library hand out in the first month?"


@pytest.fixture
def small_corpus(tmp_path):
    folder = tmp_path / "small-corpus"
    folder.mkdir()
    (folder / f"{SMALL_ID}.txt").write_text(SMALL_ARTICLE, encoding="utf-8")
    return folder


def _essence(answer) -> tuple:
    """What a visitor sees of an answer: its text and what each citation quotes, where."""
    return answer.text, answer.found, tuple((c.n, c.quote, c.start, c.end, c.quote_start, c.quote_end) for c in answer.citations)


def test_concurrent_questions_get_the_sequential_answers(bot):
    expected = {q: _essence(bot.ask(q)) for q in QUESTIONS}
    asked = QUESTIONS * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda q: (q, _essence(bot.ask(q))), asked))
    assert len(got) == len(asked)
    for question, essence in got:
        assert essence == expected[question], question


def test_a_rescan_during_questions_never_gives_an_error_or_a_mixed_answer(make_assistant, small_corpus):
    """The article flips between two versions while 4 threads ask about it: every answer is the answer
    of one version or the other, never an error nor a mix (quotes of one, offsets of the other)."""
    bot = make_assistant(corpus_dir=small_corpus)
    path = small_corpus / f"{SMALL_ID}.txt"
    original = SMALL_ARTICLE
    changed = original.replace("Members can borrow", "Since May, members can borrow").replace("340", "410")
    question = SMALL_QUESTION
    expected = {}
    for version in (changed, original):
        path.write_text(version, encoding="utf-8")
        bot.sync()
        expected[version] = _essence(bot.ask(question, article=SMALL_ID))
    assert expected[changed] != expected[original]

    stop, errors, seen = threading.Event(), [], []

    def keep_asking() -> None:
        while not stop.is_set():
            try:
                seen.append(_essence(bot.ask(question, article=SMALL_ID)))
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                errors.append(repr(error))

    askers = [threading.Thread(target=keep_asking) for _ in range(4)]
    for thread in askers:
        thread.start()
    try:
        for version in (changed, original, changed, original):
            time.sleep(0.2)  # let questions of this version through
            path.write_text(version, encoding="utf-8")
            report = bot.sync()
            assert report.updated == [SMALL_ID], report
    finally:
        stop.set()
        for thread in askers:
            thread.join(timeout=60)
    assert not errors, errors[:3]
    assert len(seen) >= 8
    assert set(seen) <= set(expected.values())


def test_questions_are_answered_while_a_rescan_is_still_embedding(make_assistant, small_corpus, monkeypatch):
    """A re-scan embedding a new article (held mid-embedding here by a gate) does not hold up a question
    about an article already indexed; the new article is answerable once the re-scan finishes."""
    bot = make_assistant(corpus_dir=small_corpus)
    bot.sync()
    before = _essence(bot.ask(SMALL_QUESTION, article=SMALL_ID))
    (small_corpus / "second.txt").write_text(SMALL_ARTICLE.replace("Harbour Town", "Millbrook"), encoding="utf-8")

    embedding, release = threading.Event(), threading.Event()
    embed_documents = bot.index.embeddings.embed_documents

    def held_embedding(texts):
        embedding.set()
        assert release.wait(timeout=120), "the test never released the re-scan"
        return embed_documents(texts)

    monkeypatch.setattr(bot.index.embeddings, "embed_documents", held_embedding)
    rescan = ThreadPoolExecutor(max_workers=1).submit(bot.sync)
    try:
        assert embedding.wait(timeout=60), "the re-scan never started embedding"
        with ThreadPoolExecutor(max_workers=1) as asker:
            answered = asker.submit(bot.ask, SMALL_QUESTION, article=SMALL_ID).result(timeout=60)
        assert not rescan.done(), "the question was answered only after the re-scan"
        assert _essence(answered) == before
    finally:
        release.set()
    assert rescan.result(timeout=120).added == ["second"]
    assert bot.ask(SMALL_QUESTION, article="second").found


def test_writers_are_not_starved_by_a_stream_of_readers():
    lock, acquired = ReadWriteLock(), threading.Event()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            with lock.read():
                time.sleep(0.01)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    time.sleep(0.05)
    started = time.perf_counter()

    def writer() -> None:
        with lock.write():
            acquired.set()

    threading.Thread(target=writer).start()
    try:
        assert acquired.wait(timeout=2), "the writer waited behind readers that kept coming"
        assert time.perf_counter() - started < 0.5
    finally:
        stop.set()
        for thread in readers:
            thread.join()


def test_read_lock_reentry_never_deadlocks_behind_a_waiting_writer():
    lock, writer_waiting, done = ReadWriteLock(), threading.Event(), threading.Event()

    def writer() -> None:
        writer_waiting.set()
        with lock.write():
            pass

    with lock.read():
        threading.Thread(target=writer).start()
        writer_waiting.wait()
        time.sleep(0.05)  # the writer is now queued behind this reader
        with lock.read():  # an intent checking its suggestions asks again on the same thread
            done.set()
    assert done.is_set()
    with pytest.raises(RuntimeError), lock.read(), lock.write():
        pass


@pytest.fixture
def slow_llm_server(make_assistant, small_corpus):
    """A real server answering with the openai backend; the LLM takes 1 s a word when asked 'slowly'."""
    from llm_server import free_port
    from ui.app import serve

    reply = "The library handed out 340 packets in the first month [1]."
    with FakeLLM(reply, slow_marker="slowly", slow_delay=1.0) as llm:
        bot = make_assistant(corpus_dir=small_corpus, backend="openai", openai_base_url=llm.base_url,
                             openai_model="fake-llm", llm_timeout=120)
        port = free_port()
        app = serve(bot, port=port, block=False)
        try:
            yield f"http://127.0.0.1:{port}/", llm
        finally:
            app.close()


def test_a_slow_llm_answer_does_not_delay_another_sessions_answer(slow_llm_server):
    from gradio_client import Client

    url, llm = slow_llm_server
    slow_visitor, other_visitor = Client(url, verbose=False), Client(url, verbose=False)
    slow = slow_visitor.submit(f"Please answer slowly: {SMALL_QUESTION}", [], SMALL_ID, api_name="/chat")
    assert llm.slow_started.wait(timeout=60), "the slow question never reached the LLM"
    started = time.perf_counter()
    other_visitor.predict(SMALL_ID, api_name="/rescan")  # a writer: waits for no reader, the LLM holds none
    assert "Now answering with: Quotes from the article" in other_visitor.predict("extractive", api_name="/backend")
    quick = other_visitor.predict(SMALL_QUESTION, SMALL_ID, api_name="/ask")
    waited = time.perf_counter() - started
    assert quick["backend"] == "extractive" and "**340** packets" in quick["answer"]
    assert waited < 5, f"the other visitor waited {waited:.1f} s behind the slow answer"
    assert not slow.done(), "the slow answer finished first, so this proved nothing"
    _, messages = slow.result(timeout=60)
    assert "handed out 340 packets" in messages[1]["content"][0]["text"]
