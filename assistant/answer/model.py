"""The answer a user gets back, and its citations; the same shape for every backend."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

NOT_IN_ARTICLE = "The article does not say."
# Shown before a quote whose answerability is below the "found" level but above the refusal level.
WEAK_MATCH_PREFIX = "The closest passage, which may not answer this:"


@dataclass(frozen=True)
class Citation:
    n: int
    article_id: str
    source: str
    title: str
    url: str | None
    text: str
    start: int
    end: int
    score: float
    quote: str
    quote_start: int
    quote_end: int
    supported: bool = True


@dataclass
class Answer:
    question: str
    text: str
    found: bool
    article: str | None
    backend: str
    citations: list[Citation] = field(default_factory=list)
    standalone_question: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    unsupported_sentences: list[str] = field(default_factory=list)
    note: str | None = None
    # Calibrated probability that the quote answers the question (extractive answers); None when not measured.
    confidence: float | None = None
    # True when the answer is only the closest passage, shown with WEAK_MATCH_PREFIX, not a sourced answer.
    weak: bool = False
    # The recognised kind of question when it is not a plain factual one: overview, greeting, help, metadata.
    intent: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready; the keys of ``assistant ask --json``."""
        return {
            "question": self.question,
            "answer": self.text,
            "found": self.found,
            "article": self.article,
            "backend": self.backend,
            "standalone_question": self.standalone_question,
            "citations": [asdict(c) for c in self.citations],
            "unsupported_sentences": self.unsupported_sentences,
            "note": self.note,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "weak": self.weak,
            "intent": self.intent,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


def citation_for(n: int, hit, quote_start: int, quote_end: int, score: float, supported: bool = True) -> Citation:
    """A citation of a retrieved passage (``RetrievedPassage``), quoting ``text[quote_start:quote_end]``."""
    article, passage = hit.article, hit.passage
    return Citation(
        n=n,
        article_id=article.id,
        source=article.path,
        title=article.title,
        url=article.url,
        text=passage.text,
        start=passage.start,
        end=passage.end,
        score=round(float(score), 4),
        quote=article.text[quote_start:quote_end],
        quote_start=quote_start,
        quote_end=quote_end,
        supported=supported,
    )
