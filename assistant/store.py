"""Where the index is kept: Chroma in a local folder, or on a Chroma server, in *generations*.

A generation is one set of Chroma records plus the manifest naming its article versions. A
rebuild fills a new generation while the live one keeps answering, then switches the live
manifest to it in one atomic write and drops the old one. A rebuild killed half-way therefore
leaves the old generation answering, and nothing piles up: Chroma leaves a deleted collection's
segment folder on disk, so locally each generation gets its own folder, removed as a whole.

Manifests live beside the records they describe: ``<data_dir>/live.json`` (and ``building.json``
during a rebuild) for a local store; records of the ``assistant-manifests`` collection on a
server, so that every process sharing the server sees the same manifest. ``stamp()`` is a cheap
token that changes with every manifest write: a process that sees it change reloads the manifest
and reopens its client (a local client keeps the vector index in memory and fails on records
another process wrote after it loaded).
"""

from __future__ import annotations

import atexit
import errno
import json
import os
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlparse

from assistant.errors import UserError

LIVE, BUILDING = "live", "building"
LOCAL_COLLECTION = "passages"
SERVER_PREFIX = "passages-"
MANIFESTS = "assistant-manifests"
LEGACY_LAYOUT = ("chroma", "manifest.json", "sync.pending")
# A replaced local client is stopped only this long after it was replaced: a question still reading
# through it finishes first, and a server that follows many syncs does not pile up clients (~1 MB each).
RETIRE_AFTER_SECONDS = 30.0


class StoreDamaged(Exception):
    """The store cannot be read as the manifest describes it; ``str()`` says why, in a few words."""


def _chroma_settings():
    import chromadb

    return chromadb.config.Settings(anonymized_telemetry=False)


def passage_collection(client, name: str):
    """Passages and sentences with their vectors, compared by cosine (the embeddings are normalised).

    chromadb's own collection rather than LangChain's ``Chroma`` wrapper: the wrapper's import pulls in
    LangChain's runnables and tracers, 0.4 s of a cold ``assistant ask`` and memory in every server,
    for calls (add, query, get, delete) that are one line each here.
    """
    # No embedding function: vectors always come from our embedder (Chroma's default would fetch a model).
    return client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)


def short_reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:160] if text else type(error).__name__


def probe(collection, expected_records: int) -> None:
    """Read the store the way a question will (record count, one nearest-neighbour search), so a
    damaged database or vector index shows up now rather than as a failed answer."""
    try:
        count = collection.count()
        # More is fine: an interrupted write leaves records the next sync clears.
        if count < expected_records:
            raise StoreDamaged(f"it holds {count} of the {expected_records} records the manifest names")
        if expected_records:
            sample = collection.get(limit=1, include=["embeddings"])["embeddings"]
            collection.query(query_embeddings=[list(sample[0])], n_results=1)
    except StoreDamaged:
        raise
    except Exception as error:  # chromadb raises sqlite, Rust and index errors alike
        raise StoreDamaged(short_reason(error)) from error


# The disk refusing a write (full, not allowed, failing) is not damage: an intact store is never moved aside for it.
_DISK_ERRNOS = {
    errno.ENOSPC: "is full", errno.EDQUOT: "is over its quota", errno.EROFS: "is mounted read-only",
    errno.EACCES: "may not be written", errno.EPERM: "may not be written", errno.EIO: "reports I/O errors",
}
# Chroma passes SQLite's errors on as text ("error returned from database: (code: 13) database or disk is full").
_DISK_MESSAGES = {
    "disk is full": "is full", "no space left": "is full", "quota exceeded": "is over its quota",
    "readonly database": "may not be written", "read-only file system": "is mounted read-only",
    "permission denied": "may not be written", "disk i/o error": "reports I/O errors",
}


