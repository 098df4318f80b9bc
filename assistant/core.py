"""``Assistant``: the one object the CLI, the web chat and scripts talk to.

It owns the settings, the index and the answerer, syncs the corpus before the first question
(and whenever asked to re-scan), and resolves which article a question is about.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.intent_answers import IntentAnswerer
from assistant.answer.intents import OVERVIEW, recognise
from assistant.answer.model import Answer
from assistant.config import Settings
from assistant.errors import UserError
from assistant.followup import History
from assistant.index import IndexedArticle, PassageIndex, ProgressFactory, SyncReport
from assistant.retrieval import HybridRetriever

ALL_ARTICLES = "all"
# A question, not a document: longer ones are refused at once, so none can tie up the cross-encoder for seconds.
MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class ArticleInfo:
    id: str
    title: str
    path: str
    url: str | None
    passages: int

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "path": self.path, "url": self.url, "passages": self.passages}


class Assistant:
    """Ask questions about the articles in a corpus folder; see design.md for the contract."""

    def __init__(
        self, corpus_dir: str | Path | None = None, data_dir: str | Path | None = None, embeddings=None, **overrides
    ):
        """Settings come from the environment, overridden by the arguments; ``embeddings`` reuses a loaded model."""
        values = {k: v for k, v in {"corpus_dir": corpus_dir, "data_dir": data_dir, **overrides}.items() if v is not None}
        self.settings = Settings(**values)
        self.index = PassageIndex(self.settings, embeddings=embeddings)
        self.retriever = HybridRetriever(self.index)
        self.answerer = self._answerer()
        self.intents = IntentAnswerer(self.index, lambda question, article_id: self.ask(question, article=article_id))
        self.last_sync: SyncReport | None = None
        self._lock = threading.RLock()  # a question never reads the index while a re-scan rewrites it

    def _answerer(self):
        extractive = ExtractiveAnswerer(
            self.index, max_quotes=self.settings.max_quotes, rerank=self.settings.rerank, rerank_cap=self.settings.rerank_cap,
            weak_band=self.settings.weak_band,
        )
        if self.settings.backend == "extractive":
            return extractive
        from assistant.answer.generative import GenerativeAnswerer

        return GenerativeAnswerer(self.settings, self.index, fallback=extractive)

    def use_backend(self, backend: str) -> None:
        """Switch answering backend (the web chat's setting); the index is kept."""
        if backend != self.settings.backend:
            with self._lock:
                self.settings = self.settings.model_copy(update={"backend": backend})
                self.answerer = self._answerer()

    # -- corpus ---------------------------------------------------------------------------
    def sync(self, progress: ProgressFactory | None = None) -> SyncReport:
        """Bring the index in line with the corpus folder (cheap when nothing changed)."""
        with self._lock:
            self.last_sync = self.index.sync(Path(self.settings.corpus_dir), progress=progress)
            return self.last_sync

    def warm_up(self) -> None:
        """Sync and load the embedding model now, so the first question does not wait ~5 s for it."""
        try:
            self._ensure_synced()
            if self.index.articles:
                with self._lock:
                    self.index.query_vector("warm up")
        except UserError:
            pass  # the first question reports it, as one line, where the user sees it

    def _ensure_synced(self) -> None:
        if self.last_sync is None:
            self.sync()

    def articles(self) -> list[ArticleInfo]:
        self._ensure_synced()
        return [
            ArticleInfo(a.id, a.title, a.path, a.url, len(a.passages))
            for a in sorted(self.index.articles.values(), key=lambda a: a.id)
        ]

    def scope(self, article: str | None) -> tuple[list[IndexedArticle], str | None]:
        """The articles a question searches, and the label answers carry (an id, or 'all')."""
        indexed = self.index.articles
        if not indexed:
            raise UserError(f"no articles to answer from: put a .txt, .md, .html or .pdf file in {self.settings.corpus_dir}")
        if article in (None, "", ALL_ARTICLES):
            chosen = sorted(indexed.values(), key=lambda a: a.id)
            return chosen, chosen[0].id if len(chosen) == 1 else ALL_ARTICLES
        if article not in indexed:
            known = ", ".join(sorted(indexed))
            raise UserError(f"no article '{article}' in the corpus (known: {known}, or '{ALL_ARTICLES}')")
        return [indexed[article]], article

    # -- questions ------------------------------------------------------------------------
    def _intent_article(self, article: str | None) -> IndexedArticle:
        """The one article an overview or a suggestion is about: the named one, else the first by id."""
        with self._lock:
            self._ensure_synced()
            return self.scope(article)[0][0]

    def overview(self, article: str | None = None) -> Answer:
        """3 to 5 central sentences of the article, quoted and cited in article order (the first article when
        several are indexed and none is named, as for greetings and other intents in ``stream``)."""
        return self.intents.answer(OVERVIEW, "Summarise the article.", self._intent_article(article))

    def suggestions(self, article: str | None = None) -> list[str]:
        """3 to 5 questions the article answers (checked by asking them; worked out once per article version)."""
        return self.intents.suggestions(self._intent_article(article))

    def ask(self, question: str, article: str | None = None, history: History | None = None, top_k: int | None = None) -> Answer:
        """Answer one question (with optional earlier turns) from the chosen article."""
        answer: Answer | None = None
        for event in self.stream(question, article=article, history=history, top_k=top_k):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(
        self, question: str, article: str | None = None, history: History | None = None, top_k: int | None = None
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are ready, then the final ``Answer``.

        A recognised intent (overview, greeting, thanks, help, metadata) skips retrieval and is answered
        about one article: the named one, else the first by id when several are in scope.
        """
        question = (question or "").strip()
        if not question:
            raise UserError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise UserError(f"the question is too long ({len(question):,} characters; at most {MAX_QUESTION_CHARS:,})")
        started = time.perf_counter()
        with self._lock:
            self._ensure_synced()
            articles, label = self.scope(article)
            intent, query = recognise(question), question
            if intent:  # overview, small talk, metadata: answered about one article, without retrieval
                events = self.intents.stream(intent, question, articles[0])
            else:
                answerer = self.answerer
                query = answerer.standalone(question, history) if self.settings.rewrite_followups else question
                k, mode = top_k or self.settings.top_k, self.settings.retrieval
                retrieved = self.retriever.retrieve(query, articles, k, mode=mode)
                events = answerer.stream(question, query, retrieved, label)
        retrieved_at = time.perf_counter()
        for event in events:
            if not isinstance(event, Answer):
                yield event
                continue
            finished = time.perf_counter()
            event.standalone_question = query
            first_token = event.timings_ms.get("first_token")
            event.timings_ms = {
                "retrieve": (retrieved_at - started) * 1000,
                "answer": (finished - retrieved_at) * 1000,
                "total": (finished - started) * 1000,
            }
            if first_token is not None:
                event.timings_ms["first_token"] = (retrieved_at - started) * 1000 + first_token
            yield event
