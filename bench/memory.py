"""Peak memory: the web server after it answered one question, next to a plain in-process Assistant.

Why: the product runs on a laptop; this is what `assistant serve` keeps resident, and how much of
it the web layer (Gradio, its server threads) adds on top of the assistant itself (MiniLM, torch,
Chroma). Peak RSS is VmHWM from /proc/PID/status, current RSS is VmRSS.
  * server: `assistant serve --port FREE` on an already-built index, polled until the port answers
    (bounded), RSS read once it is up, then one question over HTTP to the `/ask` API endpoint
    (Gradio's plain REST API on 127.0.0.1, no client library), RSS read again; then it is stopped.
  * in-process: a fresh `python` that builds `Assistant(...)`, asks the same question and reads its
    own /proc/self/status; and one that only imports (the floor before the model loads).
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from _common import (ASSISTANT_CLI, PYTHON, SHIPPED_CORPUS, free_port, proc_status, report, run_timed, scratch_dir,
                     stop, subprocess_env, table)

QUESTION = "Who is Boris Heifets?"
START_TIMEOUT = 180
IN_PROCESS = """
import json, sys
from pathlib import Path
def status():
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {k: round(int(fields[k].split()[0]) / 1024) for k in ("VmRSS", "VmHWM")}
from assistant.core import Assistant
if sys.argv[3]:
    bot = Assistant(corpus_dir=sys.argv[1], data_dir=sys.argv[2])
    bot.ask(sys.argv[3])
print(json.dumps(status()))
"""


def wait_for_port(port: int, server: subprocess.Popen, timeout: float) -> float:
    """Seconds until 127.0.0.1:port accepts connections; fails if the server dies or times out."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"server not listening on {port} after {timeout} s")


def ask_over_http(port: int, question: str) -> dict:
    """Gradio's REST API: POST starts the call, GET streams its events; 'complete' carries the result."""
    base = f"http://127.0.0.1:{port}/gradio_api/call/ask"
    request = urllib.request.Request(base, data=json.dumps({"data": [question, "all"]}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{base}/{event_id}", timeout=120) as response:
        event = None
        for raw in response:
            line = raw.decode().strip()
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                if event == "error":
                    raise RuntimeError(f"/ask failed: {line}")
                return json.loads(line[5:])[0]
    raise RuntimeError("/ask ended without a result")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def main() -> None:
    with report("memory", "peak RSS of the web server and of an in-process Assistant"), scratch_dir("memory") as tmp:
        where = ["--corpus-dir", str(SHIPPED_CORPUS), "--data-dir", str(tmp / "index")]
        run_timed([ASSISTANT_CLI, *where, "index"])
        rows = []

        port = free_port()
        with (tmp / "server.log").open("w") as log:
            server = subprocess.Popen([ASSISTANT_CLI, *where, "serve", "--port", str(port)], stdout=log,
                                      stderr=subprocess.STDOUT, env=subprocess_env())
            try:
                up = wait_for_port(port, server, START_TIMEOUT)
                rows.append([f"server up ({up:.1f} s to listen), before any question",
                             proc_status(server.pid, "VmRSS"), proc_status(server.pid, "VmHWM")])
                started = time.perf_counter()
                answer = ask_over_http(port, QUESTION)
                took = time.perf_counter() - started
                server_peak = proc_status(server.pid, "VmHWM")
                rows.append([f"server after one question over HTTP ({took:.1f} s, found={answer['found']})",
                             proc_status(server.pid, "VmRSS"), server_peak])
                kids = children(server.pid)
            finally:
                stop(server)

        for label, question in [("in-process, imports only (assistant.core)", ""),
                                ("in-process Assistant after one question", QUESTION)]:
            _, out = run_timed([PYTHON, "-c", IN_PROCESS, where[1], where[3], question])
            status = json.loads(out)
            rows.append([label, status["VmRSS"], status["VmHWM"]])

        print(f"question: {QUESTION!r}; MiB\n")
        print(table(["process", "VmRSS MiB", "VmHWM (peak) MiB"], rows))
        print(f"\nserver child processes: {len(kids)}; the web layer adds ~{server_peak - status['VmHWM']} MiB peak "
              f"over the in-process Assistant")
        print(f"$ .venv/bin/assistant --corpus-dir corpus --data-dir TMP serve --port {port}")


if __name__ == "__main__":
    main()
