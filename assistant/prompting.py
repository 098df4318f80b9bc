"""Prompt templates from ``prompts/`` and the numbered passages the generative backends read.

Templates are plain files so they can be read and changed without touching code: the text
before a line holding only ``---`` is the system message, the text after it the user message.
"""

from __future__ import annotations

from functools import lru_cache

from langchain_core.prompts import ChatPromptTemplate

from assistant.config import PROJECT_ROOT
from assistant.retrieval import RetrievedPassage

PROMPTS_DIR = PROJECT_ROOT / "prompts"
CHARS_PER_TOKEN = 4  # a safe average for English text with subword tokenizers
PROMPT_OVERHEAD_TOKENS = 250  # instructions, question and the room the reply needs beyond max_tokens


@lru_cache(maxsize=8)
def load_prompt(name: str) -> ChatPromptTemplate:
    text = (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")
    system, _, user = text.partition("\n---\n")
    return ChatPromptTemplate.from_messages([("system", system.strip()), ("human", user.strip())])


def passage_char_budget(context_tokens: int, reply_tokens: int) -> int:
    """Characters of passage text that fit the model's context beside the prompt and the reply."""
    return max(context_tokens - reply_tokens - PROMPT_OVERHEAD_TOKENS, 64) * CHARS_PER_TOKEN


def fit_passages(retrieved: list[RetrievedPassage], budget: int) -> list[RetrievedPassage]:
    """The best-ranked passages that fit ``budget`` characters; at least one (to be cut to fit)."""
    kept: list[RetrievedPassage] = []
    used = 0
    for hit in retrieved:
        if used + len(hit.passage.text) > budget:
            break
        kept.append(hit)
        used += len(hit.passage.text)
    return kept or retrieved[:1]


def numbered_passages(retrieved: list[RetrievedPassage], max_chars: int | None = None) -> str:
    """``[1] text`` blocks, in the order given; the number is what the model cites."""
    blocks = []
    for n, hit in enumerate(retrieved, start=1):
        text = hit.passage.text if max_chars is None else hit.passage.text[:max_chars]
        blocks.append(f"[{n}] {text}")
    return "\n\n".join(blocks)


def history_text(history: list[tuple[str, str]], turns: int = 3) -> str:
    return "\n".join(f"Q: {q}\nA: {a}" for q, a in history[-turns:])
