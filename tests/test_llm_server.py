"""The llama.cpp server fixture itself: a real OpenAI-compatible server on loopback, over HTTP.

The model (Gemma 3 270M, a base model) is too weak to judge answers; these tests check the plumbing
the generative backends rely on: streaming through langchain-openai and capped, finishing requests.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_server_streams_a_chat_completion_through_langchain_openai(llama_server):
    from langchain_openai import ChatOpenAI

    base_url, model_name = llama_server
    assert base_url.startswith("http://127.0.0.1:") and model_name == "gemma-3-270m"
    llm = ChatOpenAI(
        base_url=base_url,
        api_key="not-needed",
        model=model_name,
        temperature=0,
        timeout=60,
        max_retries=0,
        # langchain-openai sends max_tokens as max_completion_tokens, which llama.cpp's server ignores;
        # min_tokens (a llama.cpp extension) keeps the base model from ending at once.
        extra_body={"max_tokens": 12, "min_tokens": 4},
    )
    chunks = list(llm.stream([("system", "Answer briefly."), ("human", "Name three colours: red,")]))

    pieces = [chunk.content for chunk in chunks if chunk.content]
    assert 2 <= len(pieces) <= 12, chunks  # token by token, not one block; capped by max_tokens
    assert "".join(pieces).strip()
    finish = [chunk.response_metadata.get("finish_reason") for chunk in chunks]
    assert {"length", "stop"} & set(finish), finish  # the stream ended with a finish reason


def test_a_one_token_request_finishes(llama_server):
    base_url, model_name = llama_server
    body = {"model": model_name, "messages": [{"role": "user", "content": "Say yes."}], "max_tokens": 1}
    request = urllib.request.Request(
        f"{base_url}/chat/completions", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        reply = json.load(response)

    choice = reply["choices"][0]
    assert choice["finish_reason"] in ("length", "stop"), reply
    assert reply["usage"]["completion_tokens"] <= 1, reply
    assert isinstance(choice["message"]["content"], str)
