"""The generative answerer's checks, driven by LangChain's own fake chat model.

A hosted or local LLM cannot be relied on here, so these tests replace the model with
``GenericFakeChatModel`` (it streams a scripted reply token by token) and exercise everything
around it for real: retrieval, the prompt, marker filtering, support checks against the real
MiniLM embeddings, and the fallback to quoting. The real llama.cpp server is exercised in
tests/test_llm_backends.py.
"""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant.answer.citations import MarkerFilter
from assistant.answer.generative import GenerativeAnswerer
from assistant.answer.model import NOT_IN_ARTICLE, Answer

QUESTION = "What did Boris Heifets say about glutamate receptors?"


class FailingChatModel(GenericFakeChatModel):
    """A chat model whose server is down."""

    def _generate(self, *args, **kwargs):
        raise ConnectionError("connection refused")

    def _stream(self, *args, **kwargs):
        raise ConnectionError("connection refused")


def scripted(*replies: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies]))


def ask(bot, model, question=QUESTION, history=None) -> tuple[list[str], Answer]:
    bot.answerer = GenerativeAnswerer(bot.settings.model_copy(update={"backend": "ollama"}), bot.index, bot.answerer, model=model)
    events = list(bot.stream(question, history=history))
    return [e for e in events if isinstance(e, str)], events[-1]


@pytest.fixture
def generative_bot(make_assistant):
    bot = make_assistant()
    bot.sync()
    return bot


def test_supported_claims_keep_their_citations_and_bad_markers_never_show(generative_bot):
    reply = (
        "Heifets said ketamine obstructs a particular kind of glutamate receptor [1]. "
        "He also said the moon is made of cheese [2]. Nothing else matters [7]."
    )
    pieces, answer = ask(generative_bot, scripted(reply))
    assert len(pieces) > 3  # streamed in pieces, not all at once
    assert "[7]" not in "".join(pieces) and "[7]" not in answer.text
    assert answer.found and "removed citation" in answer.note
    by_n = {c.n: c for c in answer.citations}
    assert by_n[1].supported and "glutamate receptor" in by_n[1].quote
    assert not by_n[2].supported
    assert answer.unsupported_sentences == ["He also said the moon is made of cheese"]
    article = generative_bot.index.articles[by_n[1].article_id]
    assert article.text[by_n[1].quote_start : by_n[1].quote_end] == by_n[1].quote


def test_the_model_saying_the_article_does_not_say_is_an_abstention(generative_bot):
    _, answer = ask(generative_bot, scripted("The article does not say."), question="What dose was given?")
    assert not answer.found and answer.citations == [] and answer.note is None


def test_an_answer_citing_nothing_is_not_shown(generative_bot):
    _, answer = ask(generative_bot, scripted("Ketamine is a horse tranquilizer from Belgium."))
    assert not answer.found and answer.text == NOT_IN_ARTICLE
    assert "cited none of the passages" in answer.note


@pytest.mark.parametrize("model", [FailingChatModel(messages=iter([])), scripted("")], ids=["unreachable", "empty"])
def test_failures_fall_back_to_quoting_with_a_note(generative_bot, model):
    pieces, answer = ask(generative_bot, model)
    assert answer.backend == "extractive" and answer.found
    assert "answered by quoting the article instead" in answer.note
    assert answer.note.split(";")[0] in "".join(pieces)
    assert "glutamate receptor" in answer.citations[0].quote


def test_follow_up_is_rewritten_by_the_model(generative_bot):
    model = scripted("What did Boris Heifets say about glutamate?", "He said it obstructs a particular kind of glutamate receptor [1].")
    _, answer = ask(generative_bot, model, question="What did he say about glutamate?", history=[("Who is Boris Heifets?", "…")])
    assert answer.standalone_question == "What did Boris Heifets say about glutamate?"


def test_first_token_time_is_reported(generative_bot):
    _, answer = ask(generative_bot, scripted("Heifets named a particular kind of glutamate receptor [1]."))
    assert 0 < answer.timings_ms["first_token"] <= answer.timings_ms["total"]


def test_marker_filter_holds_split_markers_until_they_close():
    markers = MarkerFilter(passage_count=2)
    shown = [markers.feed(chunk) for chunk in ["Yes [", "1", "] and no [", "3", "] or [2", "]."]]
    shown.append(markers.finish())
    assert "".join(shown) == "Yes [1] and no  or [2]."
    assert shown[0] == "Yes " and markers.dropped == [3]
