"""The passage index: Chroma records plus a manifest, kept in step with the corpus.

Sync is incremental and keyed on each file's content hash: unchanged articles are never
re-embedded. Every record carries its article *version* (id + hash) and queries only ever ask
for the versions the manifest names; the manifest is replaced atomically after a version's
records are fully written. A sync killed half-way therefore leaves the old version answering,
and the next sync clears the half-written records. Where the records and the manifest live
(a local folder or a Chroma server) and how a rebuild switches generations is ``store.py``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from langchain_core.embeddings import Embeddings

from assistant.chunking import Passage, chunk_article, sentence_spans, token_counter
from assistant.config import Settings
from assistant.corpus import Article, CorpusProblem, content_digest, corpus_files, load_articles, read_with_notices
from assistant.errors import UserError
from assistant.onnx_embeddings import export, load_export
from assistant.store import BUILDING, LIVE, StoreDamaged, disk_condition, open_store, probe, short_reason, timestamped

log = logging.getLogger(__name__)

SCHEMA = 2
# Measured by bench/index_build.py on 2 cores: 16 embeds ~30% faster than 32 or 64 (less padding).
EMBED_BATCH = 16
# While indexing many articles, the manifest (which holds every article's text) is written at most this
# often: a crash loses at most this much work, and 1,000 articles do not rewrite it 1,000 times.
COMMIT_SECONDS = 1.0
# Per-article budgets (docs/limits.md). The largest article allowed (1,000,000 characters) makes ~10,000
# passages and sentences and embeds in ~3 minutes on 2 cores; one over either budget is skipped with the
# limit it passed, and the other articles are still indexed.
MAX_TEXTS_PER_ARTICLE = 20_000
MAX_EMBED_SECONDS = 600.0
# How often a question checks whether another process changed the index (a stat, or one request to a server).
FOLLOW_SECONDS = 0.25


class CountingEmbeddings(Embeddings):
    """Counts every text embedded (how tests prove a sync was free); loads the model on first use only,
    so commands that never embed (listing, an unchanged sync) never pay for it."""

    def __init__(self, load: Callable[[], Embeddings]):
        self._load = load
        self._inner: Embeddings | None = None
        self._loading = threading.Lock()  # concurrent first questions load the model once
        self.texts_embedded = 0

    @property
    def loaded(self) -> bool:
        return self._inner is not None

    @property
    def inner(self) -> Embeddings:
        if self._inner is None:
            with self._loading:
                if self._inner is None:
                    self._inner = self._load()
        return self._inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts_embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.texts_embedded += 1
        return self.inner.embed_query(text)


def _check_model_folder(model_path: str) -> None:
    if not Path(model_path, "modules.json").is_file():
        raise UserError(f"no sentence-transformers model at {model_path} (check ASSISTANT_EMBEDDING_MODEL)")


def load_embedder(settings: Settings) -> Embeddings:
    """The model's ONNX export when it is valid (no torch: a cold ``ask`` starts in about a second), else
    sentence-transformers, exporting the model on the way so that the next process can skip torch.
    The export also embeds new text: it is as fast as torch here (bench/cold_start.py) and its vectors
    match (cosine >= 0.9999, checked before it is used)."""
    model_path, data_dir, threads = settings.model_path(), Path(settings.data_dir), settings.model_threads
    _check_model_folder(model_path)
    exported = load_export(data_dir, model_path, threads) if settings.onnx_export else None
    if exported is not None:
        return exported
    import torch

    if threads:
        torch.set_num_threads(threads)
    if not settings.onnx_export:
        return load_embeddings(model_path)
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
    return export(model, model_path, data_dir, threads) or load_embeddings(model_path)


def load_embeddings(model_path: str) -> Embeddings:
    """MiniLM from a local folder through langchain-huggingface (sentence-transformers); never a hub id."""
    from langchain_huggingface import HuggingFaceEmbeddings

    _check_model_folder(model_path)
    return HuggingFaceEmbeddings(
        model_name=model_path,
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "batch_size": EMBED_BATCH},
    )


@dataclass
class IndexedArticle:
    """What the manifest keeps of one article: enough to answer without re-reading the file."""

    id: str
    title: str
    url: str | None
    path: str
    sha256: str
    text: str
    passages: list[tuple[int, int]]
    sentences: list[tuple[int, int]]

    @property
    def version(self) -> str:
        return f"{self.id}@{self.sha256[:16]}"

    @property
    def record_count(self) -> int:
        return len(self.passages) + len(self.sentences)

    def passage_list(self) -> list[Passage]:
        return [
            Passage(self.id, n, self.text[start:end], start, end)
            for n, (start, end) in enumerate(self.passages, start=1)
        ]

    def sentences_within(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """(sentence number, start, end) of the sentences lying inside ``text[start:end]``."""
        return [(i, s, e) for i, (s, e) in enumerate(self.sentences) if start <= s and e <= end]


@dataclass
class Generation:
    """One generation's manifest in memory: its name (which records) and the article versions it answers from.
    ``pending`` is set while records are being written, so a crash is known to have left some behind."""

    name: str
    articles: dict[str, IndexedArticle] = field(default_factory=dict)
    pending: bool = False
    committed: bool = False  # its manifest has been written (a new generation has none yet)

    @staticmethod
    def new() -> Generation:
        return Generation(timestamped("g"))


class ArticleOverBudget(Exception):
    """An article passed a per-article budget; ``str()`` is the one-line reason it is skipped with."""


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[CorpusProblem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # files read with a change (corpus.read_with_notices)
    texts_embedded: int = 0
    recovered: str | None = None  # one line: the store was damaged, moved aside and rebuilt
    disk: str | None = None  # one line: the disk refused writes; the index as it was answers

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        parts = [f"{len(getattr(self, name))} {name}" for name in ("added", "updated", "removed", "unchanged")]
        return ", ".join(parts) + f"; {self.texts_embedded} texts embedded"


ProgressFactory = Callable[[int, str], "object"]


def tqdm_progress(total: int, description: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="text", leave=False)


class PassageIndex:
    """The live generation's records and manifest; the embedder and the Chroma client open only when needed."""

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None):
        """``embeddings`` lets several indexes share one loaded model (tests, evaluation variants)."""
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.backing = open_store(self.data_dir, settings.chroma_url)
        self.embeddings = CountingEmbeddings(
            (lambda: embeddings) if embeddings is not None else (lambda: load_embedder(settings))
        )
        self._query_cache: dict[str, list[float]] = {}
        self._sentence_vectors: dict[str, object] = {}
        self._stores: dict[str, object] = {}  # generation name -> its open Chroma collection
        self._follow_lock = threading.Lock()
        self._checked_at = 0.0
        self._damage: str | None = None  # why the live store cannot be used, found on reading it
        self._healthy = False
        self._superseded: list[str] = []  # versions to delete once the manifest no longer names them
        self.building: Generation | None = None
        self._stamp = self.backing.stamp()
        try:
            self.live = self._read_generation(LIVE) or Generation.new()
        except StoreDamaged as error:
            self._damage, self.live = str(error), Generation.new()
        try:
            unfinished = self._read_generation(BUILDING)
        except StoreDamaged:  # an unreadable half-done rebuild is simply started again
            unfinished = None
        self._unfinished = unfinished if unfinished and unfinished.name != self.live.name else None

    # -- reading the manifests ----------------------------------------------------------------
    @property
    def texts_embedded(self) -> int:
        return self.embeddings.texts_embedded

    @property
    def articles(self) -> dict[str, IndexedArticle]:
        """The live article versions, as the latest manifest names them (also after another process's sync)."""
        self._follow_other_writers()
        return self.live.articles

    def _fingerprint(self) -> dict:
        return {
            "schema": SCHEMA,
            "model": Path(self.settings.model_path()).name if self.settings.embedding_model else "bundled-minilm",
            "passage_tokens": self.settings.passage_tokens,
        }

    def _read_generation(self, which: str) -> Generation | None:
        """The manifest as a Generation; None when there is none or it was made with other settings.
        Raises ``StoreDamaged`` when it cannot be read."""
        payload = self.backing.read_manifest(which)
        if not payload or payload.get("fingerprint") != self._fingerprint():
            return None
        try:
            articles = {}
            for record in payload["articles"]:
                record = {**record, "passages": [tuple(p) for p in record["passages"]],
                          "sentences": [tuple(s) for s in record["sentences"]]}
                articles[record["id"]] = IndexedArticle(**record)
            return Generation(payload["generation"], articles, bool(payload.get("pending")), committed=True)
        except (KeyError, TypeError, ValueError) as error:
            raise StoreDamaged(f"the {which} manifest is malformed") from error

    def _follow_other_writers(self, force: bool = False) -> bool:
        """Another process committed a sync or a rebuild: load its manifest and reopen the store (this
        process's client would not see the records it wrote). True when something was reloaded."""
        now = time.monotonic()
        if not force and now - self._checked_at < FOLLOW_SECONDS:
            return False
        with self._follow_lock:
            self._checked_at = now
            stamp = self.backing.stamp()
            if stamp == self._stamp:
                return False
            try:
                live = self._read_generation(LIVE)
            except StoreDamaged:
                live = None  # a manifest caught mid-write elsewhere: keep the one loaded, look again later
            self._stamp = stamp
            if live is None:
                return False
            self._stores = {}
            active = {a.version for a in live.articles.values()}
            self._sentence_vectors = {v: m for v, m in self._sentence_vectors.items() if v in active}
            self.live = live
            return True

    def store_for(self, generation: Generation):
        """The generation's Chroma collection (opened once)."""
        if generation.name not in self._stores:
            self._stores = {**self._stores, generation.name: self.backing.open(generation.name)}
        return self._stores[generation.name]

    @property
    def store(self):
        """The live generation's Chroma collection."""
        return self.store_for(self.live)

    # -- health -------------------------------------------------------------------------------------
    def _damage_in(self, generation: Generation) -> str | None:
        """Why a generation's store cannot answer as its manifest says (None when it can). A disk that
        refuses writes is not damage: an intact store is then read from a private copy (read-only)."""
        if not generation.articles:
            return None
        try:
            self.backing.check_files(generation.name)
            expected = sum(a.record_count for a in generation.articles.values())
            probe(self.store_for(generation), expected)
        except Exception as error:  # opening a garbage database fails before any probe
            condition = disk_condition(error)
            if condition is None:
                return str(error) if isinstance(error, StoreDamaged) else short_reason(error)
            if self.backing.disk_trouble is None and self.backing.read_only_for(generation.name, condition):
                self._stores = {}
                return self._damage_in(generation)
            raise UserError(f"cannot open the index in {self.data_dir}: the disk {condition} "
                            f"({short_reason(error)}); nothing was moved") from error
        return None

    def _recover(self, reason: str) -> str:
        """Move the damaged store aside (kept for inspection) and start an empty generation to rebuild into."""
        if not self.backing.writable:
            raise UserError(f"the index in {self.data_dir} is damaged ({reason}) and the folder is read-only")
        self._stores = {}
        where = self.backing.move_aside()
        self._damage, self._unfinished = None, None
        self.live = Generation.new()
        self._sentence_vectors.clear()
        return f"the store was damaged ({reason}); moved it to {where}"

    def ensure_writable(self) -> None:
        if not self.backing.writable:
            raise UserError(f"the data dir {self.data_dir} is read-only: questions work, indexing needs write access")

    # -- sync ---------------------------------------------------------------------------------------
    @property
    def rebuild_unfinished(self) -> bool:
        """A rebuild was interrupted: ``rebuild()`` + ``sync()`` finish it instead of starting over."""
        return self._unfinished is not None

    def rebuild(self) -> None:
        """Start a new generation (or resume an interrupted one); the next sync fills it from the corpus
        and then makes it live. Until then the live generation keeps answering."""
        self.ensure_writable()
        resumable = self._unfinished is not None and self._damage_in(self._unfinished) is None
        self.building = self._unfinished if resumable else Generation.new()
        self._unfinished = None

    def sync(self, corpus_dir: Path, progress: ProgressFactory | None = tqdm_progress,
             exclusive: Callable[[], AbstractContextManager] = nullcontext) -> SyncReport:
        """Bring the index in line with ``corpus_dir``. Questions may read meanwhile: new versions are
        embedded and written beside the ones they answer from, and each commit publishes a new
        article dict (never an edit of the one a question holds). Only what removes what a question
        may be reading runs inside ``exclusive()``: dropping replaced records, switching to a rebuilt
        store, and recovering a damaged one."""
        corpus_dir = Path(corpus_dir)
        if not corpus_dir.is_dir():
            kept = f"; the index of {len(self.live.articles)} article(s) is kept" if self.live.articles else ""
            raise UserError(f"the corpus folder {corpus_dir} is missing{kept}")
        # The manifest names files by absolute path, so "corpus" and "/home/me/corpus" are one folder to it
        # and neither spelling re-embeds what the other indexed.
        corpus_dir = Path(os.path.abspath(corpus_dir))
        report = SyncReport()
        if self.building is None and not self._healthy:
            reason = self._damage or self._damage_in(self.live)
            if reason:  # questions wait for the whole rebuild: the store they would read is gone
                with exclusive():
                    report.recovered = self._recover(reason)
                    self._healthy = True
                    return self._sync_store(corpus_dir, report, progress or tqdm_progress, exclusive)
        self._healthy = True
        return self._sync_store(corpus_dir, report, progress, exclusive)

    def _sync_store(self, corpus_dir: Path, report: SyncReport, progress, exclusive) -> SyncReport:
        target = self.building or self.live
        to_index = self._plan(corpus_dir, target, report)
        if self.backing.disk_trouble:
            report.disk = (f"the disk holding {self.data_dir} {self.backing.disk_trouble}: answering from the "
                           "index as it is, read-only; nothing new is indexed")
        if not self.backing.writable:
            self._refuse_writes(to_index, report)
            return report
        try:
            self._apply(target, to_index, report, progress, exclusive)
        except Exception as error:
            condition = disk_condition(error)
            if condition is None:
                raise
            report.disk = (f"indexing stopped: the disk holding {self.data_dir} {condition}; "
                           "the index as it was keeps answering")
            log.warning("index: %s", report.disk)
            return report
        if self.building is not None:
            with exclusive():
                self._promote()
        if report.recovered:
            report.recovered += f" and rebuilt {len(self.live.articles)} article(s)"
            log.warning("index: %s", report.recovered)
        return report

    def _plan(self, corpus_dir: Path, target: Generation, report: SyncReport) -> list[Article]:
        """Sort the corpus into unchanged, removed and to-be-indexed articles (read, not yet written)."""
        seen: set[str] = set()
        # First pass: unchanged files keep their ids, so a new file cannot take one over.
        changed_paths = []
        # abspath: manifests written before sync named files by absolute path hold them relative to the working directory.
        by_path = {Path(os.path.abspath(a.path)): a for a in target.articles.values()}
        for path in corpus_files(corpus_dir):
            indexed = by_path.get(path)
            try:
                unchanged = indexed is not None and indexed.sha256 == content_digest(path.read_bytes())
            except OSError as error:
                report.problems.append(CorpusProblem(path, f"cannot read file ({error.strerror})"))
                continue
            if unchanged:
                seen.add(indexed.id)
                report.unchanged.append(indexed.id)
            else:
                changed_paths.append(path)
        to_index, problems = load_articles(changed_paths, taken_ids=seen)
        report.problems.extend(problems)
        report.notices += [line for article in to_index for line in read_with_notices(article)]
        report.removed = [a for a in target.articles if a not in seen]
        return to_index

    def _refuse_writes(self, to_index: list[Article], report: SyncReport) -> None:
        """A read-only data dir: answer from the index as it is, and say what could not be indexed."""
        why = f"the disk {self.backing.disk_trouble}" if self.backing.disk_trouble else "is read-only"
        for article in to_index:
            report.problems.append(CorpusProblem(article.path, f"not indexed: the data dir {self.data_dir} {why}"))
        report.removed = []

    def _apply(self, target: Generation, to_index: list[Article], report: SyncReport, progress, exclusive) -> None:
        """Write the plan: commit ``pending``, the new versions, the final manifest, drop superseded records."""
        if not (to_index or report.removed or target.pending):
            if not target.committed:
                self._commit(target)  # a first sync of an empty corpus still leaves a manifest
            return
        if target.pending:
            self._drop_inactive_records(target)
        target.pending = True
        self._superseded += [target.articles[article_id].version for article_id in report.removed]
        target.articles = {k: v for k, v in target.articles.items() if k not in report.removed}
        self._commit(target)
        committed_at = time.monotonic()
        for article in to_index:
            previous = target.articles.get(article.id)
            try:
                indexed = self._add_article(target, article, progress)
            except ArticleOverBudget as error:
                report.problems.append(CorpusProblem(article.path, str(error)))
                self._superseded.append(article.version)  # what it wrote so far goes with the replaced versions
                continue
            target.articles = {**target.articles, article.id: indexed}
            report.texts_embedded += indexed.record_count  # counted here: questions embed meanwhile too
            (report.updated if previous else report.added).append(article.id)
            if previous and previous.version != indexed.version:
                self._superseded.append(previous.version)
            if time.monotonic() - committed_at >= COMMIT_SECONDS:
                self._commit(target)
                committed_at = time.monotonic()
        self._commit(target)
        with exclusive():  # a question that began before the commit may still read the replaced versions
            if self._superseded:
                self.store_for(target).delete(where={"version": {"$in": self._superseded}})
                self._sentence_vectors = {v: m for v, m in self._sentence_vectors.items() if v not in self._superseded}
                self._superseded = []
            target.pending = False
            self._commit(target)
            keep = {target.name} | {g.name for g in (self.live, self._unfinished) if g is not None}
            self.backing.drop_unused(keep)

    def _which(self, generation: Generation) -> str:
        return BUILDING if generation is self.building else LIVE

    def _commit(self, generation: Generation) -> None:
        payload = {
            "fingerprint": self._fingerprint(),
            "generation": generation.name,
            "pending": generation.pending,
            "serial": timestamped("c"),
            "articles": [asdict(a) for a in generation.articles.values()],
        }
        with self._follow_lock:  # a question must not take this process's own commit for another's
            self.backing.write_manifest(self._which(generation), payload)
            generation.committed = True
            if generation is self.live:
                self._stamp = self.backing.stamp()

    def _promote(self) -> None:
        """The rebuilt generation becomes live in one manifest write; the old one's records are dropped."""
        built, self.building = self.building, None
        self.live, self._damage = built, None
        self._commit(built)
        self.backing.write_manifest(BUILDING, None)
        self._stores = {built.name: self._stores[built.name]} if built.name in self._stores else {}
        self.backing.drop_unused({built.name})

    def _add_article(self, target: Generation, article: Article, progress: ProgressFactory | None) -> IndexedArticle:
        count_tokens = token_counter(self.settings.model_path())
        sentences = sentence_spans(article.text)  # once: pysbd is the costly part of a long article
        passages = chunk_article(article.id, article.text, self.settings.passage_tokens, count_tokens, sentences)
        texts = [p.text for p in passages] + [article.text[s.start : s.end] for s in sentences]
        common = {"article_id": article.id, "version": article.version}
        metadatas = [{**common, "kind": "passage", "n": p.n, "start": p.start, "end": p.end} for p in passages]
        metadatas += [{**common, "kind": "sentence", "n": i, "start": s.start, "end": s.end} for i, s in enumerate(sentences)]
        ids = [f"{article.version}:p{p.n}" for p in passages] + [f"{article.version}:s{i}" for i in range(len(sentences))]
        if len(texts) > MAX_TEXTS_PER_ARTICLE:
            raise ArticleOverBudget(f"too many pieces to embed ({len(texts):,} passages and sentences; "
                                    f"at most {MAX_TEXTS_PER_ARTICLE:,})")
        bar = progress(len(texts), f"embedding {article.id}") if progress else None
        collection = self.store_for(target)
        began, done = time.monotonic(), 0
        try:
            # Batches never mix passages with sentences: a short sentence batched with passages is padded
            # to passage length (bench/index_build.py: +22% model throughput when kept apart).
            for low, high in ((0, len(passages)), (len(passages), len(texts))):
                for begin in range(low, high, EMBED_BATCH):
                    if time.monotonic() - began > MAX_EMBED_SECONDS:
                        raise ArticleOverBudget(f"embedding took over {MAX_EMBED_SECONDS:,.0f} s (stopped after "
                                                f"{done:,} of {len(texts):,} passages and sentences)")
                    batch = slice(begin, min(begin + EMBED_BATCH, high))
                    collection.upsert(
                        ids=ids[batch], embeddings=self.embeddings.embed_documents(texts[batch]),
                        documents=texts[batch], metadatas=metadatas[batch],
                    )
                    done += len(texts[batch])
                    if bar is not None:
                        bar.update(len(texts[batch]))
        finally:
            if bar is not None:
                bar.close()
        return IndexedArticle(
            id=article.id,
            title=article.title,
            url=article.url,
            path=str(article.path),
            sha256=article.sha256,
            text=article.text,
            passages=[(p.start, p.end) for p in passages],
            sentences=[(s.start, s.end) for s in sentences],
        )

    def _drop_inactive_records(self, target: Generation) -> None:
        """After an interrupted sync: remove records of versions the manifest does not name."""
        active = sorted(a.version for a in target.articles.values())
        collection = self.store_for(target)
        stale = collection.get(where={"version": {"$nin": active}} if active else None, include=[])["ids"]
        if stale:
            collection.delete(ids=stale)

    # -- queries --------------------------------------------------------------------------
    def _read(self, query: Callable):
        """Run a read on the live store; if it fails because another process switched generations or
        rewrote records under this process's client, reload and try once more."""
        try:
            return query(self.store)
        except Exception:
            if not self._follow_other_writers(force=True):
                raise
            return query(self.store)

    def dense_passages(self, query_vector: list[float], versions: list[str], k: int) -> list[tuple[str, int, float]]:
        """(version, passage n, cosine similarity) of the nearest passages among ``versions``."""
        where = {"$and": [{"kind": "passage"}, {"version": {"$in": versions}}]}
        found = self._read(lambda store: store.query(
            query_embeddings=[query_vector], n_results=k, where=where, include=["metadatas", "distances"],
        ))
        return [(meta["version"], meta["n"], 1.0 - distance) for meta, distance in zip(found["metadatas"][0], found["distances"][0])]

    def query_vector(self, text: str) -> list[float]:
        """Embedding of a question, cached: retrieval and sentence scoring share one."""
        vector = self._query_cache.get(text)
        if vector is None:  # kept in a local: another question may clear the cache meanwhile
            vector = self.embeddings.embed_query(text)
            if len(self._query_cache) > 256:
                self._query_cache.clear()
            self._query_cache[text] = vector
        return vector

    def sentence_vectors(self, version: str):
        """Embeddings of every sentence of one article version, in sentence order (a numpy array).

        Kept in memory once read: a version's vectors never change, and reading them from Chroma
        was half the time of an answer (bench/query_latency.py).
        """
        import numpy as np

        if version not in self._sentence_vectors:
            where = {"$and": [{"kind": "sentence"}, {"version": version}]}
            records = self._read(lambda store: store.get(where=where, include=["embeddings", "metadatas"]))
            order = np.argsort([meta["n"] for meta in records["metadatas"]])
            self._sentence_vectors[version] = np.asarray(records["embeddings"], dtype=np.float32)[order]
        return self._sentence_vectors[version]
