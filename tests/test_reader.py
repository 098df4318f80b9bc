"""The trained reader as the answerer runs it: checked files, onnxruntime only, spans, and the fallback."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys

import pytest

from assistant.answer import reader as reader_module
from assistant.answer.extractive import ExtractiveAnswerer


def test_the_shipped_reader_loads_checked_and_without_torch():
    code = ("import sys; from assistant.answer.reader import load_reader; r = load_reader(); "
            "print(r is not None, 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["True", "False"], result.stderr
    record = json.loads(reader_module.RECORD_FILE.read_text(encoding="utf-8"))
    model = reader_module.READER_FOLDER / record["model_file"]
    assert model.stat().st_size <= 40 * 2**20  # the package carries at most 40 MB of reader


def test_the_reader_prefers_the_answering_sentence_and_marks_words_inside_it():
    reader = reader_module.load_reader()
    question = "Which journal published the study?"
    sentences = [
        ("The researchers gave 12 people ketamine twice, two weeks apart.", None),
        ("The findings appear today in The American Journal of Psychiatry.", None),
        ("Ketamine is used as an anaesthetic in hospitals.", None),
    ]
    readings = reader.read(question, sentences)
    assert max(range(3), key=lambda i: readings[i].logit) == 1
    start, end = readings[1].span
    assert "Journal of Psychiatry" in sentences[1][0][start:end]
    for (sentence, _), reading in zip(sentences, readings):
        assert reading.span is None or 0 <= reading.span[0] < reading.span[1] <= len(sentence)


def test_a_swapped_name_lowers_the_readers_verdict():
    reader = reader_module.load_reader()
    sentence = [("The bridge was opened in 1887 by the engineer Margaret Collins.", None)]
    right = reader.read("Who opened the bridge in 1887?", sentence)[0].logit
    swapped = reader.read("Who opened the bridge in 1923?", sentence)[0].logit
    assert swapped < right


def test_bold_span_in_answers_comes_from_the_reader(bot):
    answer = bot.ask("What drug did the patients take before one of the ketamine doses?")
    assert answer.found and bot.answerer.models()[1] is not None
    bold = re.findall(r"\*\*(.+?)\*\*", answer.text)
    assert bold and all(b in answer.citations[0].quote or b in answer.text for b in bold)


@pytest.mark.parametrize("damage", ["missing", "altered"])
def test_a_missing_or_altered_reader_falls_back_with_one_notice(damage, tmp_path, monkeypatch, caplog, bot):
    copy = tmp_path / "trained_reader"
    shutil.copytree(reader_module.READER_FOLDER, copy)
    model = copy / json.loads((copy / "reader.json").read_text(encoding="utf-8"))["model_file"]
    if damage == "missing":
        model.unlink()
    else:
        with model.open("r+b") as handle:
            handle.seek(1000)
            handle.write(b"\x00" * 16)
    monkeypatch.setattr(reader_module, "READER_FOLDER", copy)
    monkeypatch.setattr(reader_module, "RECORD_FILE", copy / "reader.json")
    with caplog.at_level(logging.WARNING, logger=reader_module.__name__):
        answerer = ExtractiveAnswerer(bot.index)
        model_in_use, reader, _ = answerer.models()
    notices = [r.getMessage() for r in caplog.records if r.name == reader_module.__name__]
    assert len(notices) == 1 and "notice: the trained reader" in notices[0] and "\n" not in notices[0]
    assert reader is None and model_in_use.variant in {"cross_encoder", "bi_encoder"}
    articles, label = bot.scope(None)
    question = "Which journal published the Stanford findings?"
    retrieved = bot.retriever.retrieve(question, articles, bot.settings.top_k)
    best, _ = answerer.rank(question, retrieved)[0]
    assert "American Journal of Psychiatry" in best.text
    answer = answerer.answer(question, question, retrieved, label)
    assert 0.0 <= answer.confidence <= 1.0


def test_another_readers_folder_brings_its_own_decision(tmp_path, bot):
    """bench/query_latency.py --compare-reader: a reader and its fitted decision from another folder, side by
    side with the shipped ones. Here the same reader with a found level no answer reaches."""
    from assistant.answer.answerability import MODEL_FILE

    other = tmp_path / "other"
    shutil.copytree(reader_module.READER_FOLDER, other)
    decision = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    decision["variants"]["reader"]["found_level"] = 1.01
    (other / MODEL_FILE.name).write_text(json.dumps(decision), encoding="utf-8")
    question = "What drug did the patients take before one of the ketamine doses?"
    articles, label = bot.scope(None)
    retrieved = bot.retriever.retrieve(question, articles, bot.settings.top_k)
    shipped = ExtractiveAnswerer(bot.index).answer(question, question, retrieved, label)
    compared_with = ExtractiveAnswerer(bot.index, reader_folder=other)
    answer = compared_with.answer(question, question, retrieved, label)
    assert compared_with.models()[1] is not None and compared_with.model.found_level == 1.01
    assert shipped.found and not answer.found
    assert answer.confidence == pytest.approx(shipped.confidence)
