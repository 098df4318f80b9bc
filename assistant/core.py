"""``Assistant``: the one object the CLI, the web chat and scripts talk to.

It owns the settings, the index and the answerer, syncs the corpus before the first question
(and whenever asked to re-scan), and resolves which article a question is about.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.intent_answers import IntentAnswerer
from assistant.answer.intents import OVERVIEW, recognise
from assistant.answer.model import Answer
from assistant.answer_cache import AnswerCache
from assistant.config import load_settings
from assistant.errors import UserError
from assistant.followup import History
from assistant.index import IndexedArticle, PassageIndex, ProgressFactory, SyncReport
from assistant.questions import MAX_QUESTION_CHARS, normalise_question  # noqa: F401 (MAX_QUESTION_CHARS: for importers)
from assistant.retrieval import HybridRetriever, RetrievedPassage
from assistant.rwlock import ReadWriteLock

ALL_ARTICLES = "all"
# An unknown article id is echoed up to this length, and at most this many known ids are listed: one short line.
MAX_ID_ECHO = 80
MAX_IDS_LISTED = 20
# Asked once at start-up so the models load before the first visitor, not in several threads at once.
WARM_UP_QUESTION = "What does the article say?"


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
        self.settings = load_settings(**values)
        self.index = PassageIndex(self.settings, embeddings=embeddings)
        self.retriever = HybridRetriever(self.index)
        self.extractive = ExtractiveAnswerer(
            self.index, max_quotes=self.settings.max_quotes, rerank=self.settings.rerank, rerank_cap=self.settings.rerank_cap,
            weak_band=self.settings.weak_band, model_threads=self.settings.model_threads, reader=self.settings.reader,
        )
        self.answerer = self._answerer()
        self.intents = IntentAnswerer(self.index, lambda question, article_id: self.ask(question, article=article_id))
        self.last_sync: SyncReport | None = None
        # Questions read the index side by side; a backend switch, and the moment a re-scan or rebuild drops
        # what they may be reading, wait for them and run alone, so no answer mixes two versions of the index.
        self._lock = ReadWriteLock()
        self._answers = AnswerCache(self.settings.answer_cache)
        # One sync at a time. Taken before the write side, never while holding it (that order is what
        # keeps a re-scan waiting for the write side from deadlocking with a holder of it that syncs).
        self._syncing = threading.RLock()

    def _answerer(self):
        if self.settings.backend == "extractive":
            return self.extractive
        from assistant.answer.generative import GenerativeAnswerer

        return GenerativeAnswerer(self.settings, self.index, fallback=self.extractive)

    def use_backend(self, backend: str) -> None:
        """Switch answering backend (the web chat's setting); the index is kept."""
        if backend != self.settings.backend:
            with self._lock.write():
                self.settings = self.settings.model_copy(update={"backend": backend})
                self.answerer = self._answerer()

    def with_backend(self, backend: str) -> Assistant:
        """Another view of this assistant answering with ``backend``: it shares the index, the extractive
        answerer, the intents and the lock (a re-scan through either excludes questions in both), so one
        server can let each visitor choose a backend without loading anything twice."""
        self._ensure_synced()  # synced once, here: the view never syncs on its own
        view = copy.copy(self)
        view.use_backend(backend)
        return view

    # -- corpus ---------------------------------------------------------------------------
    def sync(self, progress: ProgressFactory | None = None) -> SyncReport:
        """Bring the index in line with the corpus folder (cheap when nothing changed). One sync at a
        time; questions keep answering while it embeds, and wait only while it drops what they may be
        reading (see ``PassageIndex.sync``)."""
        with self._syncing:
            if self.settings.read_only:  # the indexer keeps the index; questions follow its manifest
                self.last_sync = SyncReport()
            else:
                self.last_sync = self.index.sync(Path(self.settings.corpus_dir), progress=progress, exclusive=self._lock.write)
            return self.last_sync

    def load_models_in_background(self) -> threading.Thread:
        """Start loading MiniLM and the answer models (reader or cross-encoder) on a thread of their own. onnxruntime reads and
        optimises a model mostly outside the GIL, so this overlaps with importing and opening Chroma:
        a cold ``assistant ask`` is ~0.25 s faster (bench/cold_start.py). A failure here is left for
        the question to meet, and report, on the main thread (the loaders retry)."""

        def load() -> None:
            try:
                self.index.embeddings.inner  # noqa: B018 (the property loads the model)
                self.extractive.models()
            except Exception:  # noqa: BLE001 (reported where the user sees it: see the docstring)
                pass

        loader = threading.Thread(target=load, name="load-models")
        loader.start()
        return loader

    def warm_up(self) -> None:
        """Sync and load every model an extractive answer uses (MiniLM, the reader) now, so the first
        question does not wait ~5 s for them. It reads like any question: questions arriving meanwhile
        wait on the loaders' own locks (no model loads twice), and page loads are not held up."""
        try:
            self._ensure_synced()
            with self._lock.read():
                articles = sorted(self.index.articles.values(), key=lambda a: a.id)
                if articles:
                    retrieved = self.retriever.retrieve(WARM_UP_QUESTION, articles, self.settings.top_k)
                    self.extractive.answer(WARM_UP_QUESTION, WARM_UP_QUESTION, retrieved, None)
        except UserError:
            pass  # the first question reports it, as one line, where the user sees it

    def _ensure_synced(self) -> None:
        """The first use syncs the corpus (checked again inside: only one thread syncs, the others wait for it)."""
        if self.last_sync is None:
            with self._syncing:
                if self.last_sync is None:
                    self.sync()

    def articles(self) -> list[ArticleInfo]:
        self._ensure_synced()
        with self._lock.read():
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
            known = sorted(indexed)
            listed = ", ".join(known[:MAX_IDS_LISTED]) + (f" and {len(known) - MAX_IDS_LISTED} more" if len(known) > MAX_IDS_LISTED else "")
            named = article if len(article) <= MAX_ID_ECHO else f"{article[:MAX_ID_ECHO]}… ({len(article)} characters)"
            raise UserError(f"no article '{named}' in the corpus (known: {listed}, or '{ALL_ARTICLES}')")
        return [indexed[article]], article

    # -- questions ------------------------------------------------------------------------
    def _intent_article(self, article: str | None) -> IndexedArticle:
        """The one article an overview or a suggestion is about: the named one, else the first by id."""
        return self.scope(article)[0][0]

    def overview(self, article: str | None = None) -> Answer:
        """3 to 5 central sentences of the article, quoted and cited in article order (the first article when
        several are indexed and none is named, as for greetings and other intents in ``stream``)."""
        self._ensure_synced()
        with self._lock.read():
            return self.intents.answer(OVERVIEW, "Summarise the article.", self._intent_article(article))

    def suggestions(self, article: str | None = None) -> list[str]:
        """3 to 5 questions the article answers (checked by asking them; worked out once per article version)."""
        self._ensure_synced()
        with self._lock.read():
            return self.intents.suggestions(self._intent_article(article))

    def retrieve(self, query: str, article: str | None = None, k: int | None = None) -> list[RetrievedPassage]:
        """The passages a question would be answered from (hybrid, best first): what the LangChain retriever returns."""
        self._ensure_synced()
        with self._lock.read():
            articles, _ = self.scope(article)
            return self.retriever.retrieve(query, articles, k or self.settings.top_k, mode=self.settings.retrieval)

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
        question = normalise_question(question)
        started = time.perf_counter()
        self._ensure_synced()
        intent, query, answerer = recognise(question), question, self.answerer
        if not intent and self.settings.rewrite_followups:  # an LLM may take seconds: outside the lock
            query = answerer.standalone(question, history)
        with self._lock.read():
            articles, label = self.scope(article)
            k, mode = top_k or self.settings.top_k, self.settings.retrieval
            quoted = bool(intent) or isinstance(answerer, ExtractiveAnswerer)
            key = (answerer, question, query, label, tuple(a.version for a in articles), k, mode)
            cached = self._answers.get(key) if quoted else None
            if cached is not None:  # the same question about the same article versions, answered before
                events = cached
            elif intent:  # overview, small talk, metadata: answered about one article, without retrieval
                events = self.intents.stream(intent, question, articles[0])
            else:
                retrieved = self.retriever.retrieve(query, articles, k, mode=mode)
                events = answerer.stream(question, query, retrieved, label)
            retrieved_at = time.perf_counter()
            # Quoting takes ~0.1 s and reads the index, so it finishes under the read side. An LLM writes
            # for seconds from passages already in hand: it streams after the lock is released, so a slow
            # answer never holds up a re-scan, nor (behind a waiting re-scan) other visitors' questions.
            if quoted and cached is None:
                events = list(events)
                self._answers.put(key, events)
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
