"""Shared fixtures: real components only (Chroma on disk, the bundled MiniLM, real files).

Loading MiniLM costs ~6 s per process, so the session builds it once:

* ``bot`` — ONE ``Assistant`` over a temporary copy of ``corpus/`` with its own index folder,
  synced once. For tests that only read (ask, articles, re-sync of an unchanged corpus).
  Never change its corpus folder or its index.
* ``make_assistant(corpus_dir, data_dir)`` — a fresh ``Assistant`` for tests that change a corpus
  or an index; it reuses the already loaded model (``Assistant(embeddings=...)``, with its own
  embed counter), so it costs only the embedding of what it indexes.
* ``corpus_dir`` — a writable temporary copy of ``corpus/``; ``data_dir`` — an empty index folder.
* ``seed_article`` / ``seed_text`` — the shipped article as loaded and cleaned by the loader.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from assistant.config import OFFLINE_ENVIRONMENT

for _name, _value in OFFLINE_ENVIRONMENT.items():  # before anything imports the HF / Gradio stacks
    os.environ.setdefault(_name, _value)

from assistant import Assistant  # noqa: E402
from assistant.corpus import Article, load_article  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = REPO / "corpus"
SEED_PATH = SHIPPED_CORPUS / "ketamine-opioid.txt"
SEED_ID = "ketamine-opioid"


def copy_corpus(destination: Path, *sources: Path) -> Path:
    """Writable copies (the shipped file is read-only; copyfile does not carry the mode over)."""
    destination.mkdir(parents=True, exist_ok=True)
    for source in sources or sorted(SHIPPED_CORPUS.iterdir()):
        shutil.copyfile(source, destination / source.name)
    return destination


@pytest.fixture(scope="session")
def seed_article() -> Article:
    return load_article(SEED_PATH)


@pytest.fixture(scope="session")
def seed_text(seed_article: Article) -> str:
    """The cleaned text of the shipped article (what passages and citations index into)."""
    return seed_article.text


@pytest.fixture(scope="session")
def bot(tmp_path_factory) -> Assistant:
    """One synced Assistant over a copy of the shipped corpus, shared by read-only tests."""
    root = tmp_path_factory.mktemp("shared-bot")
    assistant = Assistant(corpus_dir=copy_corpus(root / "corpus"), data_dir=root / "index")
    report = assistant.sync()
    assert report.added == [SEED_ID] and not report.problems, report
    return assistant


@pytest.fixture(scope="session")
def embedding_model(bot: Assistant):
    """The loaded MiniLM (a LangChain ``Embeddings``), without the session bot's counter."""
    return bot.index.embeddings.inner


@pytest.fixture
def make_assistant(embedding_model, tmp_path):
    """Factory for Assistants of a test's own; they share the loaded model, not the counter."""

    def make(corpus_dir: Path | None = None, data_dir: Path | None = None, **overrides) -> Assistant:
        if corpus_dir is None:
            corpus_dir = tmp_path / "corpus"
            if not corpus_dir.exists():
                copy_corpus(corpus_dir)
        return Assistant(
            corpus_dir=corpus_dir, data_dir=data_dir or tmp_path / "index", embeddings=embedding_model, **overrides
        )

    return make


@pytest.fixture(scope="module")
def web_corpus(tmp_path_factory) -> Path:
    """A corpus folder with only the seed article, one per test module: its server may add files to it."""
    return copy_corpus(tmp_path_factory.mktemp("web") / "corpus", SEED_PATH)


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    return copy_corpus(tmp_path / "corpus")


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "index"


# --- A real local LLM (llama-cpp-python + the Gemma 3 270M GGUF), for the generative backends ---------
# Both come with the `llamacpp` extra (part of `dev`). Without llama_cpp the tests that use these
# fixtures are skipped, except under CI (CI=true), where a missing install must not pass as green.


def _require_llama_cpp() -> None:
    try:
        import llama_cpp  # noqa: F401
    except ModuleNotFoundError as error:
        if error.name != "llama_cpp":
            raise  # llama_cpp is there but broken: fail, don't hide it
        reason = "llama-cpp-python is not installed (pip install -e '.[llamacpp]')"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{reason}; CI must run the llama.cpp tests", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def llama_gguf() -> Path:
    """The Gemma 3 270M Q4_K_M GGUF (253 MB), assembled once into ~/.cache/article-assistant/models/."""
    _require_llama_cpp()
    from llm_server import gguf_model_path

    return gguf_model_path()


@pytest.fixture(scope="session")
def llama_server(llama_gguf: Path):
    """llama.cpp's OpenAI-compatible server on a free loopback port for the session: ``(base_url, model_name)``.

    ``base_url`` is ``http://127.0.0.1:PORT/v1``; the model is listed as ``gemma-3-270m``. A weak base
    model with no chat template: cap every request with ``max_tokens`` (langchain-openai needs
    ``extra_body={"max_tokens": N}``), see tests/llm_server.py.
    """
    from llm_server import running_llama_server

    with running_llama_server(llama_gguf, timeout=120, model_alias="gemma-3-270m") as server:
        yield server
