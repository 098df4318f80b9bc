"""The generative backends against a real local LLM: llama.cpp's OpenAI-compatible server and
llama-cpp-python in-process, both serving the Gemma 3 270M GGUF (a weak base model, so these test
the plumbing — streaming, marker checks, trimming, timeouts, fallback — not the answers' wisdom).
Ollama cannot run here; its adapter is checked for configuration only, and its behaviour through
LangChain's fake chat model in tests/test_generative.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.answer.model import Answer
from assistant.config import Settings
from assistant.llm import chat_model

QUESTION = "What did Boris Heifets say about glutamate receptors?"
TINY_QA = Path(__file__).parent / "data" / "tiny_qa.yaml"
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def stream(bot, question=QUESTION) -> tuple[list[str], Answer]:
    events = list(bot.stream(question))
    return [e for e in events if isinstance(e, str)], events[-1]


def assert_citations_backed(bot, answer: Answer, passages_given: int) -> None:
    for n in map(int, re.findall(r"\[(\d+)\]", answer.text)):
        assert 1 <= n <= passages_given
    for citation in answer.citations:
        article = bot.index.articles[citation.article_id]
        assert article.text[citation.start : citation.end] == citation.text
        assert article.text[citation.quote_start : citation.quote_end] == citation.quote


@pytest.fixture
def openai_bot(make_assistant, llama_server):
    base_url, _ = llama_server
    bot = make_assistant(backend="openai", openai_base_url=base_url, llm_max_tokens=24, top_k=3)
    bot.sync()
    return bot


def test_openai_backend_streams_and_checks_markers(openai_bot):
    pieces, answer = stream(openai_bot)
    assert answer.backend == "openai", answer.note  # no fallback: the server answered
    assert len(pieces) >= 2
    assert 0 < answer.timings_ms["first_token"] <= answer.timings_ms["total"]
    assert_citations_backed(openai_bot, answer, passages_given=3)
    if answer.found:
        assert "".join(pieces).strip() == answer.text
    else:
        assert answer.citations == []


def test_model_name_is_read_from_the_server(openai_bot, llama_server):
    model = chat_model(openai_bot.settings)
    assert model.model_name == llama_server[1]


def test_passages_are_trimmed_to_fit_a_small_context(make_assistant, llama_server):
    bot = make_assistant(backend="openai", openai_base_url=llama_server[0], llm_max_tokens=16, top_k=17, llm_context_tokens=700)
    bot.sync()
    _, answer = stream(bot)
    assert answer.backend == "openai", answer.note


def test_context_overflow_falls_back_cleanly(make_assistant, llama_server, seed_text, tmp_path):
    """Told the context is huge, the assistant sends more than the server's 2048 tokens; it must not crash."""
    corpus = tmp_path / "long-corpus"
    corpus.mkdir()
    (corpus / "long.txt").write_text("A long article\n\n" + "\n\n".join([seed_text] * 3), encoding="utf-8")
    bot = make_assistant(corpus_dir=corpus, backend="openai", openai_base_url=llama_server[0], llm_max_tokens=16,
                         top_k=40, llm_context_tokens=100_000)
    bot.sync()
    _, answer = stream(bot)
    assert answer.backend == "extractive" and "context" in answer.note


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"openai_base_url": "http://127.0.0.1:9/v1", "openai_model": "any"}, "cannot reach"),
     ({"llm_timeout": 0.05}, "did not answer within")],
    ids=["unreachable", "timeout"],
)
def test_failures_fall_back_to_quoting(make_assistant, llama_server, overrides, message):
    settings = {"backend": "openai", "openai_base_url": llama_server[0], "openai_model": "gemma-3-270m", "llm_max_tokens": 200}
    bot = make_assistant(**{**settings, **overrides})
    bot.sync()
    pieces, answer = stream(bot)
    assert answer.backend == "extractive" and answer.found
    assert message in answer.note and "answered by quoting the article instead" in answer.note
    assert message in "".join(pieces)


def test_llamacpp_backend_runs_the_gguf_in_process(make_assistant, llama_gguf):
    bot = make_assistant(backend="llamacpp", llamacpp_model_path=str(llama_gguf), llm_max_tokens=16, top_k=2)
    bot.sync()
    pieces, answer = stream(bot)
    assert answer.backend == "llamacpp", answer.note
    assert pieces and "first_token" in answer.timings_ms
    assert_citations_backed(bot, answer, passages_given=2)


def test_llamacpp_backend_without_a_model_file_falls_back(make_assistant, tmp_path):
    bot = make_assistant(backend="llamacpp", llamacpp_model_path=str(tmp_path / "missing.gguf"))
    bot.sync()
    _, answer = stream(bot)
    assert answer.backend == "extractive" and "no GGUF file" in answer.note


def test_ollama_adapter_is_configured_from_settings():
    pytest.importorskip("langchain_ollama")
    settings = Settings(backend="ollama", ollama_base_url="http://127.0.0.1:11999", ollama_model="qwen3:4b", llm_max_tokens=50)
    model = chat_model(settings)
    assert type(model).__name__ == "ChatOllama"
    assert (model.base_url, model.model, model.num_predict) == ("http://127.0.0.1:11999", "qwen3:4b", 50)


def test_eval_with_the_openai_backend_writes_a_report(bot, llama_server, tmp_path):
    report = tmp_path / "openai-report.json"
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(bot.settings.corpus_dir), "ASSISTANT_DATA_DIR": str(bot.settings.data_dir),
           "ASSISTANT_OPENAI_BASE_URL": llama_server[0], "ASSISTANT_LLM_MAX_TOKENS": "24"}
    result = subprocess.run([sys.executable, "-m", "assistant", "eval", str(TINY_QA), "--backend", "openai", "--report", str(report)],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    payload = json.loads(report.read_text())
    assert payload["variant"]["backend"] == "openai"
    assert payload["metrics"]["questions"] == 3
    assert all(item["latency_ms"] > 0 for item in payload["items"])
