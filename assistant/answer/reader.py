"""The reader trained here (training/): does this sentence answer the question, and with which words.

A MiniLM-L6 fine-tuned on SQuAD 1.1 questions, made unanswerable variants of them and real SQuAD 2.0
unanswerable ones (the card: ``trained_reader/README.md``). It runs as an int8 ONNX model with onnxruntime and the
bundled MiniLM's own tokenizer, so no torch at question time. Both files are checked against the sha256
sums in ``trained_reader/reader.json`` before use; when anything is missing or altered, ``load_reader`` returns None
with a one-line notice and the answerer keeps its previous stages.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answer.reader_input import candidate_tokens, reader_question, reader_text
from assistant.config import bundled_model_path
from assistant.onnx_runtime import cpu_session, encoding_feeds, sha256_file

log = logging.getLogger(__name__)

READER_FOLDER = Path(__file__).with_name("trained_reader")
RECORD_FILE = READER_FOLDER / "reader.json"
# Longest answer span, in word pieces: SQuAD answers are short, and a long bold run reads as noise.
MAX_SPAN_TOKENS = 24


@dataclass(frozen=True)
class Reading:
    """The reader's verdict on one candidate: a logit (higher: answers) and the answer's characters in the sentence."""

    logit: float
    span: tuple[int, int] | None


class Reader:
    def __init__(self, model_file: Path, tokenizer_file: Path, max_tokens: int, threads: int = 0, reads_title: bool = False):
        """``reads_title``: the model was trained with the article's title after the question (reader_input)."""
        from tokenizers import Tokenizer

        self.reads_title = reads_title
        self.session = cpu_session(model_file, threads)
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_tokens, strategy="only_second")
        self.tokenizer.enable_padding()

    def read(self, question: str, candidates: list[tuple[str, str | None]], titles: list[str] | None = None) -> list[Reading]:
        """One reading per (sentence, previous sentence), in order, ``titles`` their articles'; one batched model call."""
        if not candidates:
            return []
        texts = [reader_text(sentence, previous) for sentence, previous in candidates]
        titles = titles if self.reads_title and titles else [None] * len(candidates)
        encodings, (answer, starts, ends) = self.run([(reader_question(question, title), text) for title, text in zip(titles, texts)])
        return [
            Reading(float(answer[i]), _best_span(encodings[i], starts[i], ends[i], len(sentence)))
            for i, (sentence, _) in enumerate(candidates)
        ]


    def run(self, pairs: list[tuple[str, str]]) -> tuple[list, list[np.ndarray]]:
        """The model on (question, reader text) pairs in one batched call: their encodings, and its outputs (the
        answer logits, the span's start and end logits)."""
        encodings = self.tokenizer.encode_batch(pairs)
        feeds = encoding_feeds(encodings)
        return encodings, self.session.run(None, feeds)


def _best_span(encoding, starts: np.ndarray, ends: np.ndarray, sentence_chars: int) -> tuple[int, int] | None:
    """The highest-scoring start <= end within the candidate sentence, as character offsets into it."""
    allowed = np.zeros(len(encoding.ids), dtype=bool)
    allowed[candidate_tokens(encoding, sentence_chars)] = True
    if not allowed.any():
        return None
    start_scores = np.where(allowed, starts, -np.inf)
    end_scores = np.where(allowed, ends, -np.inf)
    # score[i, j] = start i + end j, kept where i <= j < i + MAX_SPAN_TOKENS.
    grid = start_scores[:, None] + end_scores[None, :]
    i, j = np.indices(grid.shape)
    grid[(j < i) | (j >= i + MAX_SPAN_TOKENS)] = -np.inf
    best_start, best_end = np.unravel_index(int(np.argmax(grid)), grid.shape)
    if not np.isfinite(grid[best_start, best_end]):
        return None
    return encoding.offsets[best_start][0], encoding.offsets[best_end][1]


def _problem(record: dict, tokenizer_file: Path, folder: Path) -> str | None:
    model_file = folder / record["model_file"]
    if not model_file.is_file():
        return f"{model_file.name} is missing"
    if sha256_file(model_file) != record["model_sha256"]:
        return f"{model_file.name} does not match its sha256 in {RECORD_FILE.name}"
    if not tokenizer_file.is_file() or sha256_file(tokenizer_file) != record["tokenizer_sha256"]:
        return "the bundled MiniLM tokenizer is missing or not the one it was trained with"
    return None


def load_reader(threads: int = 0, folder: Path | None = None) -> Reader | None:
    """The verified reader, or None (with a one-line notice) when it cannot be used. ``folder``: another
    reader's files (a previous release's, to compare; bench/query_latency.py), else the shipped one."""
    folder = folder or READER_FOLDER
    tokenizer_file = Path(bundled_model_path(), "tokenizer.json")
    try:
        record = json.loads((folder / RECORD_FILE.name).read_text(encoding="utf-8"))
        problem = _problem(record, tokenizer_file, folder)
        if problem is None:
            return Reader(folder / record["model_file"], tokenizer_file, int(record["max_tokens"]), threads,
                          reads_title=bool(record.get("reads_title")))
    except (OSError, ValueError, KeyError) as error:
        problem = f"cannot be read ({type(error).__name__}: {error})".splitlines()[0]
    except Exception as error:  # a broken runtime must not stop answering
        problem = f"cannot be loaded ({type(error).__name__}: {error})".splitlines()[0]
    log.warning("notice: the trained reader %s; answering with the cross-encoder and fitted features instead", problem)
    return None
