"""The ``assistant`` command: ask, chat, index, serve, articles, eval.

Exit codes: 0 answered (found or not), 2 bad usage or bad input (one line on stderr),
1 internal error (one line on stderr; ``ASSISTANT_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import errno
import gc
import json
import os
import sys
import textwrap

from assistant.cleaning import escape_control_characters
from assistant.errors import UserError

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2
BACKENDS = ["extractive", "openai", "ollama", "llamacpp"]


class _OneLineErrors(argparse.ArgumentParser):
    """Usage errors as one line, like every other error the command prints."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"error: {message} (try '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineErrors(prog="assistant", description="Ask questions about the articles in corpus/.")
    parser.add_argument("--corpus-dir", help="folder of articles (default: ./corpus, env ASSISTANT_CORPUS_DIR)")
    parser.add_argument("--data-dir", help="where the index lives (env ASSISTANT_DATA_DIR)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--article", help="article id, or 'all' (default: the only article, else all)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--backend", choices=BACKENDS, help="answering backend")
    ask.add_argument("--top-k", type=int, help="passages retrieved (default 6)")
    ask.add_argument("--stream", action="store_true", help="print the answer as it is generated")

    chat = commands.add_parser("chat", help="a conversation in the terminal, with follow-up questions")
    chat.add_argument("--article")
    chat.add_argument("--backend", choices=BACKENDS)

    index = commands.add_parser("index", help="sync corpus/ into the index")
    index.add_argument("--rebuild", action="store_true", help="start over: re-embed everything")

    serve = commands.add_parser("serve", help="start the web chat")
    serve.add_argument("--host", help="default 127.0.0.1")
    serve.add_argument("--port", type=int, help="default 7860")
    serve.add_argument("--allow-remote", action="store_true",
                       help="needed for a --host other machines can reach (no login protects the chat)")

    evaluate = commands.add_parser("eval", help="measure answer quality and speed on a QA file")
    evaluate.add_argument("qa_file", help="our YAML/JSON QA file, or a SQuAD 2.0 JSON file (its articles become the corpus)")
    evaluate.add_argument("--article", help="article id (default: the one the QA file names)")
    evaluate.add_argument("--backend", default="extractive", help="comma-separated backends to compare")
    evaluate.add_argument("--retrieval", default=None, help="comma-separated: hybrid, dense, lexical")
    evaluate.add_argument("--passage-tokens", default=None, help="comma-separated passage sizes in tokens")
    evaluate.add_argument("--rewrite", default="on", help="follow-up rewriting: on, off or on,off")
    evaluate.add_argument("--reader", default=None, help="the trained reader: on, off or on,off (off: the cross-encoder path)")
    evaluate.add_argument("--rerank", default=None, help="cross-encoder reranking: on, off or on,off")
    evaluate.add_argument("--rerank-cap", default=None, help="comma-separated caps: candidates the reader / cross-encoder read")
    evaluate.add_argument("--limit", type=int, help="SQuAD files: ask only the first N questions of each article")
    evaluate.add_argument("--top-k", type=int)
    evaluate.add_argument("--report", default="eval-report.json", help="where to write the JSON report")

    articles = commands.add_parser("articles", help="list the indexed articles")
    articles.add_argument("--json", action="store_true")
    return parser


def _say(text: str, file=None, end: str = "\n", keep: str = "\n\t") -> None:
    """Print article-derived text: an ESC or other control character in an article, a title or a file name
    is shown as an escape instead of reaching the terminal."""
    print(escape_control_characters(text, keep=keep), file=file or sys.stdout, end=end, flush=True)


def _argument_text(value: str | None) -> str | None:
    """A command-line argument as text: bytes that were not UTF-8 (which Python keeps as surrogates) are read
    the way article files are, e.g. a Latin-1 'é' typed in a Latin-1 terminal."""
    if not value or value.isascii() or not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    from assistant.corpus import decode_text

    return decode_text(os.fsencode(value))


def _assistant(args, embeddings=None, **variant):
    from assistant.core import Assistant

    overrides = {"backend": getattr(args, "backend", None), "host": getattr(args, "host", None), "port": getattr(args, "port", None)}
    overrides.update(variant)
    if getattr(args, "top_k", None):
        overrides["top_k"] = args.top_k
    return Assistant(corpus_dir=args.corpus_dir, data_dir=args.data_dir, embeddings=embeddings, **overrides)


def _report_problems(bot) -> None:
    """Files skipped and a disk refusing writes (warnings), files read with a change (notes), on stderr."""
    if bot.last_sync and bot.last_sync.disk:
        _say(f"warning: {bot.last_sync.disk}", file=sys.stderr, keep="")
    for problem in bot.last_sync.problems if bot.last_sync else []:
        _say(f"warning: {problem}", file=sys.stderr, keep="")
    for notice in bot.last_sync.notices if bot.last_sync else []:
        _say(f"note: {notice}", file=sys.stderr, keep="")


def _format_answer(answer) -> str:
    lines = [answer.text]
    if answer.confidence is not None and answer.found:
        lines.append(f"  confidence {answer.confidence:.2f} that the quote answers the question")
    if answer.note:
        lines.append(f"  note: {answer.note}")
    for sentence in answer.unsupported_sentences:
        lines.append(f"  unsupported by its citation: {sentence}")
    for citation in answer.citations:
        where = citation.url or citation.source
        excerpt = textwrap.shorten(citation.text, width=160, placeholder=" …")
        lines.append(f"  [{citation.n}] {citation.title} — {excerpt}\n      {where} (chars {citation.start}–{citation.end})")
    return "\n".join(lines)


def _ask(args) -> int:
    if args.top_k is not None and args.top_k < 1:
        raise UserError("--top-k must be at least 1")
    bot = _assistant(args)
    bot.load_models_in_background()
    bot.sync()
    _report_problems(bot)
    if args.stream and not args.json:
        answer = _print_streamed(bot.stream(args.question, article=args.article, top_k=args.top_k))
        _say("\n".join(_format_answer(answer).splitlines()[1:]))
        return EXIT_OK
    answer = bot.ask(args.question, article=args.article, top_k=args.top_k)
    _say(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if args.json else _format_answer(answer))
    return EXIT_OK


def _print_streamed(events):
    """Print text as it arrives; return the final Answer."""
    from assistant.answer.model import Answer

    for event in events:
        if isinstance(event, Answer):
            print()
            return event
        _say(event, end="")
    raise RuntimeError("the answer stream ended without an answer")


def _chat(args) -> int:
    bot = _assistant(args)
    bot.load_models_in_background()
    bot.sync()
    _report_problems(bot)
    titles = ", ".join(a.title for a in bot.articles())
    _say(f"Asking about: {titles}\nEmpty line or Ctrl-D to quit.")
    history: list[tuple[str, str]] = []
    if hasattr(sys.stdin, "reconfigure"):  # bytes that are not UTF-8 reach _argument_text instead of crashing input()
        sys.stdin.reconfigure(errors="surrogateescape")
    while True:
        try:
            question = _argument_text(input("\nyou> ").strip())
        except EOFError:
            print()
            return EXIT_OK
        if not question:
            return EXIT_OK
        try:
            print("assistant> ", end="", flush=True)
            answer = _print_streamed(bot.stream(question, article=args.article, history=history))
            _say("\n".join(_format_answer(answer).splitlines()[1:]))
            history.append((question, answer.text))
        except UserError as error:
            _say(f"\nerror: {error}", file=sys.stderr, keep="\n")


def _index(args) -> int:
    bot = _assistant(args)
    if bot.settings.read_only:
        raise UserError("ASSISTANT_READ_ONLY is set: this process only reads the index; index where the indexer runs")
    bot.index.ensure_writable()
    if args.rebuild or bot.index.rebuild_unfinished:  # an interrupted rebuild resumes where it stopped
        bot.index.rebuild()
    from assistant.index import tqdm_progress

    report = bot.sync(progress=tqdm_progress)
    if report.disk:
        raise UserError(report.disk)
    _report_problems(bot)
    print(f"indexed {len(bot.index.articles)} article(s): {report.summary()}")
    return EXIT_OK


def _serve(args) -> int:
    from assistant.config import load_settings
    from ui.app import serve
    from ui.heap import limit_malloc_arenas

    # One thread per model call: the server's questions already run side by side, and each call spreading
    # over both cores as well only adds hand-offs (bench/load.py, 10 clients: CPU per answer 214 -> 151 ms).
    os.environ.setdefault("ASSISTANT_MODEL_THREADS", "1")
    # Before the models and the store start their threads: glibc fixes its arena cap when they first allocate.
    limit_malloc_arenas(load_settings(**({"data_dir": args.data_dir} if args.data_dir else {})).malloc_arenas)
    bot = _assistant(args)
    serve(bot, allow_remote=args.allow_remote)
    return EXIT_OK


def _variants(args) -> list[dict]:
    """The cartesian product of the comma-separated variant options."""
    from itertools import product

    from assistant.config import load_settings

    defaults = load_settings()

    def values(option: str | None, default, convert=str) -> list:
        return [convert(v.strip()) for v in option.split(",") if v.strip()] if option else [default]

    try:
        switch = {"on": True, "off": False}
        combos = product(
            values(args.backend, defaults.backend),
            values(args.retrieval, defaults.retrieval),
            values(args.passage_tokens, defaults.passage_tokens, int),
            values(args.rewrite, "on"),
            values(args.reader, "on" if defaults.reader else "off"),
            values(args.rerank, "on" if defaults.rerank else "off"),
            values(args.rerank_cap, defaults.rerank_cap, int),
        )
        return [
            {"backend": b, "retrieval": r, "passage_tokens": t, "rewrite_followups": switch[w], "reader": switch[d],
             "rerank": switch[x], "rerank_cap": cap}
            for b, r, t, w, d, x, cap in combos
        ]
    except (ValueError, KeyError) as error:
        raise UserError(f"bad variant option: {error}") from error


def _eval(args) -> int:
    from pathlib import Path

    from assistant.config import load_settings
    from assistant.evaluation import evaluate, evaluate_squad, format_squad_table, format_table
    from assistant.squad import read_squad, write_corpus

    reports = []
    configured = load_settings()
    qa_file = Path(args.qa_file)
    squad = read_squad(qa_file) if qa_file.suffix.lower() == ".json" else None
    base_dir = Path(args.data_dir) if args.data_dir else configured.data_dir
    if squad is not None:  # the benchmark's articles are the corpus, kept beside the main index
        base_dir = base_dir.with_name(f"{base_dir.name}-squad")
        write_corpus(squad, base_dir / "corpus")
        args.corpus_dir = str(base_dir / "corpus")
        base_dir = base_dir / "index"
    model = None  # loaded once, shared by every variant
    for variant in _variants(args):
        # A passage size other than the configured one gets its own index, so the main one is kept.
        tokens = variant["passage_tokens"]
        data_dir = base_dir if tokens == configured.passage_tokens else base_dir.with_name(f"{base_dir.name}-{tokens}t")
        args.backend = variant["backend"]
        bot = _assistant(argparse.Namespace(**{**vars(args), "data_dir": str(data_dir)}), embeddings=model, **variant)
        model = bot.index.embeddings.inner
        if squad is not None:
            report = evaluate_squad(bot, squad, str(qa_file), limit=args.limit)
            print(f"\n{report.variant}\n{format_squad_table(report)}")
        else:
            report = evaluate(bot, qa_file, article=args.article)
        reports.append(report)
    if squad is None:
        print(format_table(reports))
    report_path = Path(args.report)
    payload = [r.to_dict() for r in reports]
    report_path.write_text(json.dumps(payload if len(payload) > 1 else payload[0], ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"report written to {report_path}")
    return EXIT_OK


def _articles(args) -> int:
    bot = _assistant(args)
    listed = bot.articles()
    _report_problems(bot)
    if args.json:
        _say(json.dumps([a.to_dict() for a in listed], ensure_ascii=False, indent=2))
    else:
        for article in listed:
            _say(f"{article.id}\t{article.title}\t{article.url or article.path}")
    return EXIT_OK


COMMANDS = {"ask": _ask, "chat": _chat, "index": _index, "serve": _serve, "articles": _articles, "eval": _eval}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        for name in ("question", "article"):
            if hasattr(args, name):
                setattr(args, name, _argument_text(getattr(args, name)))
        status = COMMANDS[args.command](args)
        # Work is done: spare the interpreter a last sweep over the model's objects at exit
        # (bench/cold_start.py: `assistant ask` 7.7 s -> 6.4 s).
        gc.freeze()
        return status
    except UserError as error:
        _say(f"error: {error}", file=sys.stderr, keep="")
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader (`| head`) left early: nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:  # the promise is one line, not a traceback
        if isinstance(error, OSError) and error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            # A data dir (or another path) the user may not write or read: theirs to fix, not an internal error.
            _say(f"error: {error.strerror}: {error.filename or 'a file the command needs'}", file=sys.stderr, keep="")
            return EXIT_USAGE
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        _say(f"internal error: {type(error).__name__}: {error}", file=sys.stderr, keep="")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
