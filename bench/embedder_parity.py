"""Do answers change when the ONNX export replaces sentence-transformers? Same questions, both paths.

Why: the export is used only because its vectors match (cosine >= 0.9999 on fixed sentences), but
what users see is answers. Each path builds its own index of the same corpus with its own embedder
(`ASSISTANT_ONNX_EXPORT=false` is the torch path) and answers every question through
`assistant eval`; then every question is compared: found / not found, the answer text, and the
confidence (which folds in every score the answerer uses), within ``--tolerance``.
"""

from __future__ import annotations

import argparse
import json

from _common import ASSISTANT_CLI, PROJECT, report, run_timed, scratch_dir, table

PATHS = {"torch": {"ASSISTANT_ONNX_EXPORT": "false"}, "onnx": {}}


def answers(qa_file: str, data_dir: str, report_file: str, env: dict, limit: int | None) -> dict[tuple, dict]:
    command = [ASSISTANT_CLI, "eval", qa_file, "--report", report_file, *(["--limit", str(limit)] if limit else [])]
    run_timed(command, timeout=7200, ASSISTANT_DATA_DIR=data_dir, **env)
    with open(report_file, encoding="utf-8") as handle:
        items = json.load(handle)["items"]
    return {(item.get("article"), item.get("id") or item["question"]): item for item in items}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("qa_files", nargs="*", default=[str(PROJECT / "tests" / "data" / "seed_questions.yaml")])
    parser.add_argument("--limit", type=int, help="SQuAD files: the first N questions of each article")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    with report("embedder_parity", "answers with the ONNX export against sentence-transformers"), \
            scratch_dir("parity") as tmp:
        rows = []
        for number, qa_file in enumerate(args.qa_files):
            runs = {path: answers(qa_file, str(tmp / f"{number}-{path}"), str(tmp / f"{number}-{path}.json"), env,
                                  args.limit) for path, env in PATHS.items()}
            torch_items, onnx_items = runs["torch"], runs["onnx"]
            shared = sorted(set(torch_items) & set(onnx_items), key=str)
            decisions = sum(torch_items[k]["found"] != onnx_items[k]["found"] for k in shared)
            texts = sum(torch_items[k]["answer"] != onnx_items[k]["answer"] for k in shared)
            gaps = [abs((torch_items[k]["confidence"] or 0) - (onnx_items[k]["confidence"] or 0)) for k in shared]
            worst = max(gaps, default=0.0)
            beyond = sum(gap > args.tolerance for gap in gaps)
            rows.append([qa_file, len(shared), decisions, texts, beyond, f"{worst:.2e}"])
            for key in [k for k in shared if torch_items[k]["answer"] != onnx_items[k]["answer"]][:5]:
                print(f"differs: {key}: torch {torch_items[key]['answer'][:100]!r} / onnx {onnx_items[key]['answer'][:100]!r}")
        print(table(["questions file", "questions", "found/not-found differs", "answer text differs",
                     f"confidence differs > {args.tolerance:g}", "largest confidence gap"], rows))
        print(f"\n$ .venv/bin/python bench/embedder_parity.py {' '.join(args.qa_files)}"
              + (f" --limit {args.limit}" if args.limit else ""))


if __name__ == "__main__":
    main()
