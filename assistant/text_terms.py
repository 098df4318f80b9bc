"""Word stems for lexical matching, shared by BM25 retrieval and sentence scoring."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"(?u)\b\w\w+\b")
QUESTION_WORDS = frozenset("what which who whom whose when where why how much many does did do is are was were say said tell".split())
STOPWORDS = frozenset(STOPWORDS_EN) | QUESTION_WORDS


@lru_cache(maxsize=1)
def stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def content_stems(text: str) -> list[str]:
    """Lower-cased, stemmed words of ``text`` without stop words or question words."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
    return stemmer().stemWords(words)