def disk_condition(error: BaseException | None) -> str | None:
    """"is full", "may not be written", ... when ``error`` (or one it was raised from) is the disk
    refusing to write; None for anything else."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, OSError) and error.errno in _DISK_ERRNOS:
            return _DISK_ERRNOS[error.errno]
        text = str(error).lower()
        for words, condition in _DISK_MESSAGES.items():
            if words in text:
                return condition
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None


def timestamped(prefix: str) -> str:
    return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(2).hex()}"


class LocalStore:
    """Generations as folders ``<data_dir>/store-<generation>/``, manifests as JSON files beside them."""

    remote = False

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self._readonly_copies: dict[str, Path] = {}
        self._retired: list[tuple[float, object]] = []  # (when, chromadb System) replaced, not yet stopped
        self.disk_trouble: str | None = None  # why the disk refused Chroma (disk_condition); then read-only

    @property
    def writable(self) -> bool:
        """The data dir (or, before it exists, the nearest folder above it) may be written to."""
        if self.disk_trouble:
            return False
        existing = next(p for p in (self.data_dir, *self.data_dir.parents) if p.exists())
        return os.access(existing, os.W_OK | os.X_OK)

    def read_only_for(self, generation: str, condition: str) -> bool:
        """The disk refused to let Chroma open the generation: when its database passes SQLite's own
        check, answer from a private copy from now on (True); a store that fails the check is damaged."""
        database = self.folder(generation) / "chroma.sqlite3"
        try:
            with closing(sqlite3.connect(f"file:{database}?mode=ro&immutable=1", uri=True)) as connection:
                intact = connection.execute("PRAGMA quick_check").fetchone() == ("ok",)
        except sqlite3.Error:
            intact = False
        if intact:
            self.disk_trouble = condition
        return intact

    def manifest_path(self, which: str) -> Path:
        return self.data_dir / f"{which}.json"

    def read_manifest(self, which: str) -> dict | None:
        path = self.manifest_path(which)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError as error:
            raise StoreDamaged(f"{path.name} is not text") from error
        except OSError as error:  # the disk's trouble (permissions, I/O), not the manifest's: nothing is moved
            raise UserError(f"cannot read {path} ({error.strerror}); nothing was moved") from error
        try:
            payload = json.loads(raw)
        except ValueError as error:
            raise StoreDamaged(f"{path.name} is not valid JSON") from error
        if not isinstance(payload, dict):
            raise StoreDamaged(f"{path.name} does not hold a manifest")
        return payload

    def write_manifest(self, which: str, payload: dict | None) -> None:
        """Atomic replace: readers see the old manifest or the new one, never half of one."""
        path = self.manifest_path(which)
        if payload is None:
            path.unlink(missing_ok=True)
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, path)
        except OSError:
            temporary.unlink(missing_ok=True)  # a full disk leaves no half-written manifest behind
            raise

    def stamp(self):
        try:
            info = self.manifest_path(LIVE).stat()
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def folder(self, generation: str) -> Path:
        return self.data_dir / f"store-{generation}"

    def open(self, generation: str):
        """The generation's Chroma collection, on a client of its own."""
        import chromadb

        folder = self.folder(generation)
        if not self.writable:
            folder = self._readonly_copy(folder)
        # Chroma shares one client per folder within a process, and that client does not see what
        # other processes wrote since it loaded: retire the shared one so this open reads the folder afresh.
        self._retire(folder)
        client = chromadb.PersistentClient(path=str(folder), settings=_chroma_settings())
        return passage_collection(client, LOCAL_COLLECTION)

    def _retire(self, folder: Path) -> None:
        """Take the folder's shared Chroma client out of use; stop those retired long enough ago."""
        from chromadb.api.shared_system_client import SharedSystemClient

        now = time.monotonic()
        system = SharedSystemClient._identifier_to_system.pop(str(folder), None)
        SharedSystemClient._identifier_to_refcount.pop(str(folder), None)
        if system is not None:
            self._retired.append((now, system))
        for retired_at, old in self._retired:
            if now - retired_at > RETIRE_AFTER_SECONDS:
                old.stop()
        self._retired = [(at, old) for at, old in self._retired if now - at <= RETIRE_AFTER_SECONDS]

    def _readonly_copy(self, folder: Path) -> Path:
        """Chroma cannot open a store it may not write to: read-only use works on a private copy."""
        if str(folder) not in self._readonly_copies:
            scratch = Path(tempfile.mkdtemp(prefix="assistant-readonly-"))
            atexit.register(shutil.rmtree, scratch, True)
            copy = scratch / folder.name
            if folder.is_dir():
                shutil.copytree(folder, copy)
            self._readonly_copies[str(folder)] = copy
        return self._readonly_copies[str(folder)]

    def check_files(self, generation: str) -> None:
        if not (self.folder(generation) / "chroma.sqlite3").is_file():
            raise StoreDamaged("chroma.sqlite3 is missing")

    def drop_unused(self, keep: set[str]) -> None:
        """Remove every generation folder the manifests do not name (replaced or abandoned)."""
        if not self.data_dir.is_dir():
            return
        for entry in self.data_dir.iterdir():
            unused = entry.name.startswith("store-") and entry.name[len("store-"):] not in keep
            if unused or entry.name in LEGACY_LAYOUT:  # before generations: one Chroma folder, manifest.json, sync.pending
                self._retire(entry)
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)

    def move_aside(self) -> str:
        """Move manifests and generation folders into ``damaged-<timestamp>/``: kept for inspection."""
        target = self.data_dir / timestamped("damaged")
        target.mkdir(parents=True)
        for entry in self.data_dir.iterdir():
            if entry.name.startswith("store-") or entry.name in (f"{LIVE}.json", f"{BUILDING}.json", *LEGACY_LAYOUT):
                shutil.move(str(entry), target / entry.name)
        return str(target)


