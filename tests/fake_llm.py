"""A stand-in OpenAI-compatible chat server on loopback whose speed the caller sets: a slow LLM on demand.

The real llama.cpp server (tests/llm_server.py) answers at the speed of the machine; concurrency tests
and bench/load.py need one answer to take many seconds while the others are quick. This server streams
a fixed reply word by word: ``delay`` seconds apart, or ``slow_delay`` apart when the prompt contains
``slow_marker``. It speaks just enough of the API for langchain-openai: ``GET /v1/models`` and
``POST /v1/chat/completions``, streamed (server-sent events) or not.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "fake-llm"


class FakeLLM:
    """``with FakeLLM(reply, ...) as llm:`` then point the openai backend at ``llm.base_url``."""

    def __init__(self, reply: str, delay: float = 0.0, slow_marker: str | None = None, slow_delay: float = 1.0):
        self.reply = reply
        self.delay = delay
        self.slow_marker = slow_marker
        self.slow_delay = slow_delay
        self.slow_started = threading.Event()  # set when a slow reply begins
        self.requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> "FakeLLM":
        threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _word_delay(self, prompt: str) -> float:
        if self.slow_marker and self.slow_marker in prompt:
            self.slow_started.set()
            return self.slow_delay
        return self.delay

    def _handler(self):
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet: tests read results, not logs
                pass

            def _send_json(self, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send_json({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "tests"}]})

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                llm.requests += 1
                prompt = json.dumps(request.get("messages", []))
                delay = llm._word_delay(prompt)
                words = llm.reply.split(" ")
                if not request.get("stream"):
                    time.sleep(delay * len(words))
                    message = {"role": "assistant", "content": llm.reply}
                    self._send_json({"id": "fake", "object": "chat.completion", "created": int(time.time()), "model": MODEL,
                                     "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i, word in enumerate(words):
                    time.sleep(delay)
                    self._event({"content": word if i == 0 else " " + word}, None)
                self._event({}, "stop")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, delta: dict, finish_reason: str | None) -> None:
                chunk = {"id": "fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": MODEL,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

        return Handler
