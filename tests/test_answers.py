"""Answer quality on hand-written question sets, with the real index, model and answerer.

The floors below sit a little under what the current pipeline measures (see the README), so a
regression in retrieval, sentence scoring or abstention fails here. Every individual answer is
also checked for honesty: each quote is verbatim article text inside the passage it cites.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from assistant import Assistant
from assistant.answer.model import WEAK_MATCH_PREFIX
from assistant.errors import UserError

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


def _load(name: str) -> dict:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seed_bot(tmp_path_factory) -> Assistant:
    corpus = tmp_path_factory.mktemp("seed-corpus")
    shutil.copy(ROOT / "corpus" / "ketamine-opioid.txt", corpus)
    return Assistant(corpus_dir=corpus, data_dir=tmp_path_factory.mktemp("seed-index"))


@pytest.fixture(scope="module")
def river_bot(tmp_path_factory) -> Assistant:
    corpus = tmp_path_factory.mktemp("river-corpus")
    shutil.copy(DATA / "second_article" / "river-cleanup.md", corpus)
    return Assistant(corpus_dir=corpus, data_dir=tmp_path_factory.mktemp("river-index"))


def assert_honest(bot: Assistant, answer) -> None:
    """Every [n] has a citation, every quote is the article's own text inside the cited passage."""
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations}
    for citation in answer.citations:
        article = bot.index.articles[citation.article_id]
        assert article.text[citation.start : citation.end] == citation.text
        assert article.text[citation.quote_start : citation.quote_end] == citation.quote
        assert citation.start <= citation.quote_start < citation.quote_end <= citation.end
        assert citation.quote in answer.text.replace("**", "")  # bold marks the answering span


def answer_quality(bot: Assistant, questions: dict) -> dict:
    articles = list(bot.index.articles.values()) if bot.articles() else []
    passage_first = right_quote = 0
    for item in questions["answerable"]:
        top = bot.retriever.retrieve(item["question"], articles, bot.settings.top_k)
        passage_first += item["evidence"] in top[0].passage.text
        answer = bot.ask(item["question"])
        assert_honest(bot, answer)
        right_quote += answer.found and any(item["evidence"] in c.quote for c in answer.citations)
    abstained = 0
    for item in questions["unanswerable"]:
        answer = bot.ask(item["question"])
        assert_honest(bot, answer)
        if answer.weak:  # only "the closest passage", never a plain answer: honest, but not a refusal
            assert not answer.found and answer.text.startswith(WEAK_MATCH_PREFIX) and len(answer.citations) == 1
        elif not answer.found:
            assert answer.citations == [] and "does not say" in answer.text
            abstained += 1
    return {"passage_first": passage_first, "right_quote": right_quote, "abstained": abstained}


def test_seed_article_answers_and_abstentions(seed_bot):
    result = answer_quality(seed_bot, _load("seed_questions.yaml"))
    assert result["passage_first"] >= 19, result
    # Reader run 4 (cap 4) measures 21/37 quoted right and 17/18 refused (docs/evaluation.md: run 2 20/37 and
    # 18/18 with one wrong quote on an answerable question; run 4 quotes one near miss, "How long did the side
    # effects ... last", instead). The issue's bar is 32/37 with 16/18: it stays open on the right quotes.
    assert result["right_quote"] >= 21, result
    assert result["abstained"] >= 17, result


def test_second_article_is_not_tuned_away(river_bot):
    result = answer_quality(river_bot, _load("second_questions.yaml"))
    assert result["right_quote"] >= 13, result  # measured 13/16 and 7/8 with reader run 4 (run 2: 10/16, 8/8)
    assert result["abstained"] >= 7, result


def test_follow_ups_are_resolved_against_history(seed_bot):
    resolved = 0
    for conversation in _load("seed_questions.yaml")["followups"]:
        first, second = conversation["turns"]
        earlier = seed_bot.ask(first["question"])
        follow_up = seed_bot.ask(second["question"], history=[(first["question"], earlier.text)])
        assert_honest(seed_bot, follow_up)
        resolved += any(second["evidence"] in c.quote for c in follow_up.citations)
    assert resolved >= 5


def test_follow_up_without_history_is_not_rewritten(seed_bot):
    with_history = seed_bot.ask("What did he say about glutamate?", history=[("Who is Boris Heifets?", "…")])
    alone = seed_bot.ask("What did he say about glutamate?")
    assert "Heifets" in with_history.standalone_question
    assert alone.standalone_question == "What did he say about glutamate?"
    # The rewritten question leads the answerer to what Heifets said (whether or not it is sure enough to quote
    # it): his words are read first, and his words on glutamate are among the first two (reader run 4 puts his
    # "opioid result was neglected" first: that ranking is the reader's, measured by the question sets).
    articles, _ = seed_bot.scope(None)
    retrieved = seed_bot.retriever.retrieve(with_history.standalone_question, articles, seed_bot.settings.top_k)
    ranked = [candidate.text for candidate, _ in seed_bot.answerer.rank(with_history.standalone_question, retrieved)]
    assert "Heifets" in ranked[0]
    assert any("Heifets" in text and "glutamate" in text for text in ranked[:2]), ranked[:2]


