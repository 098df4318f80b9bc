"""The assistant as LangChain parts, for programs that already compose LCEL chains.

* ``ArticleRetriever`` — a ``BaseRetriever`` over the assistant's own hybrid retrieval (Chroma + BM25,
  fused), so its passages are the ones ``Assistant.ask`` answers from.
* ``AnswerRunnable`` — ``Assistant.ask`` / ``Assistant.stream`` as a ``Runnable``: ``invoke`` returns the
  ``Answer.to_dict()`` dict; ``stream`` yields ``{"text": piece}`` chunks, then that dict as the last chunk.
* ``generative_chain`` — retriever | numbered passages | ``prompts/answer.txt`` | any chat model | text,
  with the passages formatted and trimmed exactly as the generative backends do it.

They wrap an ``Assistant`` rather than re-implement it: one retrieval, one answerer, whichever entry point.
Importing this module loads no web stack and no embedding model; the model loads on the first question.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, RunnablePassthrough
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, TypeAdapter, ValidationError, field_validator, with_config
from typing_extensions import NotRequired, TypedDict

from assistant.answer.model import Answer
from assistant.chunking import Passage
from assistant.core import Assistant
from assistant.errors import UserError
from assistant.prompting import fit_passages, load_prompt, numbered_passages, passage_char_budget
from assistant.questions import normalise_question
from assistant.retrieval import RetrievedPassage

# More passages than any prompt can hold; the bound keeps a caller's k from asking for the whole corpus.
MAX_K = 50


def _checked_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise UserError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
    return k


def _as_document(hit: RetrievedPassage) -> Document:
    article, passage = hit.article, hit.passage
    return Document(
        id=f"{article.version}#{passage.n}",
        page_content=passage.text,
        metadata={
            "article_id": article.id,
            "title": article.title,
            "source": article.path,
            "url": article.url,
            "passage": passage.n,
            "start": passage.start,
            "end": passage.end,
            "score": hit.score,
            "dense_rank": hit.dense_rank,
            "lexical_rank": hit.lexical_rank,
        },
    )


class ArticleRetriever(BaseRetriever):
    """The passages ``Assistant.ask`` would answer from, as ``Document``s.

    ``article`` picks one article id (``None`` or ``"all"``: every article); ``k`` defaults to the
    assistant's ``top_k`` and can also be given per call: ``retriever.invoke(query, k=3)``. Each
    Document's metadata: ``article_id, title, source, url, passage, start, end, score`` (reciprocal-rank
    fused) and the passage's ``dense_rank`` / ``lexical_rank`` (``None`` when that ranking missed it);
    ``start``/``end`` are character offsets into the cleaned article.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Assistant
    article: str | None = None
    k: int | None = None

    @field_validator("k")
    @classmethod
    def _k_in_range(cls, k: int | None) -> int | None:
        return None if k is None else _checked_k(k)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        """Through the assistant's own ``HybridRetriever`` and retrieval mode, as ``Assistant.ask`` does."""
        query = normalise_question(query)  # the limits and clean-up every question gets
        count = _checked_k(k) if k is not None else self.k
        return [_as_document(hit) for hit in self.assistant.retrieve(query, self.article, count)]


# -- the answerer ---------------------------------------------------------------------------------


@with_config(ConfigDict(extra="forbid"))
class QuestionInput(TypedDict):
    """What ``AnswerRunnable`` takes besides a plain question string."""

    question: str
    history: NotRequired[list[tuple[str, str]]]  # earlier (question, answer) turns, oldest first
    article: NotRequired[str | None]  # overrides the runnable's article for this question


_QUESTION_INPUT = TypeAdapter(QuestionInput)


def _parsed(request: str | QuestionInput) -> QuestionInput:
    if isinstance(request, str):
        return {"question": request}
    try:
        return _QUESTION_INPUT.validate_python(request)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "input"
        raise UserError(
            f"answerer input: {where}: {problem['msg']} (give a question string or a dict with 'question', "
            "optional 'history' of (question, answer) pairs and 'article')"
        ) from None


