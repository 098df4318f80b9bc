"""Cold start of `assistant ask` on an already-built index, as real subprocesses.

Why: a one-off `assistant ask` from a script pays interpreter start, imports and model load
before its single answer, and that dominates the user's wait. Measured (median of ``--repeats``,
each repetition runs every command once, in turn; the OS file cache is warm after one untimed
run, so this is a "second run of the day", not a first boot):
  * import cost, each a fresh `python -c "import ..."`: the interpreter alone, the assistant
    package, chromadb, sentence-transformers (which pulls torch, transformers, scikit-learn) with
    and without langchain-huggingface, everything `ask` needs, and two lower bounds for loading
    MiniLM without sentence-transformers (torch + transformers; onnxruntime + tokenizers);
  * a probe process that times, in-process, imports -> model load -> opening Chroma -> first answer;
  * `assistant ask "..."` as shipped (its ``main`` calls ``gc.freeze()`` when done, so interpreter
    teardown skips a last garbage-collection sweep over torch & co.: the gap between the probe's
    phases and its wall time), next to two variants of the same CLI: without that freeze
    (``gc.unfreeze()`` after ``main``: the behaviour before it was added) and with ``os._exit``
    after the answer (no teardown at all); and `assistant articles` (no model: what lazy loading saves).
"""

from __future__ import annotations

import argparse
import json

from _common import ASSISTANT_CLI, PYTHON, SHIPPED_CORPUS, median, report, run_timed, scratch_dir, table

QUESTION = "How many of the participants saw their symptoms subside?"
ASK_IMPORTS = "assistant.cli, assistant.core, chromadb, langchain_chroma, langchain_huggingface, sentence_transformers"
IMPORT_VARIANTS = {
    "python -c pass (interpreter)": "pass",
    "import assistant.cli": "import assistant.cli",
    "import assistant.core": "import assistant.core",
    "import chromadb, langchain_chroma": "import chromadb, langchain_chroma",
    "import sentence_transformers": "import sentence_transformers",
    "import langchain_huggingface (+ sentence_transformers)": "import langchain_huggingface, sentence_transformers",
    "import everything ask needs": f"import {ASK_IMPORTS}",
    # Lower bounds for an embedder without sentence-transformers (not a working variant, just its imports):
    "import torch, transformers (MiniLM without sentence-transformers)": "import torch, transformers",
    "import onnxruntime, tokenizers (MiniLM as ONNX)": "import onnxruntime, tokenizers",
}
PROBE = f"""
import json, sys, time
t0 = time.perf_counter()
import {ASK_IMPORTS}
t1 = time.perf_counter()
from assistant.core import Assistant
bot = Assistant(corpus_dir=sys.argv[1], data_dir=sys.argv[2])
bot.sync()
t2 = time.perf_counter()
bot.index.embeddings
t3 = time.perf_counter()
bot.index.store
t4 = time.perf_counter()
bot.ask(sys.argv[3])
t5 = time.perf_counter()
print(json.dumps({{"imports": t1 - t0, "Assistant() + sync": t2 - t1, "model load": t3 - t2,
                  "open Chroma": t4 - t3, "first answer": t5 - t4}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with report("cold_start", "cold start of `assistant ask` as subprocesses"), scratch_dir("cold") as tmp:
        data = str(tmp / "index")
        where = ["--corpus-dir", str(SHIPPED_CORPUS), "--data-dir", data]
        cli = "import gc, os, sys; from assistant.cli import main; code = main(sys.argv[1:]); sys.stdout.flush(); "
        commands = {
            "assistant ask": [ASSISTANT_CLI, *where, "ask", QUESTION],
            "assistant ask, variant: without gc.freeze()": [PYTHON, "-c", cli + "gc.unfreeze(); sys.exit(code)",
                                                            *where, "ask", QUESTION],
            "assistant ask, variant: os._exit after the answer": [PYTHON, "-c", cli + "os._exit(code)",
                                                                  *where, "ask", QUESTION],
            "assistant articles (no model)": [ASSISTANT_CLI, *where, "articles"],
        }
        run_timed([ASSISTANT_CLI, *where, "index"])  # the already-built index
        run_timed(commands["assistant ask"])  # untimed: warms the OS file cache

        imports = {name: [] for name in IMPORT_VARIANTS}
        walls = {name: [] for name in commands}
        phases: dict[str, list[float]] = {}
        probe_walls = []
        for _ in range(args.repeats):
            for name, code in IMPORT_VARIANTS.items():
                imports[name].append(run_timed([PYTHON, "-c", code])[0])
            seconds, out = run_timed([PYTHON, "-c", PROBE, str(SHIPPED_CORPUS), data, QUESTION])
            probe_walls.append(seconds)
            for phase, value in json.loads(out).items():
                phases.setdefault(phase, []).append(value)
            for name, argv in commands.items():
                walls[name].append(run_timed(argv)[0])

        print(f"median of {args.repeats} runs each, seconds; question: {QUESTION!r}\n")
        print("## Imports (each a fresh process: wall time includes interpreter start and exit)")
        base = median(imports["python -c pass (interpreter)"])
        print(table(["command", "wall s", "minus interpreter s"],
                    [[name, median(v), median(v) - base] for name, v in imports.items()], digits=2))

        print("\n## Phases of one `ask`, timed inside a probe process")
        rows = [[phase, median(v)] for phase, v in phases.items()]
        inside = sum(r[1] for r in rows)
        rows.append(["interpreter start + exit (probe wall - phases)", median(probe_walls) - inside])
        rows.append(["probe wall total", median(probe_walls)])
        print(table(["phase", "median s"], rows, digits=2))

        print("\n## Real commands (wall time of the subprocess)")
        print(table(["command", "median s", "min s", "max s"],
                    [[name, median(v), min(v), max(v)] for name, v in walls.items()], digits=2))
        print(f"\n$ .venv/bin/assistant --corpus-dir corpus --data-dir TMP ask {QUESTION!r}")


if __name__ == "__main__":
    main()
