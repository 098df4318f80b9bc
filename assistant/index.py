"""The persistent passage index: Chroma on disk plus a manifest, kept in step with the corpus.

Sync is incremental and keyed on each file's content hash: unchanged articles are never
re-embedded. Every record carries its article *version* (id + hash) and queries only ever ask
for the versions named in the manifest, which is replaced atomically after a version's records
are fully written. A sync killed half-way therefore leaves the old version answering, and the
next sync clears the half-written records.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from langchain_core.embeddings import Embeddings

from assistant.chunking import Passage, chunk_article, sentence_spans, token_counter
from assistant.config import Settings
from assistant.corpus import Article, CorpusProblem, content_digest, corpus_files, load_articles
from assistant.errors import UserError

SCHEMA = 1
COLLECTION = "passages"
# Measured by bench/index_build.py on 2 cores: 16 embeds ~30% faster than 32 or 64 (less padding).
EMBED_BATCH = 16


class CountingEmbeddings(Embeddings):
    """Wraps the real embedder and counts every text it embeds (how tests prove a sync was free)."""

    def __init__(self, inner: Embeddings):
        self.inner = inner
        self.texts_embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts_embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.texts_embedded += 1
        return self.inner.embed_query(text)


def load_embeddings(model_path: str) -> CountingEmbeddings:
    """MiniLM from a local folder through langchain-huggingface; never a hub id."""
    from langchain_huggingface import HuggingFaceEmbeddings

    if not Path(model_path, "modules.json").is_file():
        raise UserError(f"no sentence-transformers model at {model_path} (check ASSISTANT_EMBEDDING_MODEL)")
    inner = HuggingFaceEmbeddings(
        model_name=model_path,
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "batch_size": EMBED_BATCH},
    )
    return CountingEmbeddings(inner)


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

    def passage_list(self) -> list[Passage]:
        return [
            Passage(self.id, n, self.text[start:end], start, end)
            for n, (start, end) in enumerate(self.passages, start=1)
        ]

    def sentences_within(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """(sentence number, start, end) of the sentences lying inside ``text[start:end]``."""
        return [(i, s, e) for i, (s, e) in enumerate(self.sentences) if start <= s and e <= end]


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[CorpusProblem] = field(default_factory=list)
    texts_embedded: int = 0

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
    """Chroma collection + manifest under ``data_dir``; the embedder loads only when needed."""

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None):
        """``embeddings`` lets several indexes share one loaded model (tests, evaluation variants)."""
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.manifest_path = self.data_dir / "manifest.json"
        self.pending_marker = self.data_dir / "sync.pending"
        self._embeddings = CountingEmbeddings(embeddings) if embeddings is not None else None
        self._store = None
        self._query_cache: dict[str, list[float]] = {}
        self._sentence_vectors: dict[str, object] = {}
        self.articles: dict[str, IndexedArticle] = {}
        self._read_manifest()
        # With nothing active, whatever an older or interrupted run left in Chroma is stale.
        self._discard_stored_records = not self.articles

    # -- lazily built heavy parts -------------------------------------------------------
    @property
    def embeddings(self) -> CountingEmbeddings:
        if self._embeddings is None:
            self._embeddings = load_embeddings(self.settings.model_path())
        return self._embeddings

    @property
    def texts_embedded(self) -> int:
        return self._embeddings.texts_embedded if self._embeddings else 0

    @property
    def store(self):
        if self._store is None:
            import chromadb
            from langchain_chroma import Chroma

            self._store = Chroma(
                collection_name=COLLECTION,
                embedding_function=self.embeddings,
                persist_directory=str(self.data_dir / "chroma"),
                client_settings=chromadb.config.Settings(anonymized_telemetry=False, is_persistent=True),
                collection_metadata={"hnsw:space": "cosine"},
            )
            if self._discard_stored_records:
                self._store.reset_collection()
                self._discard_stored_records = False
        return self._store

    # -- manifest -------------------------------------------------------------------------
    def _fingerprint(self) -> dict:
        return {
            "schema": SCHEMA,
            "model": Path(self.settings.model_path()).name if self.settings.embedding_model else "bundled-minilm",
            "passage_tokens": self.settings.passage_tokens,
        }

    def _read_manifest(self) -> None:
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if manifest.get("fingerprint") != self._fingerprint():
            return
        for record in manifest.get("articles", []):
            record["passages"] = [tuple(pair) for pair in record["passages"]]
            record["sentences"] = [tuple(pair) for pair in record["sentences"]]
            self.articles[record["id"]] = IndexedArticle(**record)

    def _write_manifest(self) -> None:
        """Atomic replace: readers see the old manifest or the new one, never half of one."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        payload = {"fingerprint": self._fingerprint(), "articles": [asdict(a) for a in self.articles.values()]}
        temporary = self.manifest_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, self.manifest_path)

    # -- sync -----------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Forget everything indexed; the next sync embeds the corpus from scratch."""
        self.articles = {}
        self._sentence_vectors.clear()
        self._discard_stored_records = True
        if self._store is not None:  # an open client must not lose its files underneath it
            self._store.reset_collection()
            self._discard_stored_records = False
        self.manifest_path.unlink(missing_ok=True)
        self.pending_marker.unlink(missing_ok=True)

    def sync(self, corpus_dir: Path, progress: ProgressFactory | None = tqdm_progress) -> SyncReport:
        report = SyncReport()
        before = self.texts_embedded
        if self.pending_marker.exists():
            self._drop_inactive_records()

        seen: set[str] = set()
        # First pass: unchanged files keep their ids, so a new file cannot take one over.
        changed_paths = []
        for path in corpus_files(corpus_dir):
            indexed = self._indexed_by_path(path)
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

        for article_id in [a for a in self.articles if a not in seen]:
            self._delete_version(self.articles.pop(article_id).version)
            report.removed.append(article_id)
        if report.removed:
            self._write_manifest()

        if to_index:
            self.pending_marker.parent.mkdir(parents=True, exist_ok=True)
            self.pending_marker.touch()
            for article in to_index:
                previous = self.articles.get(article.id)
                self._add_article(article, progress)
                (report.updated if previous else report.added).append(article.id)
                if previous and previous.version != self.articles[article.id].version:
                    self._delete_version(previous.version)
            self.pending_marker.unlink(missing_ok=True)
        elif not self.manifest_path.exists():
            self._write_manifest()
        report.texts_embedded = self.texts_embedded - before
        return report

    def _indexed_by_path(self, path: Path) -> IndexedArticle | None:
        for article in self.articles.values():
            if Path(article.path) == path:
                return article
        return None

    def _add_article(self, article: Article, progress: ProgressFactory | None) -> None:
        count_tokens = token_counter(self.settings.model_path())
        passages = chunk_article(article.id, article.text, self.settings.passage_tokens, count_tokens)
        sentences = sentence_spans(article.text)
        texts = [p.text for p in passages] + [article.text[s.start : s.end] for s in sentences]
        common = {"article_id": article.id, "version": article.version}
        metadatas = [{**common, "kind": "passage", "n": p.n, "start": p.start, "end": p.end} for p in passages]
        metadatas += [{**common, "kind": "sentence", "n": i, "start": s.start, "end": s.end} for i, s in enumerate(sentences)]
        ids = [f"{article.version}:p{p.n}" for p in passages] + [f"{article.version}:s{i}" for i in range(len(sentences))]
        bar = progress(len(texts), f"embedding {article.id}") if progress else None
        # Batches never mix passages with sentences: a short sentence batched with passages is padded
        # to passage length (bench/index_build.py: +22% model throughput when kept apart).
        for low, high in ((0, len(passages)), (len(passages), len(texts))):
            for begin in range(low, high, EMBED_BATCH):
                batch = slice(begin, min(begin + EMBED_BATCH, high))
                self.store.add_texts(texts[batch], metadatas=metadatas[batch], ids=ids[batch])
                if bar is not None:
                    bar.update(len(texts[batch]))
        if bar is not None:
            bar.close()
        self.articles[article.id] = IndexedArticle(
            id=article.id,
            title=article.title,
            url=article.url,
            path=str(article.path),
            sha256=article.sha256,
            text=article.text,
            passages=[(p.start, p.end) for p in passages],
            sentences=[(s.start, s.end) for s in sentences],
        )
        self._write_manifest()

    def _delete_version(self, version: str) -> None:
        self._sentence_vectors.pop(version, None)
        self.store.delete(where={"version": version})

    def _drop_inactive_records(self) -> None:
        """After an interrupted sync: remove records of versions the manifest does not name."""
        active = {a.version for a in self.articles.values()}
        records = self.store.get(include=["metadatas"])
        stale = [rid for rid, meta in zip(records["ids"], records["metadatas"]) if meta.get("version") not in active]
        if stale:
            self.store.delete(ids=stale)
        self.pending_marker.unlink(missing_ok=True)

    # -- queries --------------------------------------------------------------------------
    def dense_passages(self, query_vector: list[float], versions: list[str], k: int) -> list[tuple[str, int, float]]:
        """(version, passage n, cosine similarity) of the nearest passages among ``versions``."""
        where = {"$and": [{"kind": "passage"}, {"version": {"$in": versions}}]}
        hits = self.store.similarity_search_by_vector_with_relevance_scores(query_vector, k=k, filter=where)
        return [(doc.metadata["version"], doc.metadata["n"], 1.0 - distance) for doc, distance in hits]

    def query_vector(self, text: str) -> list[float]:
        """Embedding of a question, cached: retrieval and sentence scoring share one."""
        if text not in self._query_cache:
            if len(self._query_cache) > 256:
                self._query_cache.clear()
            self._query_cache[text] = self.embeddings.embed_query(text)
        return self._query_cache[text]

    def sentence_vectors(self, version: str):
        """Embeddings of every sentence of one article version, in sentence order (a numpy array).

        Kept in memory once read: a version's vectors never change, and reading them from Chroma
        was half the time of an answer (bench/query_latency.py).
        """
        import numpy as np

        if version not in self._sentence_vectors:
            where = {"$and": [{"kind": "sentence"}, {"version": version}]}
            records = self.store.get(where=where, include=["embeddings", "metadatas"])
            order = np.argsort([meta["n"] for meta in records["metadatas"]])
            self._sentence_vectors[version] = np.asarray(records["embeddings"], dtype=np.float32)[order]
        return self._sentence_vectors[version]
