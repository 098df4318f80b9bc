"""The evaluator itself, on a tiny QA file whose outcomes are known in advance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.answer.citations import is_supported, marked_claims
from assistant.errors import UserError
from assistant.evaluation import evaluate, load_qa_file

TINY = Path(__file__).parent / "data" / "tiny_qa.yaml"


def test_metrics_on_known_outcomes(bot):
    report = evaluate(bot, TINY)
    m = report.metrics
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (3, 2, 1)
    assert m["hit@1"] == m["hit@5"] == m["mrr"] == 0.5
    assert m["answer_correct"] == 0.5
    assert m["evidence_cited"] == 0.5
    assert m["abstained_when_unanswerable"] == 1.0
    assert m["refused_when_answerable"] == 0.0
    assert m["citation_precision"] == 1.0
    hit, miss, unanswerable = report.items
    assert hit.evidence_rank == 1 and hit.answer_correct and hit.evidence_cited
    assert miss.evidence_rank is None and not miss.answer_correct and not miss.evidence_cited
    assert not unanswerable.found and unanswerable.markers == 0


def test_citation_check_rejects_what_the_passage_does_not_say():
    passage = "An hour prior to one dosage, the clients took a placebo."
    assert is_supported("“An hour prior to one dosage, the clients took a placebo.”", passage)
    assert not is_supported("Ketamine was given in a dose of 0.5 mg/kg.", passage)
    claims = marked_claims("“First claim.” [1] Second claim [2][3]")
    assert [(c.claim, c.n) for c in claims] == [("“First claim.”", 1), ("Second claim", 2), ("Second claim", 3)]
    leading = marked_claims("[1] Ketamine is an anesthetic.\n[2][3] It is also a painkiller.")
    assert [(c.claim, c.n) for c in leading] == [
        ("Ketamine is an anesthetic.", 1), ("It is also a painkiller.", 2), ("It is also a painkiller.", 3)
    ]


def test_followups_are_asked_after_their_earlier_turns(tmp_path, bot):
    qa = tmp_path / "followup.json"
    qa.write_text(json.dumps({"followups": [{"turns": [
        {"question": "Who is Boris Heifets?"},
        {"question": "What did he say about glutamate receptors?", "evidence": "a particular kind of glutamate receptor"},
    ]}]}))
    (item,) = evaluate(bot, qa).items
    assert item.kind == "followup" and "Heifets" in item.standalone_question


@pytest.mark.parametrize("content", ["[1, 2", "just a string", "answerable:\n  - {evidence: x}\n"])
def test_malformed_qa_file_is_a_user_error(tmp_path, content):
    qa = tmp_path / "bad.yaml"
    qa.write_text(content)
    with pytest.raises(UserError):
        load_qa_file(qa)


def test_eval_command_writes_a_report_and_compares_variants(tmp_path, bot):
    report = tmp_path / "report.json"
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(bot.settings.corpus_dir), "ASSISTANT_DATA_DIR": str(bot.settings.data_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "eval", str(TINY), "--retrieval", "hybrid,lexical", "--report", str(report)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "extractive/hybrid/128t" in result.stdout and "extractive/lexical/128t" in result.stdout
    payload = json.loads(report.read_text())
    assert [r["variant"]["retrieval"] for r in payload] == ["hybrid", "lexical"]
    assert all(r["metrics"]["abstained_when_unanswerable"] == 1.0 for r in payload)
