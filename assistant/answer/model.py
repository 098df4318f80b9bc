"""The answer a user gets back, and its citations; the same shape for every backend."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

NOT_IN_ARTICLE = "The article does not say."


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
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
