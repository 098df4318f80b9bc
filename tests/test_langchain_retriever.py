"""``ArticleRetriever`` against LangChain's own standard retriever suite, and against ``Assistant.ask``.

The standard suite is ``langchain_tests.integration_tests.RetrieversIntegrationTests`` (langchain-tests
1.1.9, written by LangChain). All five of its tests apply and run, none skipped:

* ``test_k_constructor_param`` — ``ArticleRetriever(assistant=..., k=3)`` returns 3 Documents, ``k=1`` one;
* ``test_invoke_with_k_kwarg`` — ``retriever.invoke(query, None, k=1)`` / ``k=3`` likewise;
* ``test_invoke_returns_documents`` / ``test_ainvoke_returns_documents`` — lists of ``Document``s, sync
  and async (BaseRetriever's default runs the sync retrieval in a worker thread);
* ``test_no_overrides_DO_NOT_OVERRIDE`` — none of the standard tests is overridden here.

The retriever runs over the session's real Chroma index of the shipped article, built in a temporary
folder with the bundled MiniLM (the ``bot`` fixture of conftest.py).
"""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from assistant.questions import MAX_QUESTION_CHARS
from assistant.errors import UserError
from assistant.langchain_adapters import MAX_K, ArticleRetriever
from conftest import REPO, SEED_ID, copy_corpus

QUESTION = "How many of the participants saw their symptoms subside?"
METADATA_KEYS = {"article_id", "title", "source", "url", "passage", "start", "end", "score", "dense_rank", "lexical_rank"}


class TestArticleRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _shared_assistant(self, bot):
        """The suite builds retrievers from properties, which cannot take fixtures; this hands them the bot."""
        self.bot = bot

    @property
    def retriever_constructor(self) -> type[ArticleRetriever]:
        return ArticleRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"assistant": self.bot}

    @property
    def retriever_query_example(self) -> str:
        return QUESTION


def test_documents_carry_the_passage_and_where_it_is(bot, seed_text):
    documents = ArticleRetriever(assistant=bot).invoke(QUESTION)
    assert len(documents) == bot.settings.top_k
    (article,) = bot.articles()
    for document in documents:
        meta = document.metadata
        assert set(meta) == METADATA_KEYS
        assert (meta["article_id"], meta["title"], meta["source"], meta["url"]) == (
            article.id, article.title, article.path, article.url,
        )
        assert seed_text[meta["start"] : meta["end"]] == document.page_content  # offsets into the cleaned article
        assert meta["dense_rank"] is not None or meta["lexical_rank"] is not None
    scores = [d.metadata["score"] for d in documents]
    assert scores == sorted(scores, reverse=True)
    assert "7 of the 12" in documents[0].page_content  # the passage that answers it ranks first
    assert len({d.id for d in documents}) == len(documents)


def test_it_returns_the_passages_ask_answers_from(bot):
    """Same retrieval as ``Assistant.ask``: every passage the answer cites is among the retriever's."""
    answer = bot.ask(QUESTION)
    assert answer.found and answer.citations
    retrieved = {(d.metadata["start"], d.metadata["end"]) for d in ArticleRetriever(assistant=bot).invoke(QUESTION)}
    assert {(c.start, c.end) for c in answer.citations} <= retrieved


def test_k_per_call_overrides_the_constructor(bot):
    retriever = ArticleRetriever(assistant=bot, k=2)
    assert len(retriever.invoke(QUESTION)) == 2
    five = retriever.invoke(QUESTION, k=5)
    assert len(five) == 5
    assert [d.id for d in five[:2]] == [d.id for d in retriever.invoke(QUESTION)]


def test_article_picks_which_article_is_searched(make_assistant, tmp_path):
    corpus = copy_corpus(tmp_path / "two")  # the shipped article, plus:
    copy_corpus(corpus, REPO / "tests/data/second_article/river-cleanup.md")
    bot = make_assistant(corpus_dir=corpus)
    query = "How much rubbish did the volunteers collect?"
    river = ArticleRetriever(assistant=bot, article="river-cleanup").invoke(query)
    assert river and {d.metadata["article_id"] for d in river} == {"river-cleanup"}
    seed = ArticleRetriever(assistant=bot, article=SEED_ID).invoke(query)
    assert seed and {d.metadata["article_id"] for d in seed} == {SEED_ID}
    both = ArticleRetriever(assistant=bot, k=20).invoke(query)
    assert {d.metadata["article_id"] for d in both} == {"river-cleanup", SEED_ID}
    assert both[0].metadata["article_id"] == "river-cleanup"


@pytest.mark.parametrize(
    "build, call, message",
    [
        (dict(k=0), {}, f"k must be a whole number from 1 to {MAX_K}"),
        (dict(k=MAX_K + 1), {}, f"k must be a whole number from 1 to {MAX_K}"),
        ({}, dict(k=-1), f"k must be a whole number from 1 to {MAX_K}"),
        ({}, dict(query="   "), "the question is empty"),
        ({}, dict(query="why " * MAX_QUESTION_CHARS), "the question is too long"),
        ({}, dict(query=42), "the question must be text"),
        (dict(article="no-such-article"), {}, "no article 'no-such-article' in the corpus (known: ketamine-opioid"),
    ],
)
def test_bad_input_is_one_clear_line(bot, build, call, message):
    with pytest.raises(UserError) as raised:
        query = call.pop("query", QUESTION)
        ArticleRetriever(assistant=bot, **build).invoke(query, **call)
    assert message in str(raised.value) and "\n" not in str(raised.value)
