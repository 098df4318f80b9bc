"""Answers written by an LLM (opt-in), with every citation checked before it is shown.

The chain is LCEL: numbered passages -> prompt (``prompts/answer.txt``) -> chat model -> text,
streamed token by token. Markers naming no given passage are removed as they stream. Each cited
claim is then checked against its passage, lexically (verbatim or 80% of its content words) and
by meaning (MiniLM cosine to the passage's closest sentence): a claim passing neither is listed
in ``unsupported_sentences`` and its citation marked ``supported: false``. An answer citing no
passage is not shown as an answer. When the model fails in any way, the extractive answer is
given instead, with a note saying why.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import numpy as np
from langchain_core.output_parsers import StrOutputParser

from assistant.answer.citations import MarkerFilter, is_supported, marked_claims
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.model import NOT_IN_ARTICLE, Answer, citation_for
from assistant.config import Settings
from assistant.followup import History, standalone_question
from assistant.index import PassageIndex
from assistant.llm import chat_model, describe_failure
from assistant.prompting import fit_passages, history_text, load_prompt, numbered_passages, passage_char_budget
from assistant.retrieval import RetrievedPassage

SUPPORT_SIMILARITY = 0.6
_ABSTENTION = re.compile(r"\b(does not say|doesn't say|do not (say|contain|mention)|does not (contain|mention)|not (mentioned|stated))\b", re.I)


class EmptyAnswerError(Exception):
    """The model produced no text."""


class GenerativeAnswerer:
    def __init__(self, settings: Settings, index: PassageIndex, fallback: ExtractiveAnswerer, model=None):
        """``model`` is any LangChain chat model; by default the one the settings name."""
        self.settings = settings
        self.index = index
        self.fallback = fallback
        self.name = settings.backend
        self._model = model

    @property
    def model(self):
        if self._model is None:
            self._model = chat_model(self.settings)
        return self._model

    # -- follow-ups -----------------------------------------------------------------------
    def standalone(self, question: str, history: History | None) -> str:
        """The model rewrites the follow-up (prompts/condense.txt); the rules step in if it fails."""
        if not history:
            return question
        try:
            chain = load_prompt("condense") | self.model | StrOutputParser()
            rewritten = chain.invoke({"history": history_text(history), "question": question}).strip().splitlines()
        except Exception:  # a broken model must not block the question; the rules still resolve it
            rewritten = []
        candidate = rewritten[0].strip() if rewritten else ""
        plausible = candidate.endswith("?") and not set(candidate) & set("[]<>") and len(candidate) <= 4 * len(question) + 200
        return candidate if plausible else standalone_question(question, history)

    # -- answers --------------------------------------------------------------------------
    def stream(
        self, question: str, query: str, retrieved: list[RetrievedPassage], article_label: str | None
    ) -> Iterator[str | Answer]:
        started = time.perf_counter()
        budget = passage_char_budget(self.settings.llm_context_tokens, self.settings.llm_max_tokens)
        given = fit_passages(retrieved, budget)
        markers = MarkerFilter(len(given))
        pieces: list[str] = []
        first_token_ms = None
        try:
            if not given:
                raise EmptyAnswerError("no passages to answer from")
            chain = load_prompt("answer") | self.model | StrOutputParser()
            inputs = {"title": given[0].article.title, "passages": numbered_passages(given, budget), "question": query}
            deadline = started + self.settings.llm_timeout
            for chunk in chain.stream(inputs):
                if time.perf_counter() > deadline:  # the client's timeout covers each read, not the whole answer
                    raise TimeoutError("the answer took too long")
                if first_token_ms is None and chunk:
                    first_token_ms = (time.perf_counter() - started) * 1000
                shown = markers.feed(chunk)
                if shown:
                    pieces.append(shown)
                    yield shown
            tail = markers.finish()
            if tail:
                pieces.append(tail)
                yield tail
            text = "".join(pieces).strip()
            if not text:
                raise EmptyAnswerError("the model returned no text")
        except Exception as error:  # every failure becomes a note and the quoted answer
            reason = describe_failure(error, self.settings)
            yield from self._fall_back(question, query, retrieved, article_label, reason, after_text=bool(pieces))
            return
        answer = self._checked(question, text, given, article_label, markers.dropped)
        if first_token_ms is not None:
            answer.timings_ms["first_token"] = first_token_ms
        yield answer

    def _fall_back(self, question, query, retrieved, article_label, reason: str, after_text: bool) -> Iterator[str | Answer]:
        note = f"{reason}; answered by quoting the article instead."
        yield ("\n\n" if after_text else "") + f"({note})\n\n"
        for event in self.fallback.stream(question, query, retrieved, article_label):
            if isinstance(event, Answer):
                event.note = note
            yield event

    def _checked(self, question: str, text: str, given: list[RetrievedPassage], label, dropped: list[int]) -> Answer:
        """Citations the passages back; unsupported claims flagged; no valid citation, no answer."""
        notes = [f"removed citation(s) to passages that were not given: {sorted(set(dropped))}"] if dropped else []
        claims = [c for c in marked_claims(text) if 1 <= c.n <= len(given)]
        if not claims:
            if not _ABSTENTION.search(text):
                notes.append("the model's answer cited none of the passages, so it is not shown")
            return Answer(question, NOT_IN_ARTICLE, False, label, self.name, note="; ".join(notes) or None)
        vectors = np.asarray(self.index.embeddings.embed_documents([c.claim for c in claims]), dtype=np.float32)
        support: dict[int, list[bool]] = {}
        best_sentence: dict[int, tuple[float, int, int]] = {}
        unsupported: list[str] = []
        for claim, vector in zip(claims, vectors):
            hit = given[claim.n - 1]
            similarity, start, end = self._closest_sentence(hit, vector)
            ok = is_supported(claim.claim, hit.passage.text) or similarity >= SUPPORT_SIMILARITY
            support.setdefault(claim.n, []).append(ok)
            if similarity > best_sentence.get(claim.n, (-1.0, 0, 0))[0]:
                best_sentence[claim.n] = (similarity, start, end)
            if not ok and claim.claim and claim.claim not in unsupported:
                unsupported.append(claim.claim)
        citations = [
            citation_for(n, given[n - 1], best_sentence[n][1], best_sentence[n][2], best_sentence[n][0], all(support[n]))
            for n in sorted(support)
        ]
        if unsupported:
            notes.append(f"{len(unsupported)} sentence(s) not supported by the passage they cite")
        return Answer(
            question, text, True, label, self.name, citations=citations, unsupported_sentences=unsupported,
            note="; ".join(notes) or None,
        )

    def _closest_sentence(self, hit: RetrievedPassage, vector: np.ndarray) -> tuple[float, int, int]:
        """The passage sentence nearest in meaning to a claim: (cosine, start, end)."""
        article = hit.article
        vectors = self.index.sentence_vectors(article.version)
        best = (-1.0, hit.passage.start, hit.passage.end)
        for i, start, end in article.sentences_within(hit.passage.start, hit.passage.end):
            similarity = float(vectors[i] @ vector)
            if similarity > best[0]:
                best = (similarity, start, end)
        return best
