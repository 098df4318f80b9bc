"""MiniLM without torch: the embedding model exported once to ONNX, next to the index.

Importing sentence-transformers (and with it torch) costs 6-10 s, against 0.3 s for onnxruntime +
tokenizers, while embedding one question takes milliseconds. So whenever sentence-transformers
is loaded anyway (to embed new text), the model is exported to ``<data_dir>/onnx-minilm/``, its
embeddings are checked against sentence-transformers' on fixed sentences, and the export is
recorded with checksums. Later processes embed with the export alone while it stays valid.

The weights sit in a file of their own next to the graph (ONNX "external data"): onnxruntime then
maps them from disk instead of parsing and copying a 90 MB protobuf, which took 70 MiB off the
peak memory of every process that answers (bench/memory.py).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.onnx_runtime import cpu_session, encoding_feeds, sha256_file

log = logging.getLogger(__name__)

FOLDER_NAME = "onnx-minilm"
MODEL_FILE = "model.onnx"
WEIGHTS_FILE = "weights.bin"
RECORD_FILE = "export.json"
FORMAT = 2  # 1: the weights inside model.onnx
# sentence-transformers truncates MiniLM input at its max_seq_length (sentence_bert_config.json).
DEFAULT_MAX_TOKENS = 256
BATCH = 16
MIN_COSINE = 0.9999
# Short and long, punctuation, digits, accents, non-Latin script, over-long (truncated) input:
# the export is used only if it agrees with sentence-transformers on all of them.
CHECK_SENTENCES = (
    "How many of the participants saw their symptoms subside?",
    "Few drugs are as two-faced as ketamine.",
    "The trial, run in 2019-2021, enrolled 1,234 adults (aged 18–65) at 12 sites.",
    "Café naïve résumé — über straße",
    "東京は日本の首都です。",
    "a",
    " ".join(["The committee met again to discuss the budget and the schedule."] * 40),
)


def _weights_file(model_path: str) -> Path:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (path := Path(model_path, name)).is_file():
            return path
    raise FileNotFoundError(f"no weights in {model_path}")


def _stat_identity(path: Path) -> dict:
    """Size and modification time: a cheap way to tell that a file is still the one recorded."""
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _max_tokens(model_path: str) -> int:
    try:
        config = json.loads(Path(model_path, "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config.get("max_seq_length") or DEFAULT_MAX_TOKENS)
    except (OSError, ValueError):
        return DEFAULT_MAX_TOKENS


class OnnxEmbeddings(Embeddings):
    """Mean-pooled, L2-normalised MiniLM embeddings from the exported graph (what sentence-transformers computes)."""

    def __init__(self, onnx_file: Path, tokenizer_file: Path, max_tokens: int, threads: int = 0):
        from tokenizers import Tokenizer

        self.session = cpu_session(onnx_file, threads)
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding()

    def _embed(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        feeds = encoding_feeds(encodings)
        tokens = self.session.run(None, feeds)[0]
        weights = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        # Similar lengths batched together pad less (as sentence-transformers does); results keep the input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.zeros((len(texts), 0), dtype=np.float32)
        for begin in range(0, len(order), BATCH):
            chosen = order[begin : begin + BATCH]
            batch = self._embed([texts[i] for i in chosen])
            if vectors.shape[1] == 0:
                vectors = np.zeros((len(texts), batch.shape[1]), dtype=np.float32)
            vectors[chosen] = batch
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0].tolist()


def export_folder(data_dir: Path) -> Path:
    return Path(data_dir) / FOLDER_NAME


def load_export(data_dir: Path, model_path: str, threads: int = 0) -> OnnxEmbeddings | None:
    """The recorded export when it is still valid for ``model_path``, else None (the caller exports anew)."""
    folder = export_folder(data_dir)
    try:
        record = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
        onnx_file = folder / MODEL_FILE
        valid = (
            record.get("format") == FORMAT
            and record.get("model") == _stat_identity(_weights_file(model_path))
            and record.get("onnx_sha256") == sha256_file(onnx_file)
            and record.get("weights_sha256") == sha256_file(folder / WEIGHTS_FILE)
        )
    except (OSError, ValueError, AttributeError):
        return None
    if not valid:
        return None
    try:
        return OnnxEmbeddings(onnx_file, Path(model_path, "tokenizer.json"), record["max_tokens"], threads)
    except Exception as error:  # a broken runtime or file: the torch path still answers
        log.warning("notice: the ONNX export of the embedding model cannot be loaded (%s); using sentence-transformers",
                    f"{type(error).__name__}: {error}".splitlines()[0])
        return None


def _token_embedding_graph(transformer):
    """The transformer alone, returning token embeddings: pooling and normalising happen outside the graph."""
    import torch

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    return TokenEmbeddings(transformer).eval()


def _move_weights_out(graph_file: Path, model_file: Path) -> None:
    """Rewrite a one-file ONNX model as ``model_file`` plus ``WEIGHTS_FILE`` beside it (external data)."""
    import onnx

    model = onnx.load(str(graph_file))
    onnx.save_model(model, str(model_file), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=WEIGHTS_FILE, size_threshold=1024)
    graph_file.unlink()


def export(sentence_transformer, model_path: str, data_dir: Path, threads: int = 0) -> OnnxEmbeddings | None:
    """Export the loaded model, check it against sentence-transformers, and record it; None if that fails.

    Failure (no ``onnx`` package, an unsupported architecture, a mismatch) is a one-line notice:
    answering goes on with sentence-transformers.
    """
    folder = export_folder(data_dir)
    max_tokens = _max_tokens(model_path)
    staging = None
    try:
        import torch

        folder.mkdir(parents=True, exist_ok=True)  # a read-only data dir fails here: torch keeps answering
        staging = Path(tempfile.mkdtemp(prefix="staging-", dir=folder))  # two processes may export at once
        tokenizer = sentence_transformer.tokenizer
        example = tokenizer(list(CHECK_SENTENCES[:2]), return_tensors="pt", padding=True)
        names = ["input_ids", "attention_mask", "token_type_ids"]
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on operators this graph does not use
            torch.onnx.export(
                _token_embedding_graph(sentence_transformer[0].auto_model), tuple(example[n] for n in names),
                str(staging / "graph.onnx"), input_names=names, output_names=["token_embeddings"], opset_version=17,
                dynamo=False, dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "token_embeddings"]},
            )
        _move_weights_out(staging / "graph.onnx", staging / MODEL_FILE)
        candidate = OnnxEmbeddings(staging / MODEL_FILE, Path(model_path, "tokenizer.json"), max_tokens, threads)
        reference = sentence_transformer.encode(list(CHECK_SENTENCES), normalize_embeddings=True)
        ours = np.asarray(candidate.embed_documents(list(CHECK_SENTENCES)))
        worst = float((ours * reference).sum(axis=1).min())
        if worst < MIN_COSINE:
            raise ValueError(f"its embeddings differ from sentence-transformers' (cosine {worst:.6f} < {MIN_COSINE})")
        weights = _weights_file(model_path)
        # The record goes last and names both files' checksums: until it is written, or if a crash
        # leaves one old and one new file, the export fails its check and is made again.
        for name in (WEIGHTS_FILE, MODEL_FILE):
            os.replace(staging / name, folder / name)
        record = {
            "format": FORMAT,
            "model": _stat_identity(weights),
            "model_sha256": sha256_file(weights),
            "onnx_sha256": sha256_file(folder / MODEL_FILE),
            "weights_sha256": sha256_file(folder / WEIGHTS_FILE),
            "max_tokens": max_tokens,
            "min_cosine": worst,
            "torch": torch.__version__,
        }
        temporary = folder / (RECORD_FILE + ".tmp")
        temporary.write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.replace(temporary, folder / RECORD_FILE)
    except Exception as error:  # noqa: BLE001 - any failure leaves the torch path in charge
        log.warning("notice: could not export the embedding model to ONNX (%s); questions will load torch",
                    f"{type(error).__name__}: {error}".splitlines()[0])
        return None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return load_export(data_dir, model_path, threads)
