"""Answers about the article itself: who wrote it, when, where it comes from, what it is called.

The title and the source link are what the loader recorded (metadata, shown without [n]); a
byline or a date line is only reported when the top of the cleaned text carries one, and then
it is quoted and cited like any other quote. Nothing is guessed: a date inside a sentence of
the story ("the study published in March 2019") is not the article's date, so only short
lines near the top count.
"""

from __future__ import annotations

import re

from assistant.answer.intents import AUTHOR, DATE, SOURCE, TITLE
from assistant.answer.model import Citation
from assistant.answer.spans import cite_span
from assistant.index import IndexedArticle

# Bylines and date lines sit in the first few lines of an article and are short.
HEADER_LINES = 5
MAX_HEADER_LINE_CHARS = 100

_NAME = r"[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3}"
# The lead-in in any case, the names capitalised: "By Jane Doe and John Roe, Science Correspondents".
_BYLINE = re.compile(
    rf"(?i:by|written by|words by|reporting by|author:?)\s+{_NAME}(?:(?:,| and| &) {_NAME})*(?:, [A-Za-z ]+)?"
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)? {_MONTH},? (?:19|20)\d\d|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? (?:19|20)\d\d|"
    r"(?:19|20)\d\d-\d\d-\d\d|\d{1,2}[/.]\d{1,2}[/.](?:19|20)\d\d)\b",
    re.I,
)
_HEADER_LINE = re.compile(r"[^\n]+")


# What may follow a byline on its own line: a separator and more header ("By Jonas Keller · 2 February 2025").
_AFTER_BYLINE = re.compile(r"\s*(?:[·|•/–—-]\s*.*)?")


def _header_lines(article: IndexedArticle):
    """(start, text) of the first HEADER_LINES lines, each stripped, skipping those too long to be header."""
    for number, line in enumerate(_HEADER_LINE.finditer(article.text)):
        if number >= HEADER_LINES:
            return
        text = line.group().strip()
        if text and len(text) <= MAX_HEADER_LINE_CHARS:
            yield line.start() + line.group().index(text), text


def byline(article: IndexedArticle) -> tuple[int, int] | None:
    """Offsets of a "By Jane Doe" at the start of a line at the top of the text, alone on its line or
    followed by a separator and more header (a date), if there is one."""
    for start, text in _header_lines(article):
        found = _BYLINE.match(text)
        if found and _AFTER_BYLINE.fullmatch(text[found.end():]):
            return start, start + len(found.group().rstrip(" ,"))
    return None


def dateline(article: IndexedArticle) -> tuple[int, int] | None:
    """Offsets of a full date in a short line at the top of the text, if there is one."""
    for start, text in _header_lines(article):
        found = _DATE.search(text)
        if found:
            return start + found.start(), start + found.end()
    return None


def in_header_lines(lines: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether ``start:end`` lies inside one of ``header_lines``' lines."""
    return any(low <= start and end <= high for low, high in lines)


def header_lines(article: IndexedArticle) -> list[tuple[int, int]]:
    """The whole lines that hold the byline or the date: the pane shows them once, in its header."""
    lines = []
    for span in (byline(article), dateline(article)):
        if span:
            start = article.text.rfind("\n", 0, span[0]) + 1
            end = article.text.find("\n", span[1])
            lines.append((start, len(article.text) if end < 0 else end))
    return sorted(set(lines))


def metadata_reply(field: str | None, article: IndexedArticle) -> tuple[str, list[Citation]] | None:
    """The reply text and its citations (only a quoted byline or date is cited); None when the article does not say."""
    if field == TITLE and article.title:
        return f"The article's title is: {article.title}", []
    if field == SOURCE and article.url:
        return f"The article's source link is {article.url}", []
    quoted_line = {AUTHOR: byline, DATE: dateline}.get(field)
    span = quoted_line(article) if quoted_line else None
    citation = cite_span(1, article, *span) if span else None
    if citation is None:
        return None
    if field == AUTHOR:
        return f"The article's byline reads “{citation.quote}” [1]", [citation]
    return f"The article is dated “{citation.quote}” [1]", [citation]
