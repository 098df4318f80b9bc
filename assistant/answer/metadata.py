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


def _header_line(article: IndexedArticle, pattern: re.Pattern, search: bool) -> tuple[int, int] | None:
    """Offsets of the first short line near the top that matches (or, with ``search``, contains) the pattern."""
    for number, line in enumerate(_HEADER_LINE.finditer(article.text)):
        if number >= HEADER_LINES:
            break
        text = line.group().strip()
        if len(text) > MAX_HEADER_LINE_CHARS:
            continue
        found = pattern.search(text) if search else pattern.fullmatch(text)
        if found:
            start = line.start() + line.group().index(text)
            return start, start + len(text)
    return None


def byline(article: IndexedArticle) -> tuple[int, int] | None:
    """Offsets of a "By Jane Doe" line at the top of the text, if there is one."""
    return _header_line(article, _BYLINE, search=False)


def dateline(article: IndexedArticle) -> tuple[int, int] | None:
    """Offsets of a short line at the top of the text that carries a full date, if there is one."""
    return _header_line(article, _DATE, search=True)


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
    label = "byline" if field == AUTHOR else "date line"
    return f"The article's {label} reads “{citation.quote}” [1]", [citation]
