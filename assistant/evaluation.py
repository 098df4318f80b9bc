"""``assistant eval``: answer quality and speed on a file of questions with known answers.

Two formats. Our own QA file (YAML or JSON) names an article and lists ``answerable`` questions
(accepted ``answer`` strings and the ``evidence`` text that must be cited), ``unanswerable``
ones, and ``followups`` (conversations whose last turn is scored after the earlier turns were
asked for real); see the README. The official SQuAD 2.0 JSON format (assistant/squad.py) is
scored the benchmark's way: HasAns (found, cited, a gold answer inside the answer text after
SQuAD normalisation), NoAns (not found, no citations), their mean, per article.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from assistant.answer.citations import is_supported, marked_claims
from assistant.answer.model import WEAK_MATCH_PREFIX
from assistant.core import Assistant
from assistant.errors import UserError
from assistant.squad import SquadArticle, holds_answer

RANK_DEPTH = 5


@dataclass(frozen=True)
class QAItem:
    question: str
    kind: str  # "answerable", "unanswerable" or "followup"
    answers: tuple[str, ...] = ()
    evidence: str | None = None
    history: tuple[str, ...] = ()


@dataclass
class ItemResult:
    question: str
    kind: str
    found: bool
    answer: str
    standalone_question: str
    evidence_rank: int | None
    answer_correct: bool | None
    weak: bool
    confidence: float | None
    evidence_cited: bool | None
    evidence_quoted: bool | None
    markers: int
    markers_supported: int
    latency_ms: float


@dataclass
class EvalReport:
    qa_file: str
    article: str | None
    variant: dict
    metrics: dict
    items: list[ItemResult] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"qa_file": self.qa_file, "article": self.article, "variant": self.variant, "metrics": self.metrics,
                "items": [asdict(item) for item in self.items]}


def _strings(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def load_qa_file(path: Path) -> tuple[str | None, list[QAItem]]:
    """Parse a QA file; a malformed one is a ``UserError`` naming what is wrong."""
    try:
        raw = path.read_text(encoding="utf-8")
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise UserError(f"cannot read QA file {path}: {error}".splitlines()[0]) from error
    if not isinstance(data, dict):
        raise UserError(f"QA file {path} must be a mapping with 'answerable', 'unanswerable' or 'followups'")
    items: list[QAItem] = []
    try:
        for entry in data.get("answerable") or []:
            answers = _strings(entry.get("answer") or entry.get("answers")) or _strings(entry.get("evidence"))
            items.append(QAItem(entry["question"], "answerable", answers, entry.get("evidence")))
        for entry in data.get("unanswerable") or []:
            items.append(QAItem(entry["question"], "unanswerable"))
        for entry in data.get("followups") or []:
            *earlier, last = entry["turns"]
            answers = _strings(last.get("answer") or last.get("answers")) or _strings(last.get("evidence"))
            items.append(QAItem(last["question"], "followup", answers, last.get("evidence"), tuple(t["question"] for t in earlier)))
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise UserError(f"QA file {path}: every entry needs a 'question' (followups need 'turns'): {error}") from error
    if not items:
        raise UserError(f"QA file {path} lists no questions")
    return data.get("article"), items


def _evaluate_item(bot: Assistant, item: QAItem, article: str | None) -> ItemResult:
    history = []
    for earlier in item.history:
        history.append((earlier, bot.ask(earlier, article=article, history=history).text))
    started = time.perf_counter()
    answer = bot.ask(item.question, article=article, history=history)
    latency = (time.perf_counter() - started) * 1000

    evidence_rank = answer_correct = evidence_cited = evidence_quoted = None
    if item.kind != "unanswerable":
        if item.evidence:
            articles, _ = bot.scope(article)
            ranked = bot.retriever.retrieve(answer.standalone_question, articles, RANK_DEPTH, mode=bot.settings.retrieval)
            evidence_rank = next((i for i, hit in enumerate(ranked, start=1) if item.evidence in hit.passage.text), None)
            evidence_cited = answer.found and any(item.evidence in c.text for c in answer.citations)
            evidence_quoted = answer.found and any(item.evidence in c.quote for c in answer.citations)
        answer_correct = answer.found and any(a.lower() in answer.text.lower() for a in item.answers)
    passages = {c.n: c.text for c in answer.citations}
    claims = marked_claims(answer.text.removeprefix(WEAK_MATCH_PREFIX))
    supported = sum(1 for c in claims if c.n in passages and is_supported(c.claim, passages[c.n]))
    return ItemResult(
        question=item.question, kind=item.kind, found=answer.found, answer=answer.text,
        standalone_question=answer.standalone_question, evidence_rank=evidence_rank, weak=answer.weak,
        confidence=answer.confidence, answer_correct=answer_correct, evidence_cited=evidence_cited, evidence_quoted=evidence_quoted,
        markers=len(claims), markers_supported=supported, latency_ms=round(latency, 2),
    )


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _latency(latencies_ms: list[float]) -> dict:
    """p50 and p95 (nearest rank) of the per-question latencies."""
    ordered = sorted(latencies_ms)
    if not ordered:
        return {"latency_p50_ms": None, "latency_p95_ms": None}
    return {
        "latency_p50_ms": round(statistics.median(ordered), 1),
        "latency_p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
    }


def summarise(items: list[ItemResult]) -> dict:
    answerable = [r for r in items if r.kind != "unanswerable"]
    unanswerable = [r for r in items if r.kind == "unanswerable"]
    ranked = [r for r in answerable if r.answer_correct is not None and r.evidence_cited is not None]
    markers = sum(r.markers for r in items)
    return {
        "questions": len(items),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "hit@1": _share([r.evidence_rank == 1 for r in ranked]),
        "hit@3": _share([r.evidence_rank is not None and r.evidence_rank <= 3 for r in ranked]),
        "hit@5": _share([r.evidence_rank is not None for r in ranked]),
        "mrr": round(sum(1 / r.evidence_rank for r in ranked if r.evidence_rank) / len(ranked), 4) if ranked else None,
        "answer_correct": _share([bool(r.answer_correct) for r in answerable]),
        "evidence_cited": _share([bool(r.evidence_cited) for r in ranked]),
        "right_quote": _share([bool(r.evidence_quoted) for r in ranked]),
        "weak_shown": _share([r.weak for r in items]),
        "abstained_when_unanswerable": _share([not r.found and not r.weak for r in unanswerable]),
        "refused_when_answerable": _share([not r.found and not r.weak for r in answerable]),
        "citation_precision": round(sum(r.markers_supported for r in items) / markers, 4) if markers else None,
        **_latency([r.latency_ms for r in items]),
    }


def variant_of(bot: Assistant) -> dict:
    s = bot.settings
    return {"backend": s.backend, "retrieval": s.retrieval, "passage_tokens": s.passage_tokens, "top_k": s.top_k,
            "rewrite_followups": s.rewrite_followups, "reader": s.reader, "rerank": s.rerank, "rerank_cap": s.rerank_cap}


def evaluate(bot: Assistant, qa_file: Path, article: str | None = None) -> EvalReport:
    """Ask every question of the QA file and measure retrieval, answers, abstention, citations, speed."""
    named_article, items = load_qa_file(Path(qa_file))
    article = article or named_article
    bot.sync()
    bot.scope(article)  # an unknown article fails here, before any question is asked
    results = [_evaluate_item(bot, item, article) for item in items]
    return EvalReport(str(qa_file), article, variant_of(bot), summarise(results), results)


def format_table(reports: list[EvalReport]) -> str:
    """Metrics as rows, one column per report (variant), for side-by-side reading."""
    def label(report: EvalReport) -> str:
        v = report.variant
        return (f"{v['backend']}/{v['retrieval']}/{v['passage_tokens']}t"
                + ("" if v["rewrite_followups"] else "/no-rewrite")
                + ("/reader" if v.get("reader") else "/no-reader")
                + (f"/cap{v['rerank_cap']}" if v["rerank"] or v.get("reader") else "/no-rerank"))

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    keys = list(reports[0].metrics)
    headers = ["metric"] + [label(r) for r in reports]
    rows = [[key] + ["-" if r.metrics[key] is None else str(r.metrics[key]) for r in reports] for key in keys]
    widths = [max(len(row[i]) for row in [headers] + rows) for i in range(len(headers))]
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


# -- SQuAD 2.0 --------------------------------------------------------------------------------
@dataclass
class SquadResult:
    article: str
    id: str
    question: str
    impossible: bool
    found: bool
    weak: bool
    confidence: float | None
    correct: bool  # HasAns: found, cited, holds a gold answer; NoAns: not found and nothing cited
    answer: str
    latency_ms: float


def _squad_item(bot: Assistant, article: SquadArticle, question) -> SquadResult:
    started = time.perf_counter()
    answer = bot.ask(question.question, article=article.article_id)
    latency = (time.perf_counter() - started) * 1000
    if question.impossible:
        correct = not answer.found and not answer.citations
    else:
        correct = answer.found and bool(answer.citations) and holds_answer(answer.text, question.answers)
    return SquadResult(article.article_id, question.id, question.question, question.impossible, answer.found,
                       answer.weak, answer.confidence, correct, answer.text, round(latency, 2))


def squad_metrics(results: list[SquadResult]) -> dict:
    has = [r.correct for r in results if not r.impossible]
    no = [r.correct for r in results if r.impossible]
    has_rate, no_rate = _share(has), _share(no)
    return {
        "questions": len(results), "answerable": len(has), "unanswerable": len(no),
        "has_ans": has_rate, "no_ans": no_rate,
        "balanced": round((has_rate + no_rate) / 2, 4) if has and no else None,
        "weak_shown": _share([r.weak for r in results]),
        **_latency([r.latency_ms for r in results]),
    }


def evaluate_squad(bot: Assistant, articles: list[SquadArticle], source: str, limit: int | None = None) -> EvalReport:
    """Ask every question of every article (``limit``: the first N per article), scored per article."""
    from tqdm import tqdm

    bot.sync()
    results = []
    with tqdm(total=sum(len(a.questions[:limit]) for a in articles), desc="questions", unit="q", leave=False) as bar:
        for article in articles:
            bot.scope(article.article_id)  # the article was indexed (a problem here is reported, not skipped)
            for question in article.questions[:limit]:
                results.append(_squad_item(bot, article, question))
                bar.update()
    metrics = squad_metrics(results)
    metrics["per_article"] = {a.article_id: squad_metrics([r for r in results if r.article == a.article_id])
                              for a in articles}
    return EvalReport(source, None, variant_of(bot), metrics, results)


def format_squad_table(report: EvalReport) -> str:
    """Per-article HasAns / NoAns / balanced, then the total (the README's way of reporting)."""
    lines = ["| article | answerable | unanswerable | HasAns | NoAns | balanced | p50 ms | p95 ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows = list(report.metrics["per_article"].items()) + [("**all**", report.metrics)]
    for name, m in rows:
        lines.append(f"| {name} | {m['answerable']} | {m['unanswerable']} | {m['has_ans']:.3f} | {m['no_ans']:.3f} | "
                     f"{m['balanced']:.3f} | {m['latency_p50_ms']:.0f} | {m['latency_p95_ms']:.0f} |")
    return "\n".join(lines)
