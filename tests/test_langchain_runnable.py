"""``AnswerRunnable`` (the answerer as an LCEL Runnable), ``generative_chain``, and the README's example.

All run over the session's real index of the shipped article (``bot``). The generative chain is driven by
``GenericFakeChatModel`` from langchain_core: it stands in for a hosted LLM, which cannot run here; what
is tested is what the chain gives the model (the prompt with the retrieved passages) and what it does
with the reply.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.runnables import RunnableLambda

from assistant.errors import UserError
from assistant.langchain_adapters import AnswerRunnable, ArticleRetriever, generative_chain
from conftest import REPO, SEED_ID

ANSWERED = "How many of the participants saw their symptoms subside?"
NOT_ANSWERED = "What dose of ketamine in mg/kg was given?"


def without_timings(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "timings_ms"}


def test_invoke_gives_the_answer_dict_of_ask(bot):
    answer = AnswerRunnable(bot).invoke(ANSWERED)
    assert without_timings(answer) == without_timings(bot.ask(ANSWERED).to_dict())
    assert answer["found"] and "7 of the 12" in answer["answer"].replace("**", "") and answer["citations"]
    assert set(answer["timings_ms"]) >= {"retrieve", "answer", "total"}


def test_a_dict_input_carries_history_and_article(bot):
    runnable = AnswerRunnable(bot)
    history = [("Who is Boris Heifets?", "A Stanford anesthesiologist, co-lead author on the paper.")]
    follow_up = runnable.invoke({"question": "What did he say about glutamate?", "history": history, "article": SEED_ID})
    assert follow_up["standalone_question"] != "What did he say about glutamate?"  # resolved against the history
    assert without_timings(follow_up) == without_timings(
        bot.ask("What did he say about glutamate?", article=SEED_ID, history=history).to_dict()
    )
    assert follow_up["article"] == SEED_ID
    # JSON gives pairs as lists; they are accepted the same way
    as_lists = runnable.invoke({"question": "What did he say about glutamate?", "history": [list(history[0])]})
    assert as_lists["standalone_question"] == follow_up["standalone_question"]


def test_stream_yields_text_pieces_then_the_answer(bot):
    chunks = list(AnswerRunnable(bot).stream({"question": ANSWERED}))
    *pieces, final = chunks
    assert pieces and all(set(piece) == {"text"} for piece in pieces)
    assert "".join(piece["text"] for piece in pieces).strip() == final["answer"].strip()
    assert without_timings(final) == without_timings(bot.ask(ANSWERED).to_dict())


async def test_astream_and_ainvoke_match_the_sync_calls(bot):
    runnable = AnswerRunnable(bot)
    chunks = [chunk async for chunk in runnable.astream(ANSWERED)]
    assert without_timings(chunks[-1]) == without_timings(runnable.invoke(ANSWERED))
    assert all(set(chunk) == {"text"} for chunk in chunks[:-1]) and len(chunks) >= 2
    assert without_timings(await runnable.ainvoke(NOT_ANSWERED)) == without_timings(runnable.invoke(NOT_ANSWERED))


def test_batch_answers_each_input(bot):
    answers = AnswerRunnable(bot).batch([ANSWERED, {"question": NOT_ANSWERED}])
    assert [a["question"] for a in answers] == [ANSWERED, NOT_ANSWERED]
    assert [a["found"] for a in answers] == [True, False]
    assert answers[1]["citations"] == [] and answers[1]["answer"] == "The article does not say."


def test_it_composes_like_any_runnable(bot):
    """Upstream steps feed it; a downstream step that consumes its stream gets the final answer dict."""
    chain = RunnableLambda(str.upper) | AnswerRunnable(bot) | RunnableLambda(lambda answer: answer["found"])
    assert chain.invoke(ANSWERED.lower()) is True
    assert list(chain.stream(NOT_ANSWERED)) == [False]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"q": ANSWERED}, "answerer input: question: Field required"),
        ({"question": 42}, "answerer input: question: Input should be a valid string"),
        ({"question": ANSWERED, "history": ["just one string"]}, "answerer input: history.0"),
        ({"question": ANSWERED, "top_k": 3}, "answerer input: top_k: Extra inputs are not permitted"),
        (["a list"], "answerer input"),
        ({"question": "  "}, "the question is empty"),
        ({"question": ANSWERED, "article": "nope"}, "no article 'nope' in the corpus"),
    ],
)
def test_bad_input_is_one_clear_line(bot, bad, message):
    with pytest.raises(UserError) as raised:
        AnswerRunnable(bot).invoke(bad)
    assert message in str(raised.value) and "\n" not in str(raised.value)


class PromptRecorder(BaseCallbackHandler):
    """Keeps the messages every chat model in the run was sent."""

    def __init__(self):
        self.prompts: list[list] = []

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.prompts.extend(messages)


def test_generative_chain_sends_the_retrieved_passages_and_returns_the_reply(bot):
    retriever = ArticleRetriever(assistant=bot, k=3)
    reply = "Seven of the twelve participants saw their symptoms subside [1]."
    model = GenericFakeChatModel(messages=iter([reply]))  # stands in for a hosted LLM
    recorder = PromptRecorder()
    result = generative_chain(retriever, model).invoke(ANSWERED, config={"callbacks": [recorder]})

    assert result["answer"] == reply and result["question"] == ANSWERED
    context = result["context"]
    assert [d.id for d in context] == [d.id for d in retriever.invoke(ANSWERED)]
    (messages,) = recorder.prompts
    system, human = messages
    assert "cite the passage" in system.content  # prompts/answer.txt's instructions
    for n, document in enumerate(context, start=1):
        assert f"[{n}] {document.page_content}" in human.content
    assert f"Article: {context[0].metadata['title']}" in human.content
    assert human.content.rstrip().endswith(f"Question: {ANSWERED}")


def test_generative_chain_streams_the_reply(bot):
    reply = "Seven of the twelve [1]."
    model = GenericFakeChatModel(messages=iter([reply]))  # stands in for a hosted LLM
    chunks = list(generative_chain(ArticleRetriever(assistant=bot), model).stream(ANSWERED))
    pieces = [chunk["answer"] for chunk in chunks if "answer" in chunk]
    assert len(pieces) > 1 and "".join(pieces) == reply
    assert any("context" in chunk for chunk in chunks)


def test_generative_chain_trims_passages_to_the_model_context(make_assistant):
    """A small ``llm_context_tokens`` keeps fewer passages in the prompt, as the generative backends do."""
    small = make_assistant(llm_context_tokens=400, llm_max_tokens=50)
    recorder = PromptRecorder()
    generative_chain(ArticleRetriever(assistant=small), GenericFakeChatModel(messages=iter(["[1]"]))).invoke(
        ANSWERED, config={"callbacks": [recorder]}
    )
    human = recorder.prompts[0][1].content
    assert "[1] " in human and "[3] " not in human


def test_importing_the_adapters_loads_no_web_stack_and_no_model():
    heavy = ["gradio", "torch", "sentence_transformers", "langchain_openai"]
    code = f"import sys, assistant.langchain_adapters; print([m for m in {heavy!r} if m in sys.modules])"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[]"


def readme_section_code() -> str:
    """The Python block of the README's "Using it from LangChain" section."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using it from LangChain", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "the README section has no python example"
    return blocks[0]


def test_the_readme_example_runs(bot, tmp_path):
    """Run as a user would: a fresh interpreter, settings from the environment, on a copy of the built index."""
    data_dir = tmp_path / "index"
    shutil.copytree(bot.settings.data_dir, data_dir)  # already built: the example embeds only its questions
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(bot.settings.corpus_dir), "ASSISTANT_DATA_DIR": str(data_dir)}
    run = subprocess.run(
        [sys.executable, "-c", readme_section_code()], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(re.findall(r"^0\.\d{4} \[\d+:\d+\] \S", run.stdout, re.M)) == 3  # the retriever's k=3 passages
    assert "What does Sanacora worry about? -> “Sanacora worries that" in run.stdout  # the follow-up, answered
    assert "7 of the 12" in run.stdout.replace("**", "") and run.stdout.rstrip().endswith("found: True")  # the streamed answer
