"""Build the reader's training pairs from the shared SQuAD files: (question, candidate sentence, label, span).

Why pairs of a question and one sentence: the answerer quotes sentences, so the reader is asked
"does this sentence answer, and which words", and a sentence-sized input (about 50 word pieces)
trains five times faster on these CPUs than a whole paragraph.

Kinds written (the count of each is printed and stored in ``counts.json``):
  answer              the sentence holding the gold answer, with the answer's character span (label 1)
  hard_negative       the article's other sentences that share most (IDF-weighted) words with the
                      question: the question asked of the article with its answer sentence removed
  paragraph_negative  another sentence of the answer's own paragraph
  swap_name / swap_number / swap_date
                      the question with a name, number or year (one the answer sentence or its
                      context holds) swapped for another of the same type from the same article
  negation_added / negation_removed / antonym / mutual_exclusion / impossible_condition
                      the question changed the way SQuAD 2.0's writers changed theirs (Rajpurkar,
                      Jia and Liang 2018, Table 3), paired with the sentence that answered the original
  real_unanswerable   squad2-dev-19's own unanswerable questions, against their closest sentences
  name_word_changed / relation_reversed / antonym_wide / swap_word
                      with --subtle only: one more variant per answerable question, changing a single word
                      or the order of two (subtle_unanswerable.py; measured in run 8, not in the shipped reader)

squad2-dev-19 is split by article: the TRAIN_DEV_ARTICLES go into training; the other nine are
written to ``heldout.jsonl.gz`` (every question with its article's closest sentences) for the
trainer's validation figures and for fitting the decision levels by cross-validation across articles.
The benchmark (../shared/benchmarks) is never read here.

    .venv/bin/python training/build_data.py --out training/work/data      # ~3 min on 2 cores
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from assistant.answer.features import ANTONYM_PAIRS
from assistant.answer.reader_input import reader_text
from assistant.chunking import sentence_spans
from assistant.squad import normalise
from assistant.text_terms import content_stems
from training.subtle_unanswerable import NAME, subtle_unanswerable, word_counts

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SQUAD11 = SHARED / "squad11-train.json.gz"
DEV19 = SHARED / "squad2-dev-19.json"
# Ten of the nineteen go into training; the other nine stay out of it (validation, level fitting).
TRAIN_DEV_ARTICLES = frozenset({
    "Southern_California", "Victoria_(Australia)", "Amazon_rainforest", "Fresno,_California", "Geology",
    "Civil_disobedience", "Private_school", "Economic_inequality", "Intergovernmental_Panel_on_Climate_Change",
    "Rhine",
})
HARD_NEGATIVES = 2
REAL_UNANSWERABLE_SENTENCES = 3
HELDOUT_CANDIDATES = 8

_YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})\b")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
_AUXILIARY = re.compile(r"\b(is|was|are|were|can|could|has|have|had|will|would|should|might)\b(?! not)", re.I)
_NEGATED = re.compile(r"\s+not\b|n't\b|\s+never\b", re.I)


@dataclass
class Sentence:
    paragraph: int
    start: int  # in the paragraph
    end: int
    text: str
    stems: frozenset[str]
    normal: str  # SQuAD-normalised, space-padded: whole-word answer look-ups


@dataclass
class ArticleSentences:
    """One article split the way the product splits it (paragraph by paragraph), with word rarity."""

    title: str
    paragraphs: list[str]
    text: str  # the paragraphs joined: where a made-up name is checked to be new
    sentences: list[Sentence]
    by_paragraph: list[list[int]]
    idf: dict[str, float]
    names: list[str]
    years: list[str]
    numbers: list[str]

    @classmethod
    def of(cls, title: str, paragraphs: list[str]) -> ArticleSentences:
        sentences, by_paragraph = [], []
        for p, text in enumerate(paragraphs):
            by_paragraph.append([])
            for span in sentence_spans(text):
                by_paragraph[-1].append(len(sentences))
                piece = text[span.start : span.end]
                sentences.append(Sentence(p, span.start, span.end, piece, frozenset(content_stems(piece)), f" {normalise(piece)} "))
        frequency = Counter(stem for s in sentences for stem in s.stems)
        idf = {stem: math.log(1 + len(sentences) / df) for stem, df in frequency.items()}
        joined = "\n".join(paragraphs)
        # Names that do not open a sentence (an opening capital says nothing about the word).
        names = sorted({m.group(0) for m in NAME.finditer(joined) if m.start() > 0 and joined[m.start() - 2] not in ".\n"})
        return cls(title, paragraphs, joined, sentences, by_paragraph, idf, names,
                   sorted(set(_YEAR.findall(joined))), sorted({n for n in _NUMBER.findall(joined) if not _YEAR.fullmatch(n)}))

    def previous(self, i: int) -> str | None:
        """The sentence before ``i`` in the same paragraph (the product's context, paragraph-bounded)."""
        return self.sentences[i - 1].text if i > 0 and self.sentences[i - 1].paragraph == self.sentences[i].paragraph else None

    def sentence_at(self, paragraph: int, offset: int, length: int) -> int | None:
        """The sentence of ``paragraph`` that holds [offset, offset + length), or None if it spans two."""
        for i in self.by_paragraph[paragraph]:
            s = self.sentences[i]
            if s.start <= offset and offset + length <= s.end:
                return i
        return None

    def closest(self, question: str, exclude: set[int], count: int) -> list[int]:
        """The ``count`` sentences sharing most IDF-weighted words with the question (lexical retrieval)."""
        stems = set(content_stems(question))
        # Summed in sorted order: a set's order follows the process's string hashing, and float sums in another
        # order break ties differently from run to run.
        scored = [(sum(self.idf.get(t, 0.0) for t in sorted(stems & s.stems)), i) for i, s in enumerate(self.sentences)
                  if i not in exclude]
        scored.sort(key=lambda pair: -pair[0])
        return [i for score, i in scored[:count] if score > 0]


def _swap(question: str, pattern: re.Pattern, pool: list[str], sentence: str, rng: random.Random) -> str | None:
    """The question with one match of ``pattern`` that the sentence holds replaced by a pool item it lacks."""
    matches = [m for m in pattern.finditer(question) if m.start() > 0 and m.group(0) in sentence]
    if not matches:
        return None
    match = rng.choice(matches)
    width = len(match.group(0).split())
    options = [p for p in pool if p not in sentence and p != match.group(0) and p not in question
               and len(p.split()) == width]
    if not options:
        return None
    return question[: match.start()] + rng.choice(options) + question[match.end():]


_ANTONYM_OF: dict[str, str] = {}
for _a, _b in ANTONYM_PAIRS:
    _ANTONYM_OF.setdefault(_a, _b)
    _ANTONYM_OF.setdefault(_b, _a)


# The kinds made_unanswerable makes (train_reader.py lets a run give each its own share).
MADE_KINDS = ("swap_name", "swap_date", "swap_number", "negation_added", "negation_removed", "antonym",
              "mutual_exclusion", "impossible_condition")


def made_unanswerable(question: str, answer: str, sentence: str, article: ArticleSentences,
                      rng: random.Random) -> tuple[str, str] | None:
    """One unanswerable variant of an answerable question (kind, question), or None when none applies."""
    makers = [
        ("swap_name", lambda: _swap(question, NAME, article.names, sentence, rng)),
        ("swap_date", lambda: _swap(question, _YEAR, article.years, sentence, rng)),
        ("swap_number", lambda: _swap(question, _NUMBER, article.numbers, sentence, rng)),
        ("negation_added", lambda: _negation_added(question, sentence)),
        ("negation_removed", lambda: _NEGATED.sub("", question, count=1) if _NEGATED.search(question) else None),
        ("antonym", lambda: _antonym(question, sentence)),
        ("mutual_exclusion", lambda: f"{question.rstrip(' ?')}, other than {answer}?" if len(answer) < 40 else None),
        ("impossible_condition", lambda: _impossible_condition(question, sentence, article, rng)),
    ]
    rng.shuffle(makers)
    # Swaps are the commonest real kind and the hardest to spot: try them first when they apply.
    makers.sort(key=lambda pair: not pair[0].startswith("swap"))
    for kind, make in makers:
        variant = make()
        if variant and variant != question:
            return kind, variant
    return None


def _negation_added(question: str, sentence: str) -> str | None:
    """ "What is not the…" after a form of "be" or a modal, "Who never founded…" in a subject question; else None."""
    if _NEGATED.search(question) or _NEGATED.search(sentence):
        return None
    match = _AUXILIARY.search(question)
    if match and re.match(r"\s+(the|a|an)\b", question[match.end():], re.I):
        return question[: match.end()] + " not" + question[match.end():]
    subject_question = re.match(r"^\s*(who|what|which \w+)\s+(\w+ed)\b", question, re.I)
    if subject_question:
        return question[: subject_question.start(2)] + "never " + question[subject_question.start(2):]
    return None


def _antonym(question: str, sentence: str) -> str | None:
    lowered = sentence.lower()
    for match in re.finditer(r"[A-Za-z]+", question):
        word = match.group(0).lower()
        opposite = _ANTONYM_OF.get(word)
        if opposite and re.search(rf"\b{word}\b", lowered) and not re.search(rf"\b{opposite}\b", lowered):
            return question[: match.start()] + opposite + question[match.end():]
    return None


def _impossible_condition(question: str, sentence: str, article: ArticleSentences, rng: random.Random) -> str | None:
    if _YEAR.search(question):
        return None
    years = [y for y in article.years if y not in sentence]
    if not years:
        return None
    return f"{question.rstrip(' ?')} {rng.choice(['in', 'before', 'after'])} {rng.choice(years)}?"


def pair(kind: str, article: str, question: str, sentences: ArticleSentences, i: int, label: int,
         span: tuple[int, int] | None = None) -> dict:
    sentence = sentences.sentences[i].text
    return {"kind": kind, "article": article, "question": question,
            "text": reader_text(sentence, sentences.previous(i)), "sentence_chars": len(sentence),
            "label": label, "span": list(span) if span else None}


def training_pairs(article: dict, rng: random.Random, counts: Counter, real_unanswerable: bool,
                   vocabulary: Counter | None = None) -> list[dict]:
    """Every pair one article gives (answerable questions; its unanswerable ones when ``real_unanswerable``).
    With a ``vocabulary`` (the --subtle build), each answerable question also gets one subtle variant."""
    sentences = ArticleSentences.of(article["title"], [p["context"] for p in article["paragraphs"]])
    rows = []
    for p, paragraph in enumerate(article["paragraphs"]):
        for qa in paragraph["qas"]:
            question = qa["question"].strip()
            if qa.get("is_impossible"):
                if real_unanswerable:
                    for i in sentences.closest(question, set(), REAL_UNANSWERABLE_SENTENCES):
                        rows.append(pair("real_unanswerable", article["title"], question, sentences, i, 0))
                continue
            gold = qa["answers"][0]
            i = sentences.sentence_at(p, gold["answer_start"], len(gold["text"]))
            if i is None:
                counts["skipped: answer spans two sentences"] += 1
                continue
            sentence = sentences.sentences[i]
            offset = gold["answer_start"] - sentence.start
            rows.append(pair("answer", article["title"], question, sentences, i, 1, (offset, offset + len(gold["text"]))))
            answers = [f" {normalise(a['text'])} " for a in qa["answers"] if normalise(a["text"])]
            holders = {j for j, s in enumerate(sentences.sentences) if any(a in s.normal for a in answers)}
            for j in sentences.closest(question, holders | {i}, HARD_NEGATIVES):
                rows.append(pair("hard_negative", article["title"], question, sentences, j, 0))
            others = [j for j in sentences.by_paragraph[p] if j not in holders and j != i]
            if others:
                rows.append(pair("paragraph_negative", article["title"], question, sentences, rng.choice(others), 0))
            context = sentence.text + " " + (sentences.previous(i) or "")
            made = made_unanswerable(question, gold["text"], context, sentences, rng)
            if made:
                rows.append(pair(made[0], article["title"], made[1], sentences, i, 0))
            subtle = vocabulary is not None and subtle_unanswerable(
                question, context, paragraph["context"], sentences.text, sentences.names, vocabulary, rng)
            if subtle:
                rows.append(pair(subtle[0], article["title"], subtle[1], sentences, i, 0))
    return rows


def heldout_questions(article: dict) -> list[dict]:
    """Every question of a held-out article with its closest sentences (and the answer's, when answerable)."""
    sentences = ArticleSentences.of(article["title"], [p["context"] for p in article["paragraphs"]])
    rows = []
    for p, paragraph in enumerate(article["paragraphs"]):
        for qa in paragraph["qas"]:
            question = qa["question"].strip()
            answers = [a["text"] for a in qa["answers"]]
            candidates = sentences.closest(question, set(), HELDOUT_CANDIDATES)
            answer_sentences = [] if qa["is_impossible"] else [
                i for a in qa["answers"] if (i := sentences.sentence_at(p, a["answer_start"], len(a["text"]))) is not None]
            for i in answer_sentences[:1]:
                if i not in candidates:
                    candidates[-1:] = [i]
            rows.append({
                "article": article["title"], "question": question, "impossible": bool(qa["is_impossible"]),
                "candidates": [{"text": reader_text(sentences.sentences[i].text, sentences.previous(i)),
                                "sentence_chars": len(sentences.sentences[i].text),
                                "answer": i in answer_sentences} for i in candidates],
            })
    return rows


def write_rows(path: Path, rows: list[dict]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def build(out: Path, squad11: Path = SQUAD11, dev19: Path = DEV19, seed: int = 15, limit: int | None = None,
          subtle: bool = False) -> Counter:
    """Write train.jsonl.gz, heldout.jsonl.gz and counts.json into ``out``; return the counts per kind.
    ``subtle`` adds the subtle_unanswerable kinds (off by default: the shipped reader's data is rebuilt without)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    train_articles = json.load(gzip.open(squad11, "rt", encoding="utf-8"))["data"][:limit]
    dev_articles = json.loads(dev19.read_text(encoding="utf-8"))["data"]
    counts: Counter = Counter()
    vocabulary = word_counts(p["context"] for a in train_articles for p in a["paragraphs"]) if subtle else None
    rows = []
    for article in train_articles:
        rows += training_pairs(article, rng, counts, real_unanswerable=False, vocabulary=vocabulary)
    for article in dev_articles:
        if article["title"] in TRAIN_DEV_ARTICLES:
            rows += training_pairs(article, rng, counts, real_unanswerable=True, vocabulary=vocabulary)
    counts.update(row["kind"] for row in rows)
    rng.shuffle(rows)
    write_rows(out / "train.jsonl.gz", rows)
    heldout = [q for a in dev_articles if a["title"] not in TRAIN_DEV_ARTICLES for q in heldout_questions(a)]
    write_rows(out / "heldout.jsonl.gz", heldout)
    counts["heldout questions"] = len(heldout)
    (out / "counts.json").write_text(json.dumps(dict(sorted(counts.items())), indent=1) + "\n", encoding="utf-8")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("work") / "data")
    parser.add_argument("--squad11", type=Path, default=SQUAD11)
    parser.add_argument("--dev19", type=Path, default=DEV19)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--limit", type=int, default=None, help="only the first N SQuAD 1.1 articles (a quick try)")
    parser.add_argument("--subtle", action="store_true",
                        help="also one subtle unanswerable variant per answerable question (subtle_unanswerable.py)")
    args = parser.parse_args()
    started = time.time()
    counts = build(args.out, args.squad11, args.dev19, args.seed, args.limit, args.subtle)
    for kind, count in sorted(counts.items()):
        print(f"{count:8d}  {kind}")
    print(f"wrote {args.out} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
