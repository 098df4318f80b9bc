"""What every ONNX model (the embedder export, the reader, the cross-encoder) needs: checksums and a CPU session."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (the models are 30-90 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cpu_session(model_file: Path, threads: int = 0):
    """An onnxruntime session on the CPU with ``threads`` intra-op threads (0: onnxruntime's choice), quiet."""
    import onnxruntime

    # Its telemetry looks up a Microsoft host over DNS when a session starts: nothing may call out at run time.
    onnxruntime.disable_telemetry_events()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(model_file), sess_options=options, providers=["CPUExecutionProvider"])


def encoding_feeds(encodings) -> dict[str, np.ndarray]:
    """A BERT-style model's three int64 inputs from a batch of padded ``tokenizers`` encodings."""
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }
