"""Chat models for the generative backends, and one-line explanations of their failures.

Each backend is a LangChain chat model, imported only when chosen: ``openai`` (any
OpenAI-compatible server: llama.cpp's, vLLM, LM Studio, Ollama's /v1, OpenAI), ``ollama``
(langchain-ollama) and ``llamacpp`` (a local GGUF file through llama-cpp-python, in-process).
"""

from __future__ import annotations

import json
import urllib.request
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.errors import UserError

if TYPE_CHECKING:  # the web server imports this module for describe_failure: no LangChain chat stack for it
    from langchain_core.language_models import BaseChatModel

GENERATIVE_BACKENDS = ("openai", "ollama", "llamacpp")
EXTRAS_HINT = "install the LLM extras: pip install -e '.[llm]' (and '.[llamacpp]' for GGUF files)"


def _first_served_model(base_url: str, api_key: str, timeout: float) -> str:
    """OpenAI-compatible servers list their models; a single-model server needs no name from the user."""
    request = urllib.request.Request(f"{base_url.rstrip('/')}/models", headers={"Authorization": f"Bearer {api_key}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        models = json.load(response).get("data") or []
    if not models:
        raise UserError(f"the server at {base_url} lists no models; set ASSISTANT_OPENAI_MODEL")
    return models[0]["id"]


def chat_model(settings: Settings) -> BaseChatModel:
    """The configured backend's chat model; a missing package or model file is a ``UserError``."""
    try:
        if settings.backend == "openai":
            from langchain_openai import ChatOpenAI

            model = settings.openai_model or _first_served_model(
                settings.openai_base_url, settings.openai_api_key, settings.llm_timeout
            )
            return ChatOpenAI(
                base_url=settings.openai_base_url,
                api_key=settings.openai_api_key,
                model=model,
                temperature=settings.llm_temperature,
                # langchain-openai sends ``max_tokens`` as ``max_completion_tokens``, which llama.cpp's and
                # other compatible servers ignore; the classic field is understood by all of them.
                extra_body={"max_tokens": settings.llm_max_tokens},
                timeout=settings.llm_timeout,
                max_retries=0,
                stream_usage=False,
            )
        if settings.backend == "ollama":
            from langchain_ollama import ChatOllama

            return ChatOllama(
                base_url=settings.ollama_base_url,
                model=settings.ollama_model,
                temperature=settings.llm_temperature,
                num_predict=settings.llm_max_tokens,
                num_ctx=settings.llm_context_tokens,
                client_kwargs={"timeout": settings.llm_timeout},
            )
        if settings.backend == "llamacpp":
            return _llamacpp_model(
                settings.llamacpp_model_path, settings.llm_context_tokens, settings.llm_max_tokens, settings.llm_temperature
            )
    except ImportError as error:
        raise UserError(f"backend '{settings.backend}' needs {error.name}: {EXTRAS_HINT}") from error
    raise UserError(f"'{settings.backend}' is not a generative backend (choose one of {', '.join(GENERATIVE_BACKENDS)})")


@lru_cache(maxsize=2)
def _llamacpp_model(path: str, context_tokens: int, max_tokens: int, temperature: float) -> BaseChatModel:
    """Loading a GGUF file takes seconds; one loaded model serves every question."""
    from pathlib import Path

    from langchain_community.chat_models import ChatLlamaCpp

    if not path or not Path(path).is_file():
        raise UserError(f"no GGUF file at '{path}': set ASSISTANT_LLAMACPP_MODEL_PATH")
    return ChatLlamaCpp(
        model_path=path, n_ctx=context_tokens, max_tokens=max_tokens, temperature=temperature, verbose=False, streaming=True
    )


def describe_failure(error: BaseException, settings: Settings) -> str:
    """What went wrong with the model, in one line a user can act on."""
    name = type(error).__name__
    text = " ".join(str(error).split())[:200]
    where = {"openai": settings.openai_base_url, "ollama": settings.ollama_base_url}.get(settings.backend, "")
    if isinstance(error, UserError):
        return str(error)
    if "Timeout" in name or isinstance(error, TimeoutError):
        return f"the {settings.backend} backend did not answer within {settings.llm_timeout:g} s"
    if "Connection" in name or isinstance(error, (ConnectionError, urllib.error.URLError)):
        return f"cannot reach the {settings.backend} server at {where}"
    if "NotFound" in name or "model" in text.lower() and "not found" in text.lower():
        return f"the {settings.backend} server has no model named '{settings.openai_model or settings.ollama_model}'"
    if "context" in text.lower() and ("length" in text.lower() or "exceed" in text.lower()):
        return f"the question and passages do not fit the model's context ({text})"
    if "EmptyAnswer" in name or "no generation chunks" in text.lower():
        # Servers that stream report an over-long prompt as an empty stream.
        return (
            f"the {settings.backend} backend returned no text (if the prompt exceeds the model's context, "
            f"set ASSISTANT_LLM_CONTEXT_TOKENS to the model's context size; now {settings.llm_context_tokens})"
        )
    return f"the {settings.backend} backend failed ({name}: {text})"
