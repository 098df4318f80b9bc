"""Checking and normalising a question before anything is done with it.

Every entry point (Python API, CLI, web chat) passes through here, so what reaches retrieval is
always one line of printable text of bounded length: control characters typed or pasted by
accident cannot change an answer, and no question can make a later stage slow.
"""

from __future__ import annotations

import re

from assistant.errors import UserError

# A question, not a document: longer ones are refused at once, so none can tie up the cross-encoder for seconds.
MAX_QUESTION_CHARS = 2000

# Control characters that are not white space (NUL, BEL, ESC, ...) and lone surrogates, which a browser or a
# non-UTF-8 terminal can send. They are dropped, not replaced, so "Bo\x00ris" still asks about Boris.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"\s+")  # tabs, line breaks and the other white-space controls become one space


class QuestionError(UserError, ValueError):
    """A question that cannot be asked; the message says why in one line."""


def normalise_question(question: object) -> str:
    """The question as one line of printable text, or QuestionError saying why it cannot be asked."""
    if question is None:
        question = ""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, not {type(question).__name__}")
    # Checked before the (linear, but not free) cleaning too: a 100 MB "question" is refused in microseconds.
    if len(question) > 4 * MAX_QUESTION_CHARS:
        raise _too_long(question)
    question = _SPACES.sub(" ", _NOT_TEXT.sub("", question)).strip()
    if not question:
        raise QuestionError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise _too_long(question)
    if not any(char.isalnum() for char in question):
        raise QuestionError("the question has no words in it, only punctuation or symbols")
    return question


def _too_long(question: str) -> QuestionError:
    return QuestionError(f"the question is too long ({len(question):,} characters; at most {MAX_QUESTION_CHARS:,})")