def test_stream_yields_text_then_the_same_answer(seed_bot):
    events = list(seed_bot.stream("Which neurotransmitter has most research on ketamine focused on?"))
    final = events[-1]
    pieces = events[:-1]
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == final.text
    assert final.found and "glutamate" in final.text


def test_answer_to_dict_matches_the_json_contract(seed_bot):
    payload = seed_bot.ask("Who is Boris Heifets?").to_dict()
    assert {"question", "answer", "found", "article", "backend", "citations", "timings_ms"} <= payload.keys()
    assert {"n", "article_id", "source", "title", "text", "start", "end", "score"} <= payload["citations"][0].keys()
    assert set(payload["timings_ms"]) == {"retrieve", "answer", "total"}


def test_confidence_decides_between_quoting_showing_the_closest_passage_and_refusing(seed_bot):
    level, band = seed_bot.answerer.model.found_level, seed_bot.answerer.model.weak_band
    assert 0.0 < band < level  # fitted with the level (training/fit_decision.py), not a default of 0
    questions = _load("seed_questions.yaml")
    asked = [seed_bot.ask(item["question"]) for item in questions["answerable"] + questions["unanswerable"]]
    for answer in asked:
        assert 0.0 <= answer.confidence <= 1.0
        assert answer.found == (answer.confidence >= level), (answer.question, answer.confidence, level)
        assert answer.weak == (level - band <= answer.confidence < level), (answer.question, answer.confidence)
        assert answer.to_dict()["confidence"] == round(answer.confidence, 4)
    # all three outcomes occur on the shipped article
    assert any(a.found for a in asked) and any(a.weak for a in asked) and any(not a.found and not a.weak for a in asked)


def test_weak_band_shows_the_closest_passage_as_such(make_assistant):
    # A band as wide as the whole scale: every question not answered outright shows its closest passage.
    bot = make_assistant(weak_band=1.0)
    answer = bot.ask("What dose of ketamine in mg/kg was given to each patient?")
    assert not answer.found and answer.weak
    assert answer.text.startswith(WEAK_MATCH_PREFIX) and len(answer.citations) == 1
    assert answer.confidence < bot.answerer.model.found_level
    assert_honest(bot, answer)
    strict = make_assistant(data_dir=bot.settings.data_dir, weak_band=0.0).ask(
        "What dose of ketamine in mg/kg was given to each patient?")
    assert not strict.found and not strict.weak and strict.citations == []


def test_an_overlong_question_is_refused_at_once(seed_bot):
    with pytest.raises(UserError, match="too long"):
        seed_bot.ask("when was " * 11000)
    assert seed_bot.ask("Who is Nolan Williams? " + " " * 1900).question.startswith("Who is")  # spaces are trimmed


def test_a_repeated_question_is_answered_from_the_answer_cache_until_the_article_changes(make_assistant, monkeypatch):
    """Same question, same article version: the same answer without retrieving again (visitors clicking the
    same suggestion). Once a re-scan changes the article, the question is answered afresh from the new text."""
    bot = make_assistant()
    question = "How many of the participants saw their symptoms subside?"
    first = bot.ask(question)
    calls = []
    retrieve = bot.retriever.retrieve
    monkeypatch.setattr(bot.retriever, "retrieve", lambda *args, **kwargs: calls.append(args) or retrieve(*args, **kwargs))
    again = bot.ask(question)
    assert calls == [], "a repeated question was answered again instead of from the cache"
    assert again.to_dict() | {"timings_ms": None} == first.to_dict() | {"timings_ms": None}
    again.citations.clear()  # callers may change what they got: the cache keeps its own copy
    assert bot.ask(question).citations == first.citations

    path = next(Path(bot.settings.corpus_dir).iterdir())
    path.write_text(path.read_text(encoding="utf-8").replace("7 of the 12", "9 of the 12"), encoding="utf-8")
    bot.sync()
    changed = bot.ask(question)
    assert len(calls) == 1, "the changed article's answer came from the cache"
    assert changed.found and "9 of the 12" in changed.text.replace("**", "")


def test_the_answer_cache_is_bounded_and_can_be_turned_off(make_assistant):
    bounded = make_assistant(answer_cache=2)
    for question in ("Who is Boris Heifets?", "Who is Gerard Sanacora?", "Who is Nolan Williams?"):
        bounded.ask(question)
    assert len(bounded._answers) == 2
    off = make_assistant(data_dir=bounded.settings.data_dir, answer_cache=0)
    off.ask("Who is Boris Heifets?")
    assert len(off._answers) == 0