class ServerStore:
    """Generations as collections ``passages-<generation>`` on a Chroma server; manifests as records there."""

    remote = True
    writable = True
    disk_trouble = None  # the server's disk is the server's to report

    def read_only_for(self, generation: str, condition: str) -> bool:
        """A server's store cannot be copied here: a disk condition there is reported, never worked around."""
        return False

    def __init__(self, url: str):
        import chromadb

        parsed = urlparse(url if "://" in url else f"http://{url}")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise UserError(f"ASSISTANT_CHROMA_URL must look like http://host:port, not {url!r}")
        self.url = url
        try:
            self.client = chromadb.HttpClient(
                host=parsed.hostname, port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https", settings=_chroma_settings(),
            )
            self.client.heartbeat()
            self._manifests = self.client.get_or_create_collection(MANIFESTS)
        except Exception as error:
            raise UserError(f"cannot reach the Chroma server at {url} ({short_reason(error)})") from error

    def read_manifest(self, which: str) -> dict | None:
        found = self._manifests.get(ids=[which], include=["documents"])
        return json.loads(found["documents"][0]) if found["ids"] else None

    def write_manifest(self, which: str, payload: dict | None) -> None:
        """One upsert of one record: atomic for every process reading it."""
        if payload is None:
            self._manifests.delete(ids=[which])
            return
        self._manifests.upsert(
            ids=[which], embeddings=[[0.0]], documents=[json.dumps(payload, ensure_ascii=False)],
            metadatas=[{"serial": payload["serial"]}],
        )

    def stamp(self):
        found = self._manifests.get(ids=[LIVE], include=["metadatas"])
        return found["metadatas"][0]["serial"] if found["ids"] else None

    def open(self, generation: str):
        return passage_collection(self.client, SERVER_PREFIX + generation)

    def check_files(self, generation: str) -> None:
        names = {c.name for c in self.client.list_collections()}
        if SERVER_PREFIX + generation not in names:
            raise StoreDamaged(f"collection {SERVER_PREFIX + generation} is missing")

    def drop_unused(self, keep: set[str]) -> None:
        for collection in self.client.list_collections():
            name = collection.name
            if name.startswith(SERVER_PREFIX) and name[len(SERVER_PREFIX):] not in keep:
                self.client.delete_collection(name)

    def move_aside(self) -> str:
        """Rename the generation collections ``damaged-<timestamp>-…`` (kept for inspection) and clear the manifests."""
        prefix = timestamped("damaged")
        for collection in self.client.list_collections():
            if collection.name.startswith(SERVER_PREFIX):
                self.client.get_collection(collection.name).modify(name=f"{prefix}-{collection.name}")
        for which in (LIVE, BUILDING):
            self.write_manifest(which, None)
        return f"collections {prefix}-* on {self.url}"


def open_store(data_dir: Path, chroma_url: str) -> LocalStore | ServerStore:
    return ServerStore(chroma_url) if chroma_url else LocalStore(data_dir)
