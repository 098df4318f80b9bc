"""Hybrid passage retrieval: Chroma's dense ranking and a BM25 ranking fused by reciprocal rank.

Dense vectors catch paraphrase ("depression" vs the article's "anxiety"); BM25 catches names,
numbers and rare words that MiniLM blurs. Reciprocal rank fusion needs no score calibration
between the two, which is why it is the fusion used here.
"""

from __future__ import annotations

from dataclasses import dataclass

import bm25s
import numpy as np

from assistant.chunking import Passage
from assistant.index import IndexedArticle, PassageIndex
from assistant.text_terms import content_stems

RRF_K = 60


@dataclass(frozen=True)
class RetrievedPassage:
    article: IndexedArticle
    passage: Passage
    score: float
    dense_rank: int | None
    lexical_rank: int | None


class _LexicalIndex:
    """BM25 over the passages of a fixed set of article versions."""

    def __init__(self, passages: list[tuple[IndexedArticle, Passage]]):
        self.passages = passages
        self.bm25 = bm25s.BM25()
        self.bm25.index([content_stems(p.text) or ["_"] for _, p in passages], show_progress=False)

    def ranking(self, query: str, k: int) -> list[int]:
        stems = content_stems(query)
        if not stems:
            return []
        vocabulary = self.bm25.vocab_dict
        ids = [[vocabulary[s] for s in stems if s in vocabulary]]
        if not ids[0]:
            return []
        k = min(k, len(self.passages))
        documents, scores = self.bm25.retrieve(ids, k=k, show_progress=False)
        return [int(doc) for doc, score in zip(documents[0], scores[0]) if score > 0]


class HybridRetriever:
    """Ranks the passages of the chosen articles for a question."""

    def __init__(self, index: PassageIndex):
        self.index = index
        self._lexical: dict[tuple[str, ...], _LexicalIndex] = {}

    def _lexical_for(self, articles: list[IndexedArticle]) -> _LexicalIndex:
        key = tuple(sorted(a.version for a in articles))
        lexical = self._lexical.get(key)
        if lexical is None:
            # Questions run in parallel: build in a local and publish a new dict in one assignment, so a
            # concurrent question never looks up a key another one just dropped.
            lexical = _LexicalIndex([(a, p) for a in articles for p in a.passage_list()])
            live = {a.version for a in self.index.articles.values()}
            self._lexical = {**{k: v for k, v in self._lexical.items() if set(k) & live}, key: lexical}
        return lexical

    def retrieve(self, query: str, articles: list[IndexedArticle], k: int, mode: str = "hybrid") -> list[RetrievedPassage]:
        """Top ``k`` passages; ``mode`` is ``hybrid``, ``dense`` or ``lexical`` (for comparisons)."""
        lexical = self._lexical_for(articles)
        position = {(a.version, p.n): i for i, (a, p) in enumerate(lexical.passages)}
        depth = max(k * 4, 20)
        dense_order: list[int] = []
        if mode in ("hybrid", "dense"):
            hits = self.index.dense_passages(self.index.query_vector(query), [a.version for a in articles], depth)
            dense_order = [position[(version, n)] for version, n, _ in hits if (version, n) in position]
        lexical_order = lexical.ranking(query, depth) if mode in ("hybrid", "lexical") else []
        fused: dict[int, float] = {}
        for order in (dense_order, lexical_order):
            for rank, i in enumerate(order):
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        dense_rank = {i: r for r, i in enumerate(dense_order)}
        lexical_rank = {i: r for r, i in enumerate(lexical_order)}
        return [
            RetrievedPassage(
                article=lexical.passages[i][0],
                passage=lexical.passages[i][1],
                score=float(np.round(fused[i], 6)),
                dense_rank=dense_rank.get(i),
                lexical_rank=lexical_rank.get(i),
            )
            for i in best
        ]