class AnswerRunnable(Runnable[str | QuestionInput, dict]):
    """``Assistant.ask`` as an LCEL ``Runnable``, for any backend the assistant is set to.

    ``invoke`` / ``batch`` return ``Answer.to_dict()`` (the keys of ``assistant ask --json``).
    ``stream`` / ``astream`` yield ``{"text": piece}`` for each piece of answer text as the answerer
    produces it, then the full answer dict as the last chunk (the only one with an ``"answer"`` key).
    Chunks are plain dicts, so a downstream LCEL step that aggregates the stream receives the last
    one: the answer dict, the same as ``invoke`` gives.
    """

    def __init__(self, assistant: Assistant, article: str | None = None):
        self.assistant = assistant
        self.article = article

    def _question(self, request: str | QuestionInput) -> tuple[str, dict]:
        """The question and the keywords ``Assistant.ask`` / ``stream`` take for it."""
        parsed = _parsed(request)
        return parsed["question"], {"article": parsed.get("article", self.article), "history": parsed.get("history")}

    def _answer(self, request: str | QuestionInput) -> dict:
        question, options = self._question(request)
        return self.assistant.ask(question, **options).to_dict()

    def _chunks(self, requests: Iterator[str | QuestionInput]) -> Iterator[dict]:
        for request in requests:
            question, options = self._question(request)
            for event in self.assistant.stream(question, **options):
                yield event.to_dict() if isinstance(event, Answer) else {"text": event}

    def invoke(self, input: str | QuestionInput, config: RunnableConfig | None = None, **kwargs: Any) -> dict:
        return self._call_with_config(self._answer, input, config)

    def stream(
        self, input: str | QuestionInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[dict]:
        return self._transform_stream_with_config(iter([input]), self._chunks, config)

    async def astream(
        self, input: str | QuestionInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[dict]:
        """``stream`` run in a worker thread one chunk at a time: the answerer is synchronous, the loop stays free."""
        chunks = self.stream(input, config)
        try:
            while (chunk := await run_in_executor(config, next, chunks, None)) is not None:
                yield chunk
        finally:
            chunks.close()


# -- the generative chain -------------------------------------------------------------------------


def _as_retrieved(document: Document, bot: Assistant) -> RetrievedPassage:
    """Back from a Document to the passage it came from, so the prompt helpers trim and number it exactly as
    for the LLM backends (they read the passage text; the article is whatever the index now holds under its id)."""
    meta = document.metadata
    passage = Passage(meta["article_id"], meta["passage"], document.page_content, meta["start"], meta["end"])
    return RetrievedPassage(
        bot.index.articles.get(meta["article_id"]), passage, meta["score"], meta["dense_rank"], meta["lexical_rank"]
    )


def generative_chain(retriever: ArticleRetriever, chat_model: BaseChatModel) -> Runnable[str, dict]:
    """question -> ``{"question", "context": [Document], "answer": str}``, written by ``chat_model``.

    The passages are numbered in retrieval order, so ``[n]`` in the answer is ``context[n - 1]``; they
    are trimmed to the assistant's ``llm_context_tokens`` / ``llm_max_tokens`` budget. Unlike
    ``AnswerRunnable`` with an LLM backend, this plain chain does not check the model's citations.
    Streaming yields the question and context first, then ``{"answer": piece}`` chunks.
    """
    bot = retriever.assistant
    budget = passage_char_budget(bot.settings.llm_context_tokens, bot.settings.llm_max_tokens)

    def prompt_inputs(step: dict) -> dict:
        given = fit_passages([_as_retrieved(d, bot) for d in step["context"]], budget)
        title = step["context"][0].metadata["title"] if step["context"] else ""
        return {"title": title, "passages": numbered_passages(given, budget), "question": step["question"]}

    write_answer = RunnableLambda(prompt_inputs) | load_prompt("answer") | chat_model | StrOutputParser()
    return {"question": RunnablePassthrough(), "context": retriever} | RunnablePassthrough.assign(answer=write_answer)
