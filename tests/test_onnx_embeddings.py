"""The torch-free query path: MiniLM exported to ONNX next to the index, checked, and used instead of torch.

Real parts throughout: the bundled MiniLM in sentence-transformers, torch's exporter, onnxruntime, a
real Chroma index, and a real subprocess for the cold ``assistant ask``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from assistant import Assistant
from assistant.config import bundled_model_path, load_settings
from assistant.evaluation import load_qa_file
from assistant.index import load_embedder, load_embeddings
from assistant.onnx_embeddings import (CHECK_SENTENCES, MODEL_FILE, RECORD_FILE, WEIGHTS_FILE, OnnxEmbeddings, export, export_folder,
                                      load_export)
from tests.conftest import REPO

MODEL = bundled_model_path()


@pytest.fixture(scope="module")
def sentence_transformer():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(MODEL, device="cpu", local_files_only=True)


def _cosines(a, b) -> np.ndarray:
    return (np.asarray(a) * np.asarray(b)).sum(axis=1)


def test_the_session_index_embeds_with_its_checked_export(bot):
    """Building an index loads sentence-transformers once, exports, and from then on embeds with the export."""
    assert isinstance(bot.index.embeddings.inner, OnnxEmbeddings)
    record = json.loads((export_folder(bot.settings.data_dir) / RECORD_FILE).read_text())
    assert record["min_cosine"] >= 0.9999
    assert len(record["onnx_sha256"]) == len(record["model_sha256"]) == 64


def test_export_agrees_with_sentence_transformers_on_unseen_text(sentence_transformer, tmp_path, seed_text):
    embedder = export(sentence_transformer, MODEL, tmp_path)
    assert embedder is not None
    texts = [seed_text[:300], seed_text[-2000:], "¿Cuántos participantes?", "x" * 5000, ""]
    ours = embedder.embed_documents(texts)
    reference = sentence_transformer.encode(texts, normalize_embeddings=True)
    assert _cosines(ours, reference).min() >= 0.9999
    single = embedder.embed_query(texts[0])
    assert _cosines([single], reference[:1])[0] >= 0.9999


def test_a_changed_or_stale_export_is_not_used(bot, tmp_path):
    source = export_folder(bot.settings.data_dir)
    shutil.copytree(source, export_folder(tmp_path))
    assert load_export(tmp_path, MODEL) is not None

    for name in (MODEL_FILE, WEIGHTS_FILE):  # the graph, then the weights it maps from disk
        exported = export_folder(tmp_path) / name
        damaged = bytearray(exported.read_bytes())
        damaged[len(damaged) // 2] ^= 0xFF
        exported.write_bytes(bytes(damaged))
        assert load_export(tmp_path, MODEL) is None, f"a {name} that no longer matches its checksum must not be run"
        shutil.copyfile(source / name, exported)
    assert load_export(tmp_path, MODEL) is not None

    record_file = export_folder(tmp_path) / RECORD_FILE
    record = json.loads(record_file.read_text())
    record["model"]["mtime_ns"] += 1  # the model folder changed since the export
    record_file.write_text(json.dumps(record))
    assert load_export(tmp_path, MODEL) is None


def test_a_stale_export_is_made_again_when_the_model_is_loaded(bot, tmp_path):
    shutil.copytree(export_folder(bot.settings.data_dir), export_folder(tmp_path))
    (export_folder(tmp_path) / RECORD_FILE).write_text("{not json")
    embedder = load_embedder(load_settings(data_dir=tmp_path))
    assert isinstance(embedder, OnnxEmbeddings)
    assert json.loads((export_folder(tmp_path) / RECORD_FILE).read_text())["min_cosine"] >= 0.9999


def test_a_failed_export_leaves_sentence_transformers_answering(monkeypatch, tmp_path, caplog):
    import torch

    def broken_exporter(*args, **kwargs):
        raise RuntimeError("exporter unavailable")

    monkeypatch.setattr(torch.onnx, "export", broken_exporter)
    with caplog.at_level(logging.WARNING):
        embedder = load_embedder(load_settings(data_dir=tmp_path))
    assert not isinstance(embedder, OnnxEmbeddings)
    assert "could not export the embedding model to ONNX (RuntimeError: exporter unavailable)" in caplog.text
    assert len(embedder.embed_query("Does it still answer?")) == 384
    assert not (export_folder(tmp_path) / MODEL_FILE).exists()
    assert [p.name for p in export_folder(tmp_path).iterdir()] == [], "the failed export's staging files are removed"


def test_answers_match_the_torch_path(bot, corpus_dir, tmp_path):
    """The same questions over an index built and queried with sentence-transformers, and with the export."""
    torch_bot = Assistant(corpus_dir=corpus_dir, data_dir=tmp_path / "torch-index", embeddings=load_embeddings(MODEL))
    torch_bot.sync()
    _, items = load_qa_file(REPO / "tests" / "data" / "seed_questions.yaml")
    for question in dict.fromkeys(item.question for item in items):
        ours, theirs = bot.ask(question), torch_bot.ask(question)
        assert (ours.found, ours.text) == (theirs.found, theirs.text), question
        assert ours.confidence == pytest.approx(theirs.confidence, abs=1e-4), question


def test_a_cold_ask_on_a_built_index_never_imports_torch(bot):
    probe = (
        "import sys\n"
        "from assistant.cli import main\n"
        "code = main(['--corpus-dir', sys.argv[1], '--data-dir', sys.argv[2], 'ask', 'How many participants were there?'])\n"
        "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'gradio', 'langchain_openai')"
        " if m in sys.modules)\n"
        "print('LOADED', ','.join(heavy), code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(bot.settings.corpus_dir), str(bot.settings.data_dir)],
        capture_output=True, text=True, timeout=120, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last == "LOADED  0", f"{last!r}\n{result.stderr}"


def test_the_check_sentences_cover_truncation():
    """One check sentence is longer than the model's 256-token window, so truncation is compared too."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    tokenizer.no_truncation()
    assert max(len(tokenizer.encode(s).ids) for s in CHECK_SENTENCES) > 256
