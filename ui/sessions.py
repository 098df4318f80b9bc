"""Which backend answers each browser session, and whether that backend can answer at all.

``Assistant.use_backend`` switches the backend of the one shared ``Assistant``, i.e. for every
visitor. Here each backend gets its own view of it (``Assistant.with_backend``), sharing the index,
the extractive answerer and the lock, so a re-scan still excludes all questions. Sessions are keyed by
Gradio's ``session_hash`` (one per open page, and one per ``gradio_client.Client``).
"""

from __future__ import annotations

import importlib.util
import threading
import urllib.request
from collections import OrderedDict
from pathlib import Path

from assistant.config import Settings
from assistant.core import Assistant
from assistant.llm import describe_failure

# Long enough for a server on this machine or the LAN to list its models, short enough to wait for.
PROBE_SECONDS = 3.0
# Sessions remembered; the oldest choice is forgotten first (it falls back to the server's default).
MAX_SESSIONS = 10_000


def probe(settings: Settings, backend: str) -> str | None:
    """One quick request to the backend's server (or a check of its model file); None when it answers,
    else the reason in one line."""
    if backend == "extractive":
        return None
    if backend == "llamacpp":
        path = settings.llamacpp_model_path
        if importlib.util.find_spec("llama_cpp") is None:
            return "llama-cpp-python is not installed (pip install -e '.[llamacpp]')"
        return None if path and Path(path).is_file() else f"no GGUF file at '{path}': set ASSISTANT_LLAMACPP_MODEL_PATH"
    checked = settings.model_copy(update={"backend": backend, "llm_timeout": PROBE_SECONDS})
    url = (f"{settings.openai_base_url.rstrip('/')}/models" if backend == "openai"
           else f"{settings.ollama_base_url.rstrip('/')}/api/tags")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {settings.openai_api_key}"})
    try:
        urllib.request.urlopen(request, timeout=PROBE_SECONDS).close()
    except (OSError, ValueError) as error:
        return describe_failure(error, checked)
    return None


class SessionBackends:
    """Per-session backend choice over one shared index."""

    def __init__(self, bot: Assistant):
        self.bot = bot
        self._assistants: dict[str, Assistant] = {bot.settings.backend: bot}
        self._chosen: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def backend(self, session: str | None) -> str:
        return self._chosen.get(session or "", self.bot.settings.backend)

    def choose(self, session: str | None, backend: str) -> None:
        with self._lock:
            self._chosen.pop(session or "", None)
            self._chosen[session or ""] = backend
            while len(self._chosen) > MAX_SESSIONS:
                self._chosen.popitem(last=False)

    def forget(self, session: str | None) -> None:
        with self._lock:
            self._chosen.pop(session or "", None)

    def assistant(self, session: str | None) -> Assistant:
        """The ``Assistant`` answering with this session's backend (built on first use of that backend)."""
        backend = self.backend(session)
        with self._lock:
            assistant = self._assistants.get(backend)
            if assistant is None:
                assistant = self.bot.with_backend(backend)
                self._assistants[backend] = assistant
            return assistant
