"""The default answerer: quotes the article's own sentences, or says the article does not say.

No generative model is involved, so nothing can be invented: every quoted word is a slice of
the cleaned article text. The stages, each in its own module:

1. candidates.py + features.py — the sentences of the retrieved passages with their features, ranked
   by a fitted pre-score;
2. rerank.py — a cross-encoder reads the first few (capped: it is the slow step);
3. answerability.py — fitted models pick the sentence and give the calibrated
   probability (``confidence``) that it answers;
4. here — quote it (with a close runner-up) when the confidence reaches the fitted found level, else
   refuse, or, within ``weak_band`` under that level (a setting, 0 by default), show it only as "the
   closest passage"; highlight.py bolds the answering span when findable.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import cached_property

from assistant.answer.answerability import AnswerabilityModel, load_model, shares
from assistant.answer.candidates import Candidate, CandidateFinder
from assistant.answer.features import CROSS_ENCODER
from assistant.answer.highlight import bolded
from assistant.answer.model import NOT_IN_ARTICLE, WEAK_MATCH_PREFIX, Answer, citation_for
from assistant.answer.rerank import CrossEncoder, load_reranker
from assistant.followup import History, standalone_question
from assistant.index import PassageIndex
from assistant.retrieval import RetrievedPassage

# A runner-up is quoted too when the selection model gives it nearly as much belief as the best.
SECOND_QUOTE_RATIO = 0.8


def quoted(sentence: str) -> str:
    """The sentence in quote marks, unless it already carries its own (a quoted speaker)."""
    return sentence if sentence[0] in "“\"" else f"“{sentence}”"


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, index: PassageIndex, max_quotes: int = 2, rerank: bool = True, rerank_cap: int = 8,
                 weak_band: float = 0.0, model_threads: int = 0):
        """``rerank_cap``: candidates the cross-encoder reads (docs/evaluation.md: quality vs latency)."""
        self.index = index
        self.max_quotes = max_quotes
        self.rerank_cap = rerank_cap
        self.use_reranker = rerank
        self.weak_band = weak_band
        self.model_threads = model_threads
        self.finder = CandidateFinder(index)
        self._loading = threading.Lock()

    # Loaded on the first question, so start-up stays quick. Locked: concurrent first questions (and the
    # server's warm-up) must load one copy between them, and cached_property stopped locking in Python 3.12.
    @property
    def reranker(self) -> CrossEncoder | None:
        with self._loading:
            if not hasattr(self, "_reranker"):
                self._reranker = load_reranker(self.model_threads) if self.use_reranker else None
        return self._reranker

    @cached_property
    def model(self) -> AnswerabilityModel:
        """The coefficients fitted for the pipeline as it runs: with the cross-encoder or without it."""
        return load_model(with_reranker=self.reranker is not None)

    def rank(self, query: str, retrieved: list[RetrievedPassage]) -> list[tuple[Candidate, float]]:
        """The candidates the cross-encoder read (the first ``rerank_cap`` by pre-score), best first."""
        candidates = sorted(self.finder.find(query, retrieved), key=lambda c: -self.model.preselect(c.features))
        if self.reranker is not None:
            candidates = candidates[: self.rerank_cap]
            for candidate, logit in zip(candidates, self.reranker.scores(query, [c.text for c in candidates])):
                candidate.features[CROSS_ENCODER] = float(logit)
        return sorted(((c, self.model.select(c.features)) for c in candidates), key=lambda pair: -pair[1])

    def confidence(self, ranked: list[tuple[Candidate, float]]) -> float:
        return self.model.confidence([c.features for c, _ in ranked], [score for _, score in ranked])

    def answer(self, question: str, query: str, retrieved: list[RetrievedPassage], article_label: str | None) -> Answer:
        refusal = Answer(question=question, text=NOT_IN_ARTICLE, found=False, article=article_label, backend=self.name)
        ranked = self.rank(query, retrieved)
        if not ranked:
            refusal.confidence = 0.0
            return refusal
        confidence = self.confidence(ranked)
        if confidence < self.model.found_level - self.weak_band:
            refusal.confidence = confidence
            return refusal
        weak = confidence < self.model.found_level
        belief = shares([score for _, score in ranked])
        chosen = [(ranked[0][0], belief[0])]
        if not weak:
            chosen += [(c, b) for (c, _), b in zip(ranked[1 : self.max_quotes], belief[1:]) if b >= SECOND_QUOTE_RATIO * belief[0]]
        chosen.sort(key=lambda pair: (pair[0].article.id, pair[0].start))
        # One citation per quote (its score: its share of the selection belief), so each can be highlighted.
        citations = [citation_for(n, c.hit, c.start, c.end, b) for n, (c, b) in enumerate(chosen, start=1)]
        parts = [f"{quoted(bolded(query, c.quote))} [{c.n}]" for c in citations]
        text = " ".join(parts)
        return Answer(
            question=question, text=f"{WEAK_MATCH_PREFIX} {text}" if weak else text, found=not weak,
            article=article_label, backend=self.name, citations=citations, confidence=confidence, weak=weak,
        )

    def standalone(self, question: str, history: History | None) -> str:
        return standalone_question(question, history)

    def stream(
        self, question: str, query: str, retrieved: list[RetrievedPassage], article_label: str | None
    ) -> Iterator[str | Answer]:
        """The answer quote by quote (it is ready at once; this keeps one interface for all backends)."""
        answer = self.answer(question, query, retrieved, article_label)
        quotes = re.split(r"(?<=\]) ", answer.text)
        for i, quote in enumerate(quotes):
            yield quote if i == len(quotes) - 1 else quote + " "
        yield answer
