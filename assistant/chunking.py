"""Sentence-aware splitting of an article into passages sized for MiniLM's window.

Passages are built from whole sentences (pysbd finds the boundaries), so no passage cuts a
sentence and the extractive answerer can always quote complete ones. Offsets are into the
cleaned article text: ``article.text[p.start:p.end] == p.text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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


# pysbd's cost grows faster than the text (100 / 200 / 400 KB: 3 / 11 / 34 s), so it only ever sees one
# paragraph, and a paragraph longer than this is cut first (after a sentence end if the window has one, else at a
# space). This is also the longest "sentence" a passage can hold. 4,000 characters take pysbd ~10 ms.
MAX_SEGMENT_CHARS = 4000
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END_BREAK = re.compile(r"[.!?][\"'”’)\]]*\s")


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for paragraph_break in _PARAGRAPH_BREAK.finditer(text):
        if paragraph_break.start() > start:
            yield start, paragraph_break.start()
        start = paragraph_break.end()
    if start < len(text):
        yield start, len(text)


def _segments(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of pieces of ``text`` short enough for pysbd: paragraphs, long ones cut into windows."""
    for start, end in _paragraphs(text):
        while end - start > MAX_SEGMENT_CHARS:
            window = text[start : start + MAX_SEGMENT_CHARS]
            cut = max((m.end() for m in _SENTENCE_END_BREAK.finditer(window)), default=0)
            if cut < MAX_SEGMENT_CHARS // 2:  # no sentence end late enough: cut at the last space instead
                space = max(window.rfind(" "), window.rfind("\n"), window.rfind("\t"))
                cut = space + 1 if space > 0 else MAX_SEGMENT_CHARS
            yield start, start + cut
            start += cut
        yield start, end


# A run of tiny sentences ("Ok." on 200,000 lines: 209,523 texts to embed, 40 minutes) is one unit, up to
# MERGED_RUN_CHARS long. A tiny sentence between ordinary ones stays a sentence of its own.
TINY_SENTENCE_CHARS = 12
MERGED_RUN_CHARS = 240


def sentence_spans(text: str) -> list[Span]:
    """Sentence boundaries in ``text``, trimmed of surrounding white space; runs of tiny sentences are
    merged into units (see TINY_SENTENCE_CHARS)."""
    spans: list[Span] = []
    run_open = False  # the last unit is a run of tiny sentences that may grow (across paragraphs too:
    for segment_start, segment_end in _segments(text):  # cleaning makes every short line a paragraph)
        for piece in _segmenter().segment(text[segment_start:segment_end]):
            start, end = segment_start + piece.start, segment_start + piece.end
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end <= start:
                continue
            tiny = end - start < TINY_SENTENCE_CHARS
            if tiny and run_open and end - spans[-1].start <= MERGED_RUN_CHARS:
                spans[-1] = Span(spans[-1].start, end)
            else:
                spans.append(Span(start, end))
            run_open = tiny and spans[-1].end - spans[-1].start < MERGED_RUN_CHARS
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


def chunk_article(article_id: str, text: str, max_tokens: int, count_tokens: Callable[[str], int],
                  sentences: list[Span] | None = None) -> list[Passage]:
    """Pack consecutive sentences into passages of at most ``max_tokens``.

    A paragraph break starts a new passage once the current one holds a third of the budget,
    so passages follow the author's paragraphs without leaving one-line scraps. A single
    sentence longer than the budget becomes a passage of its own (the model truncates it).
    """
    min_tokens = max_tokens // 3
    groups: list[list[Span]] = []
    current: list[Span] = []
    current_tokens = 0
    for span in sentence_spans(text) if sentences is None else sentences:  # the caller's, if it split them already
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
