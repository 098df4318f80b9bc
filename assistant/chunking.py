"""Sentence-aware splitting of an article into passages sized for MiniLM's window.

Passages are built from whole sentences (pysbd finds the boundaries), so no passage cuts a
sentence and the extractive answerer can always quote complete ones. Offsets are into the
cleaned article text: ``article.text[p.start:p.end] == p.text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pysbd


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    article_id: str
    n: int
    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def sentence_spans(text: str) -> list[Span]:
    """Sentence boundaries in ``text``, trimmed of surrounding white space."""
    spans = []
    for piece in _segmenter().segment(text):
        start, end = piece.start, piece.end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append(Span(start, end))
    return spans


@lru_cache(maxsize=2)
def token_counter(model_path: str) -> Callable[[str], int]:
    """Count word pieces with the embedding model's own tokenizer (no special tokens)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


def _tokens_of(group: list[Span], text: str, count_tokens: Callable[[str], int]) -> int:
    return count_tokens(text[group[0].start : group[-1].end])


def chunk_article(article_id: str, text: str, max_tokens: int, count_tokens: Callable[[str], int]) -> list[Passage]:
    """Pack consecutive sentences into passages of at most ``max_tokens``.

    A paragraph break starts a new passage once the current one holds a third of the budget,
    so passages follow the author's paragraphs without leaving one-line scraps. A single
    sentence longer than the budget becomes a passage of its own (the model truncates it).
    """
    min_tokens = max_tokens // 3
    groups: list[list[Span]] = []
    current: list[Span] = []
    current_tokens = 0
    for span in sentence_spans(text):
        tokens = count_tokens(text[span.start : span.end])
        starts_paragraph = bool(current) and "\n\n" in text[current[-1].end : span.start]
        if current and (current_tokens + tokens > max_tokens or (starts_paragraph and current_tokens >= min_tokens)):
            groups.append(current)
            current, current_tokens = [], 0
        current.append(span)
        current_tokens += tokens
    if current:
        if groups and current_tokens < min_tokens and _tokens_of(groups[-1], text, count_tokens) + current_tokens <= max_tokens:
            groups[-1].extend(current)
        else:
            groups.append(current)
    return [
        Passage(article_id=article_id, n=n, text=text[group[0].start : group[-1].end], start=group[0].start, end=group[-1].end)
        for n, group in enumerate(groups, start=1)
    ]
