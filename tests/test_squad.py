"""SQuAD 2.0 files as benchmark input: reading, the benchmark's normalisation, and `assistant eval` on one.

The small SQuAD-format file in tests/data was written for these tests (two invented articles);
the real benchmark is ../shared/benchmarks/squad2-dev-8.json (see docs/evaluation.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.errors import UserError
from assistant.squad import holds_answer, load_squad, normalise, parse_squad, write_corpus
from test_cli import assert_usage_error, cli_env, run_cli

TINY_SQUAD = Path(__file__).parent / "data" / "tiny_squad.json"


def test_normalise_follows_squad():
    assert normalise("The  Edict of Nantes!") == "edict of nantes"
    assert normalise("“A minimum of 2 weeks.”") == "minimum of 2 weeks"


def test_holds_answer_needs_whole_words():
    assert holds_answer("“It was built in **1874** by Hale.” [1]", ("1874",))
    assert not holds_answer("It was built in 18745.", ("1874",))
    assert not holds_answer("anything", ("",))


def test_squad_articles_become_corpus_files(tmp_path):
    articles = load_squad(TINY_SQUAD)
    assert [a.article_id for a in articles] == ["harbour-lighthouse", "orchard-cooperative"]
    lighthouse = articles[0]
    assert [q.impossible for q in lighthouse.questions] == [False, False, True, False, True]
    assert lighthouse.questions[0].answers == ("Margaret Hale",)
    write_corpus(articles, tmp_path)
    text = (tmp_path / "harbour-lighthouse.txt").read_text(encoding="utf-8")
    assert text.startswith("Harbour Lighthouse\n\nThe Harbour Lighthouse was built in 1874")
    assert "\n\nVisitors can climb" in text  # paragraphs stay paragraphs


def test_malformed_squad_is_a_user_error():
    with pytest.raises(UserError, match="SQuAD 2.0 format"):
        parse_squad({"data": [{"title": "x", "paragraphs": [{"qas": []}]}]})


def test_eval_scores_a_squad_file(tmp_path):
    env = cli_env(tmp_path / "unused-corpus", tmp_path / "index")
    report = tmp_path / "report.json"
    result = run_cli(env, "eval", str(TINY_SQUAD), "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert "| harbour-lighthouse | 3 | 2 |" in result.stdout
    assert "HasAns" in result.stdout and "NoAns" in result.stdout
    payload = json.loads(report.read_text(encoding="utf-8"))
    metrics = payload["metrics"]
    assert metrics["answerable"] == 5 and metrics["unanswerable"] == 3
    assert set(metrics["per_article"]) == {"harbour-lighthouse", "orchard-cooperative"}
    # Simple, directly stated facts: most are quoted with the answer; the unrelated questions are refused.
    assert metrics["has_ans"] >= 0.6, payload["items"]
    assert metrics["no_ans"] >= 2 / 3, payload["items"]
    for item in payload["items"]:
        if not item["impossible"] and item["correct"]:
            assert item["found"] and "[1]" in item["answer"]


def test_eval_rejects_a_broken_squad_file(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"data": [{"title": "x", "paragraphs": [{"context": "c"}]}]}), encoding="utf-8")
    result = run_cli(cli_env(tmp_path / "c", tmp_path / "i"), "eval", str(broken))
    assert_usage_error(result, "SQuAD 2.0 format")
