"""The default answerer: quotes the article's own sentences, or says the article does not say.

No generative model is involved, so nothing can be invented: every quoted word is a slice of
the cleaned article text. The stages, each in its own module:

1. candidates.py + features.py — the sentences of the retrieved passages with their features, ranked
   by a fitted pre-score;
2. reader.py — the reader trained here (training/) reads the first few (capped: it is the slow step):
   does the sentence answer, and with which words; rerank.py's cross-encoder reads them instead when
   the reader's files are missing;
3. answerability.py — fitted models pick the sentence and give the calibrated
   probability (``confidence``) that it answers;
4. here — quote it (with a close runner-up) when the confidence reaches the fitted found level, else
   refuse, or, within the weak band under that level (fitted with it; a setting overrides it), show it only
   as "the closest passage"; the reader's answer span is bold (highlight.py's patterns when the reader is absent).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

from assistant.answer.answerability import MODEL_FILE, AnswerabilityModel, load_model, shares
from assistant.answer.candidates import Candidate, CandidateFinder
from assistant.answer.features import CROSS_ENCODER
from assistant.answer.highlight import bolded
from assistant.answer.model import NOT_IN_ARTICLE, WEAK_MATCH_PREFIX, Answer, citation_for
from assistant.answer.reader import Reader, load_reader
from assistant.answer.rerank import CrossEncoder, load_reranker
from assistant.followup import History, standalone_question
from assistant.index import PassageIndex
from assistant.retrieval import RetrievedPassage

# A runner-up is quoted too when the selection model gives it nearly as much belief as the best.
SECOND_QUOTE_RATIO = 0.8
# A reader span covering most of its sentence says nothing a plain quote does not: left unbolded.
MAX_BOLD_SHARE = 0.8


def quoted(sentence: str) -> str:
    """The sentence in quote marks, unless it already carries its own (a quoted speaker)."""
    return sentence if sentence[0] in "“\"" else f"“{sentence}”"


def with_bold_span(candidate: Candidate, question: str) -> str:
    """The candidate sentence with its answer in Markdown bold: the reader's span, else a findable pattern."""
    sentence = candidate.text
    if candidate.span is None:
        return bolded(question, sentence)
    start, end = candidate.span
    if end - start > MAX_BOLD_SHARE * len(sentence) or not sentence[start:end].strip():
        return sentence
    return f"{sentence[:start]}**{sentence[start:end]}**{sentence[end:]}"


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, index: PassageIndex, max_quotes: int = 2, rerank: bool = True, rerank_cap: int = 4,
                 weak_band: float | None = None, model_threads: int = 0, reader: bool = True,
                 reader_folder: Path | None = None):
        """``rerank_cap``: candidates the reader (or the cross-encoder) reads (docs/evaluation.md: quality vs
        latency). ``weak_band``: None, the fitted one (answerability.json). ``reader`` / ``rerank`` off: the
        pipeline without that model (for comparisons).
        ``reader_folder``: another reader with its own fitted decision (reader.json, its model and an
        answerability.json), to compare with the shipped one."""
        self.index = index
        self.max_quotes = max_quotes
        self.rerank_cap = rerank_cap
        self.use_reader = reader
        self.use_reranker = rerank
        self.weak_band = weak_band
        self.model_threads = model_threads
        self.reader_folder = reader_folder
        self.finder = CandidateFinder(index)
        self._loading = threading.Lock()
        self._loaded: tuple[AnswerabilityModel, Reader | None, CrossEncoder | None] | None = None

    def models(self) -> tuple[AnswerabilityModel, Reader | None, CrossEncoder | None]:
        """The fitted decision for the models that load, with those models; loaded on the first question.

        Locked: concurrent first questions (and the server's warm-up) must load one copy between them.
        The reader comes first; the cross-encoder loads only when the chosen variant reads it.
        """
        with self._loading:
            if self._loaded is None:
                reader = load_reader(self.model_threads, self.reader_folder) if self.use_reader else None
                if reader is not None:
                    model = load_model("reader", self.reader_folder / MODEL_FILE.name if self.reader_folder else MODEL_FILE)
                    wanted = model.uses_cross_encoder and self.use_reranker
                    reranker = load_reranker(self.model_threads) if wanted else None
                    if model.uses_cross_encoder and reranker is None:
                        reader, model = None, None  # the fitted reader variant needs both: fall through
                if reader is None:
                    reranker = load_reranker(self.model_threads) if self.use_reranker else None
                    model = load_model("cross_encoder" if reranker is not None else "bi_encoder")
                self._loaded = (model, reader, reranker)
        return self._loaded

    @property
    def model(self) -> AnswerabilityModel:
        return self.models()[0]

    def rank(self, query: str, retrieved: list[RetrievedPassage]) -> list[tuple[Candidate, float]]:
        """The candidates the slow models read (the first ``rerank_cap`` by pre-score), best first."""
        model, reader, reranker = self.models()
        candidates = sorted(self.finder.find(query, retrieved), key=lambda c: -model.preselect(c.signals))
        if reader is not None or reranker is not None:
            candidates = candidates[: self.rerank_cap]
        if reranker is not None:
            for candidate, logit in zip(candidates, reranker.scores(query, [c.text for c in candidates])):
                candidate.features[CROSS_ENCODER] = float(logit)
        if reader is not None:
            readings = reader.read(query, [(c.text, c.previous()) for c in candidates], [c.article.title for c in candidates])
            for candidate, reading in zip(candidates, readings):
                candidate.reader_logit, candidate.span = reading.logit, reading.span
        return sorted(((c, model.select(c.signals)) for c in candidates), key=lambda pair: -pair[1])

    def confidence(self, ranked: list[tuple[Candidate, float]]) -> float:
        return self.model.confidence([c.signals for c, _ in ranked], [score for _, score in ranked])

    def answer(self, question: str, query: str, retrieved: list[RetrievedPassage], article_label: str | None) -> Answer:
        refusal = Answer(question=question, text=NOT_IN_ARTICLE, found=False, article=article_label, backend=self.name)
        ranked = self.rank(query, retrieved)
        if not ranked:
            refusal.confidence = 0.0
            return refusal
        confidence = self.confidence(ranked)
        band = self.model.weak_band if self.weak_band is None else self.weak_band
        if confidence < self.model.found_level - band:
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
        parts = [f"{quoted(with_bold_span(c, query))} [{n}]" for n, (c, _) in enumerate(chosen, start=1)]
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
