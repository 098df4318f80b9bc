"""Passages: exact offsets into the cleaned text, whole sentences only, sized for MiniLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.chunking import chunk_article, sentence_spans, token_counter
from assistant.config import Settings, bundled_model_path
from assistant.corpus import load_article

REPO = Path(__file__).resolve().parent.parent
ARTICLES = {
    "seed": REPO / "corpus" / "ketamine-opioid.txt",
    "second": REPO / "tests" / "data" / "second_article" / "river-cleanup.md",
}
BUDGETS = [32, 64, Settings().passage_tokens, 256]


@pytest.fixture(scope="module")
def count_tokens():
    """MiniLM's own tokenizer (from the bundled model folder), as the index uses it."""
    return token_counter(bundled_model_path())


@pytest.fixture(scope="module", params=sorted(ARTICLES))
def article(request):
    return load_article(ARTICLES[request.param])


def word_count(text: str) -> int:
    return len(text.split())


def test_token_counter_counts_word_pieces(count_tokens):
    assert count_tokens("") == 0
    assert count_tokens("ketamine") > 1  # a rare word is several word pieces
    assert count_tokens("the cat sat") == 3


def test_sentence_spans_are_trimmed_ordered_and_cover_the_words(article):
    spans = sentence_spans(article.text)
    assert len(spans) > 10
    text = article.text
    previous_end = 0
    for span in spans:
        assert previous_end <= span.start < span.end <= len(text)
        assert not text[span.start].isspace() and not text[span.end - 1].isspace()
        assert text[previous_end : span.start].strip() == ""  # nothing between sentences but white space
        previous_end = span.end
    assert text[previous_end:].strip() == ""


def test_sentence_spans_do_not_split_abbreviations_or_decimals():
    text = "Dr. Smith paid $2.4 million in the U.S. last year. Prices rose 3.5 percent. A third sentence follows."
    assert [text[s.start : s.end] for s in sentence_spans(text)] == [
        "Dr. Smith paid $2.4 million in the U.S. last year.",
        "Prices rose 3.5 percent.",
        "A third sentence follows.",
    ]


@pytest.mark.parametrize("budget", BUDGETS)
def test_passage_offsets_round_trip(article, count_tokens, budget):
    passages = chunk_article(article.id, article.text, budget, count_tokens)
    assert passages
    for passage in passages:
        assert article.text[passage.start : passage.end] == passage.text
        assert passage.article_id == article.id
        assert passage.text == passage.text.strip()


@pytest.mark.parametrize("budget", BUDGETS)
def test_passages_are_numbered_one_to_n_in_text_order(article, count_tokens, budget):
    passages = chunk_article(article.id, article.text, budget, count_tokens)
    assert [p.n for p in passages] == list(range(1, len(passages) + 1))
    assert all(a.end <= b.start for a, b in zip(passages, passages[1:]))


@pytest.mark.parametrize("budget", BUDGETS)
def test_passages_never_cut_a_sentence(article, count_tokens, budget):
    """Every passage boundary is a sentence boundary, and together the passages hold every sentence once."""
    spans = sentence_spans(article.text)
    starts = {s.start for s in spans}
    ends = {s.end for s in spans}
    passages = chunk_article(article.id, article.text, budget, count_tokens)
    for passage in passages:
        assert passage.start in starts, article.text[passage.start - 20 : passage.start + 20]
        assert passage.end in ends, article.text[passage.end - 20 : passage.end + 20]
    covered = [s for s in spans if any(p.start <= s.start and s.end <= p.end for p in passages)]
    assert covered == spans
    assert passages[0].start == spans[0].start and passages[-1].end == spans[-1].end


@pytest.mark.parametrize("budget", BUDGETS)
def test_token_budget_is_respected_except_for_single_long_sentences(article, count_tokens, budget):
    spans = sentence_spans(article.text)
    for passage in chunk_article(article.id, article.text, budget, count_tokens):
        inside = [s for s in spans if passage.start <= s.start and s.end <= passage.end]
        tokens = count_tokens(passage.text)
        if len(inside) > 1:
            assert tokens <= budget, (tokens, passage.text)
        else:
            assert len(inside) == 1


def test_small_budgets_make_more_passages(article, count_tokens):
    counts = [len(chunk_article(article.id, article.text, budget, count_tokens)) for budget in BUDGETS]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > counts[-1]


def test_the_default_budget_fits_minilm():
    """MiniLM truncates at 256 word pieces (with [CLS]/[SEP]); passages must fit inside it."""
    assert 0 < Settings().passage_tokens <= 254


def test_a_single_long_sentence_becomes_its_own_passage():
    long_sentence = "This sentence " + " ".join(f"word{i}" for i in range(40)) + " ends here."
    text = f"Short one here. {long_sentence} Another short one. And a last one here."
    passages = chunk_article("x", text, 10, word_count)
    assert long_sentence in [p.text for p in passages]
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text


def test_passages_follow_paragraphs_once_they_hold_a_third_of_the_budget():
    first = "Alpha beta gamma delta epsilon. Zeta eta theta iota kappa."
    second = "Lambda mu nu xi omicron. Pi rho sigma tau upsilon."
    text = f"{first}\n\n{second}"
    passages = chunk_article("x", text, 30, word_count)  # both paragraphs would fit in one passage
    assert [p.text for p in passages] == [first, second]


def test_a_short_tail_is_merged_into_the_previous_passage():
    body = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    tail = "Thirteen fourteen fifteen."
    text = f"{body}\n\n{tail}"
    # budget 30: the paragraph break closes the 12-word passage (>= a third); the 3-word tail fits back in
    passages = chunk_article("x", text, 30, word_count)
    assert [(p.start, p.end) for p in passages] == [(0, len(text))]


def test_a_tail_that_does_not_fit_stays_a_passage_of_its_own():
    text = " ".join(f"Sentence number {i} has six words." for i in range(1, 6))
    passages = chunk_article("x", text, 27, word_count)
    assert [word_count(p.text) for p in passages] == [24, 6]


def test_empty_text_has_no_passages(count_tokens):
    assert chunk_article("x", "", 128, count_tokens) == []
    assert sentence_spans("   \n\n ") == []
