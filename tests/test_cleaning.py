"""Cleaning: the shipped article's real debris, and small strings (what must and must not change)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.cleaning import clean_text, decode_entities, is_debris

SEED_PATH = Path(__file__).resolve().parent.parent / "corpus" / "ketamine-opioid.txt"
SEED_TITLE = "What if Ketamine Actually Works Like an Opioid?"
SEED_URL = "https://www.wired.com/story/ketamine-opioid/"

RAW_SEED = SEED_PATH.read_text(encoding="utf-8")


# -- the shipped article ---------------------------------------------------------------------


def test_the_raw_seed_really_carries_the_debris():
    """Guards the tests below: if the shipped file were cleaned by hand they would prove nothing."""
    assert "it &#x 27; s" in RAW_SEED
    assert "they'&#x 27; re" in RAW_SEED
    assert "“”" in RAW_SEED and "””" in RAW_SEED
    assert "Please follow and like us:" in RAW_SEED and "%d bloggers like this:" in RAW_SEED
    assert f"Read more: {SEED_URL}" in RAW_SEED
    assert " ’ s" in RAW_SEED and "centers ." in RAW_SEED and ", ”" in RAW_SEED


def test_seed_title_and_source_url(seed_article):
    assert seed_article.title == SEED_TITLE
    assert seed_article.url == SEED_URL
    assert SEED_TITLE not in seed_article.text  # the headline is the title, not the first paragraph


def test_seed_spaced_entities_are_decoded(seed_text):
    assert "&#" not in seed_text and "&amp" not in seed_text
    assert "I believe it's an extremely intriguing paper" in seed_text
    assert "while they're taking increased dosages of opiates?" in seed_text
    assert "We can't totally address that concern" in seed_text
    assert "doesn't reveal that at all" in seed_text
    assert "And possibly we'll comprehend" in seed_text
    # no leftovers of the entity's parts
    assert not re.search(r"\b27 ?;", seed_text)
    assert "''" not in seed_text and "'’" not in seed_text


def test_seed_split_contractions_and_possessives_are_joined(seed_text):
    assert "World Health Organization’s list" in seed_text
    assert "One of ketamine’s lots of impacts" in seed_text
    assert "didn’t see enhancement" in seed_text
    assert "the clients’ depressive signs" in seed_text
    assert not re.search(r"\w ?[’'] (s|t|re|ll|ve|d|m)\b", seed_text)
    assert not re.search(r"\w [’'](s|t|re|ll|ve|d|m)\b", seed_text)


def test_seed_doubled_quotes_are_repaired(seed_text):
    for doubled in ("“”", "””", "““", "”“"):
        assert doubled not in seed_text
    assert "“Ketamine eliminates anxiety and suicidality,” states Steven Mandel" in seed_text
    assert "opioid receptors.”" in seed_text


def test_seed_has_no_space_before_punctuation_or_closing_quotes(seed_text):
    assert not re.search(r" [,.;:?!](?=\s|$)", seed_text), re.findall(r".{20} [,.;:?!]", seed_text)
    assert not re.search(r" ”", seed_text)
    assert not re.search(r"“ ", seed_text)
    assert not re.search(r"‘ ", seed_text)
    assert "who studies ketamine. “It does" in seed_text
    assert "in not-illegal-but-also-not-mainstream centers." in seed_text


def test_seed_quotes_are_balanced_per_paragraph(seed_text):
    for paragraph in seed_text.split("\n\n"):
        assert paragraph.count("“") == paragraph.count("”"), paragraph


@pytest.mark.parametrize(
    "debris",
    ["Please follow and like us", "Leave a Reply", "bloggers like this", "More Great WIRED Stories", "Read more", "wired.com"],
)
def test_seed_debris_lines_are_gone(seed_text, debris):
    assert debris.lower() in RAW_SEED.lower()
    assert debris.lower() not in seed_text.lower()


def test_seed_text_keeps_every_paragraph(seed_text):
    raw_paragraphs = [p for p in RAW_SEED.split("\n\n") if len(p.split()) > 8]
    assert len(seed_text.split("\n\n")) == len(raw_paragraphs)
    assert seed_text.startswith("Few drugs are as two-faced as ketamine.")
    assert seed_text.endswith("to the list of ketamine’s tasks.")
    assert "\n\n\n" not in seed_text and "  " not in seed_text


# -- small strings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("it &#x 27; s fine", "it's fine"),
        ("they'&#x 27; re here", "they're here"),
        ("we can &#39 ; t", "we can't"),
        ("Fish &amp ; chips", "Fish & chips"),
        ("A &quot;quoted&quot; word", 'A "quoted" word'),
        ("didn’ t go", "didn’t go"),
        ("the brain’ s opioid system", "the brain’s opioid system"),
        ("ketamine ’ s tasks", "ketamine’s tasks"),
        ("I can' t", "I can't"),
        ("the clients ’ depressive signs", "the clients’ depressive signs"),
        ("“ One of them, ” states Heifets .", "“One of them,” states Heifets."),
        ("“”Doubled opening quote,” “states someone.", "“Doubled opening quote,” states someone."),
        ("the end of it.””", "the end of it.”"),
        ("He left .", "He left."),
        ("Really ?", "Really?"),
        ("Wait ; what , now : yes !", "Wait; what, now: yes!"),
        ("Hello    world\t\tagain", "Hello world again"),
        ("  padded line  ", "padded line"),
    ],
)
def test_clean_text_repairs(raw, expected):
    assert clean_text(raw).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "It's a nice day, isn't it? The U.S. economy grew 2.4 percent.",
        "The dog's bowl and the dogs' bowls.",
        'He said, "I\'m fine." Then he left.',
        "She paid $3.50 for 1,900 items at 10:30 a.m. in the U.K.",
        "Rock 'n' roll is here to stay.",
        "In the '80s and '90s, Ma'am, it's O'Brien's.",
        "“Quoted text,” she said. ‘Inner,’ he replied.",
        "Visit https://example.com/a?b=1 for more.",
        "Mr. Smith went to Washington. Dr. Who? No.",
        "The results: 7 of 12 saw their symptoms subside (p < 0.05).",
        "Like this: a sentence that merely starts with a debris phrase.",
        "Related research from 2019 found the same thing.",
    ],
)
def test_clean_text_leaves_normal_text_alone(text):
    cleaned = clean_text(text)
    assert cleaned.text == text
    assert cleaned.source_url is None


@pytest.mark.parametrize("text", ["The capsule began its 're-entry' burn.", "Press the 's' key to save."])
def test_clean_text_leaves_single_quoted_words_alone(text):
    assert clean_text(text).text == text


def test_clean_text_paragraphs_are_separated_by_one_blank_line():
    cleaned = clean_text("First paragraph here.\n\n\n\nSecond one.\r\n\r\nThird.\n   \nFourth.")
    assert cleaned.text == "First paragraph here.\n\nSecond one.\n\nThird.\n\nFourth."


@pytest.mark.parametrize(
    "line",
    [
        "Please follow and like us:",
        "please follow and like us",
        "Leave a Reply",
        "Leave a comment",
        "%d bloggers like this:",
        "Like this:",
        "Share this:",
        "More Great WIRED Stories",
        "Advertisement",
        "Related Posts:",
    ],
)
def test_debris_lines_are_dropped(line):
    assert is_debris(line)
    assert clean_text(f"A real sentence of the article.\n\n{line}\n\nAnother real sentence.").text == (
        "A real sentence of the article.\n\nAnother real sentence."
    )


@pytest.mark.parametrize(
    ("line", "url"),
    [
        ("Read more: https://www.wired.com/story/ketamine-opioid/", "https://www.wired.com/story/ketamine-opioid/"),
        ("Source: https://example.org/news/river-cleanup", "https://example.org/news/river-cleanup"),
        ("Originally published at: https://example.net/a", "https://example.net/a"),
    ],
)
def test_source_link_lines_become_the_url(line, url):
    cleaned = clean_text(f"Body sentence one.\n\n{line}\n\nBody sentence two.")
    assert cleaned.source_url == url
    assert cleaned.text == "Body sentence one.\n\nBody sentence two."


def test_first_source_link_wins():
    cleaned = clean_text("Text.\n\nRead more: https://a.example/1\n\nSource: https://b.example/2")
    assert cleaned.source_url == "https://a.example/1"


def test_a_link_inside_a_sentence_is_not_a_source_line():
    text = "Read more about it at https://example.com/x before you decide."
    cleaned = clean_text(text)
    assert cleaned.text == text and cleaned.source_url is None


def test_decode_entities_handles_plain_and_spaced_forms():
    assert decode_entities("a &#x27; b & #39 ; c &amp ; d &rsquo; e") == "a ' b ' c & d ’ e"
    assert decode_entities("no entities: 5 & 6; AT&T") == "no entities: 5 & 6; AT&T"
