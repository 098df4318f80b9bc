"""The span of a quoted sentence that answers the question, to show in bold.

Only where the kind of answer makes it findable without a reading model: a number or amount
("how many"), a date or year ("when", "what year"), a name ("who"), or the noun a "which X"
question asks for. Anything else stays unbolded rather than bolding a guess.
"""

from __future__ import annotations

import re

from assistant.text_terms import STOPWORDS

_NUMBER_WORD = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozen|half"
)
_MONTH = r"January|February|March|April|May|June|July|August|September|October|November|December"
_AMOUNT = re.compile(
    rf"(?:[$€£]\s?)?\b(?:\d[\d,.]*|(?:{_NUMBER_WORD}))(?:[\s-](?:{_NUMBER_WORD}|percent|per cent|%))*"
    rf"(?:\s?(?:%|percent|per cent|million|billion|times|years?|months?|weeks?|days?|hours?|minutes?|"
    rf"people|tonnes|kilometres|km|miles|mg))?(?:\s+of\s+(?:the\s+)?\d[\d,.]*)?",
    re.I,
)
_UNIT = re.compile(r"\b(years?|months?|weeks?|days?|hours?|minutes?|seconds?|centur(y|ies)|decades?|km|kilometres?|"
                   r"kilometers?|miles?|metres?|meters?|feet|foot)\b", re.I)
_DATE = re.compile(
    rf"\b(?:(?:\d{{1,2}} )?(?:{_MONTH})(?: \d{{1,2}})?,? \d{{3,4}}|(?:{_MONTH}) \d{{1,2}}|"
    rf"(?:early |late |mid-)?\d{{3,4}}s?(?:\s?(?:–|-|to)\s?\d{{2,4}})?|(?:{_MONTH}))\b"
)
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:(?:of|de|van|von|the|and|for)\s+)?[A-Z][\w'’.-]*)*")
_WHO = re.compile(r"^\W*who(m|se)?\b", re.I)
_WHEN = re.compile(r"^\W*when\b|\b(what|which) (year|date|month|day|century|decade)\b", re.I)
_HOW_MANY = re.compile(r"\bhow (many|much)\b|\bwhat (number|percentage|proportion|share|amount)\b", re.I)
_HOW_LONG = re.compile(r"\bhow (long|far|old|often)\b|\bhow \w+ apart\b", re.I)
_COUNTED = re.compile(r"\bhow (?:many|much) (\w+)", re.I)
_WHICH = re.compile(r"^\W*(?:which|what)\s+([A-Za-z]+)", re.I)


def _spans(pattern: re.Pattern, sentence: str, question: str) -> list[tuple[int, int]]:
    """Matches of ``pattern`` in the sentence that the question does not already contain."""
    asked = question.lower()
    spans = []
    for match in pattern.finditer(sentence):
        text = match.group(0).strip().rstrip(",.")
        if text and (len(text) > 1 or text.isdigit()) and text.lower() not in asked and text.lower() not in STOPWORDS:
            start = match.start() + (len(match.group(0)) - len(match.group(0).lstrip()))
            spans.append((start, start + len(text)))
    return spans


def _first_new(pattern: re.Pattern, sentence: str, question: str) -> tuple[int, int] | None:
    spans = _spans(pattern, sentence, question)
    return spans[0] if spans else None


def _amount(sentence: str, question: str) -> tuple[int, int] | None:
    """The amount next to the thing counted ("240 volunteers" for "how many volunteers"), else the first."""
    spans = _spans(_AMOUNT, sentence, question)
    counted = _COUNTED.search(question)
    if counted:
        follows = re.compile(rf"^\W*(?:\w+\W+){{0,2}}?{re.escape(counted.group(1)[:5])}", re.I)
        for start, end in spans:
            if follows.match(sentence[end : end + 60]):
                return start, end
    return spans[0] if spans else None


def _focus_phrase(focus: str, sentence: str) -> tuple[int, int] | None:
    """The capitalised name around the focus noun ("the American Journal of Psychiatry" for 'journal')."""
    match = re.search(rf"\b{re.escape(focus)}\w*\b", sentence, re.I)
    if not match:
        return None
    for name in _NAME.finditer(sentence):
        if name.start() <= match.start() and match.end() <= name.end() and " " in name.group(0):
            return name.start(), name.end()
    return None


def answer_span(question: str, sentence: str) -> tuple[int, int] | None:
    """(start, end) inside ``sentence`` of the answering span, or None when it is not findable."""
    if _WHEN.search(question):
        return _first_new(_DATE, sentence, question)
    if _HOW_LONG.search(question):
        return next((span for span in _spans(_AMOUNT, sentence, question) if _UNIT.search(sentence[slice(*span)])), None)
    if _HOW_MANY.search(question):
        return _amount(sentence, question)
    if _WHO.search(question):
        return _first_new(_NAME, sentence, question)
    which = _WHICH.match(question)
    if which:
        return _focus_phrase(which.group(1), sentence)
    return None


def bolded(question: str, sentence: str) -> str:
    """The sentence with its answering span in Markdown bold, when one is findable."""
    span = answer_span(question, sentence)
    if span is None:
        return sentence
    start, end = span
    return f"{sentence[:start]}**{sentence[start:end]}**{sentence[end:]}"
