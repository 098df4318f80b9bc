"""Citing a stretch of article text that no retrieval produced (overview sentences, a byline).

Citations point into a passage, like those of retrieved answers, so the UI can show and
highlight them the same way.
"""

from __future__ import annotations

from assistant.answer.model import Citation, citation_for
from assistant.index import IndexedArticle
from assistant.retrieval import RetrievedPassage


def cite_span(n: int, article: IndexedArticle, start: int, end: int, score: float = 1.0) -> Citation | None:
    """Citation ``[n]`` quoting ``article.text[start:end]``; None if no single passage holds the span."""
    for passage in article.passage_list():
        if passage.start <= start and end <= passage.end:
            return citation_for(n, RetrievedPassage(article, passage, score, None, None), start, end, score)
    return None
