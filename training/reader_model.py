"""The reader's network and its inputs, shared by the trainer and the exporter (torch; never imported at question time).

MiniLM-L6 (the bundled all-MiniLM-L6-v2) reads "[CLS] question [SEP] sentence [SEP] context [SEP]" and
gives two things:
  * ``answer_logit``: does the candidate sentence answer the question (mean of the token vectors, then a
    linear layer; the encoder was pretrained with mean pooling, so that summary is already meaningful);
  * ``start_logits`` / ``end_logits``: where the answer lies, per token (masked to the candidate at use).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoModel  # noqa: E402

MAX_TOKENS = 96


class Reader(torch.nn.Module):
    def __init__(self, encoder_path: str):
        super().__init__()
        self.encoder = AutoModel.from_pretrained(encoder_path, local_files_only=True)
        hidden = self.encoder.config.hidden_size
        self.answer_head = torch.nn.Linear(hidden, 1)
        self.span_head = torch.nn.Linear(hidden, 2)

    def forward(self, input_ids, attention_mask, token_type_ids):
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        answer_logit = self.answer_head(pooled).squeeze(-1)
        start_logits, end_logits = self.span_head(states).unbind(-1)
        return answer_logit, start_logits, end_logits
