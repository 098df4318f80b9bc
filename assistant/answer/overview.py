"""An extractive overview: the few sentences of the article that best stand for the whole of it.

A sentence is central when its stored MiniLM vector lies close to the article's centroid; the
sentences are then picked greedily with a redundancy penalty (maximal marginal relevance), so
the overview covers several points instead of repeating the main one, and earlier sentences
get a mild bonus because news stories put the gist first. Only the reporter's own full
sentences qualify: short fragments, questions, quotations, links and page debris do not
summarise anything. The chosen sentences are quoted verbatim, in article order.
"""

from __future__ import annotations

import numpy as np

from assistant.answer.metadata import header_lines, in_header_lines
from assistant.answer.model import Citation
from assistant.answer.spans import cite_span
from assistant.index import IndexedArticle

MIN_SENTENCES = 3
MAX_SENTENCES = 5
# One overview sentence per this many article sentences, within the bounds above.
SENTENCES_PER_PICK = 10
MIN_WORDS = 8
# Weight of centrality against redundancy with the sentences already picked (MMR's lambda).
RELEVANCE_WEIGHT = 0.7
# How much the first sentence is preferred over the last one.
POSITION_BONUS = 0.08
# A sentence more than this share inside quote marks is someone's quote, not the story.
MAX_QUOTED_SHARE = 0.5
_OPENING_QUOTES = "“‘\""
# A sentence opening with a pronoun leans on the one before it ("Her team has been ..."): unclear on its own.
_LEANING_OPENERS = frozenset("he she his her they their them it its this these those that such".split())
_CLOSING_QUOTES = "”’\""


def _quoted_share(sentence: str) -> float:
    """Share of the sentence's characters that lie between double quote marks."""
    inside = False
    quoted = 0
    for char in sentence:
        if char == "“" or (char == '"' and not inside):
            inside = True
        elif char == "”" or char == '"':
            inside = False
        elif inside:
            quoted += 1
    return quoted / len(sentence)


def summary_worthy(sentence: str, title: str) -> bool:
    """A full declarative sentence of the story itself: no fragment, question, quote, link or debris."""
    body = sentence.rstrip(_CLOSING_QUOTES + " ")
    return (
        len(sentence.split()) >= MIN_WORDS
        and "\n" not in sentence
        and body.endswith((".", "!"))
        and sentence.strip() != title.strip()
        and "http" not in sentence
        and "www." not in sentence
        and sentence[0] not in _OPENING_QUOTES
        and sentence.split()[0].lower() not in _LEANING_OPENERS
        and _quoted_share(sentence) <= MAX_QUOTED_SHARE
    )


def overview_size(article: IndexedArticle) -> int:
    """How many sentences the overview quotes: more for a longer article, between 3 and 5."""
    return min(MAX_SENTENCES, max(MIN_SENTENCES, len(article.sentences) // SENTENCES_PER_PICK))


def overview_sentences(article: IndexedArticle, vectors: np.ndarray) -> list[int]:
    """Numbers of the chosen sentences (indexes into ``article.sentences``), in article order.

    ``vectors`` are the article's normalised sentence embeddings, aligned with its sentences.
    """
    texts = [article.text[start:end] for start, end in article.sentences]
    header = header_lines(article)  # the byline and the date are metadata, not the story
    candidates = [i for i, (text, (start, end)) in enumerate(zip(texts, article.sentences))
                  if summary_worthy(text, article.title) and not in_header_lines(header, start, end)]
    if not candidates:
        return []
    centroid = vectors.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    position = 1.0 - np.arange(len(texts)) / max(len(texts) - 1, 1)
    relevance = vectors @ centroid + POSITION_BONUS * position
    chosen: list[int] = []
    while candidates and len(chosen) < overview_size(article):
        redundancy = (vectors[candidates] @ vectors[chosen].T).max(axis=1) if chosen else np.zeros(len(candidates))
        value = RELEVANCE_WEIGHT * relevance[candidates] - (1 - RELEVANCE_WEIGHT) * redundancy
        chosen.append(candidates.pop(int(np.argmax(value))))
    return sorted(chosen)


def overview_citations(article: IndexedArticle, vectors: np.ndarray) -> list[Citation]:
    """The overview as citations [1]..[k], one per sentence, each quoting it from its passage."""
    citations = []
    for i in overview_sentences(article, vectors):
        start, end = article.sentences[i]
        citation = cite_span(len(citations) + 1, article, start, end)
        if citation is not None:
            citations.append(citation)
    return citations
