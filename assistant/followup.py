"""Turning a follow-up question into a standalone one, without a language model.

"What did he say about glutamate?" after "Who is Boris Heifets?" becomes "What did Boris
Heifets say about glutamate?": personal pronouns are replaced by the person last named in the
conversation, and other references ("it", "that study", "what about ...") carry the earlier
question's content words along so retrieval still finds the right part of the article.
"""

from __future__ import annotations

import re

from assistant.text_terms import STOPWORDS

_PERSON_PRONOUN = re.compile(r"\b(he|she|him|her|his|hers)\b", re.IGNORECASE)
_OTHER_REFERENCE = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|there|the same|the study|the paper|the drug)\b|^\s*(and|what about|how about|so)\b",
    re.IGNORECASE,
)
# Capitalised runs that are names of people: two or more capitalised words in a row.
_NAME = re.compile(r"\b([A-Z][a-z]+(?:[ -][A-Z][a-z]+)+)\b")
_NOT_PEOPLE = re.compile(r"\b(University|Journal|Organization|Clinics?|Health|Stories|America|Angeles|The|What|Who|How)\b")
_SURNAME = re.compile(r"(?<!^)(?<![.?!] )\b([A-Z][a-z]{2,})\b")

History = list[tuple[str, str]]


def _last_person(history: History) -> str | None:
    """The person last talked about: named in the latest question, else in its answer, and so on back."""
    for question, answer in reversed(history):
        for text in (question, answer):
            names = [n for n in _NAME.findall(text) if not _NOT_PEOPLE.search(n)]
            if names:
                return names[0]  # the subject comes first in questions and in news sentences alike
        surnames = [w for w in _SURNAME.findall(question) if w.lower() not in STOPWORDS]
        if surnames:
            return surnames[0]
    return None


def _possessive(name: str) -> str:
    return f"{name}'s"


def standalone_question(question: str, history: History | None) -> str:
    """The question rewritten to stand on its own; unchanged when it already does."""
    if not history:
        return question
    rewritten = question
    person = _last_person(history)
    if person and _PERSON_PRONOUN.search(question):
        rewritten = _PERSON_PRONOUN.sub(
            lambda m: _possessive(person) if m.group(1).lower() in ("his", "hers") else person, question
        )
    elif _OTHER_REFERENCE.search(question) or len(question.split()) <= 4:
        previous_question = history[-1][0]
        carried = [w for w in re.findall(r"[\w'-]+", previous_question) if w.lower() not in STOPWORDS]
        present = {w.lower() for w in re.findall(r"[\w'-]+", question)}
        extra = [w for w in carried if w.lower() not in present]
        if extra:
            rewritten = f"{question} ({' '.join(extra)})"
    return rewritten
