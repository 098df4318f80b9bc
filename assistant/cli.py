"""The ``assistant`` command: ask, chat, index, serve, articles.

Exit codes: 0 answered (found or not), 2 bad usage or bad input (one line on stderr),
1 internal error (one line on stderr; ``ASSISTANT_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap

from assistant.errors import UserError

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Ask questions about the articles in corpus/.")
    parser.add_argument("--corpus-dir", help="folder of articles (default: ./corpus, env ASSISTANT_CORPUS_DIR)")
    parser.add_argument("--data-dir", help="where the index lives (env ASSISTANT_DATA_DIR)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--article", help="article id, or 'all' (default: the only article, else all)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--backend", choices=["extractive"], help="answering backend")
    ask.add_argument("--top-k", type=int, help="passages retrieved (default 4)")

    chat = commands.add_parser("chat", help="a conversation in the terminal, with follow-up questions")
    chat.add_argument("--article")
    chat.add_argument("--backend", choices=["extractive"])

    index = commands.add_parser("index", help="sync corpus/ into the index")
    index.add_argument("--rebuild", action="store_true", help="start over: re-embed everything")

    serve = commands.add_parser("serve", help="start the web chat")
    serve.add_argument("--host", help="default 127.0.0.1")
    serve.add_argument("--port", type=int, help="default 7860")

    articles = commands.add_parser("articles", help="list the indexed articles")
    articles.add_argument("--json", action="store_true")
    return parser


def _assistant(args):
    from pydantic import ValidationError

    from assistant.core import Assistant

    overrides = {"backend": getattr(args, "backend", None), "host": getattr(args, "host", None), "port": getattr(args, "port", None)}
    try:
        return Assistant(corpus_dir=args.corpus_dir, data_dir=args.data_dir, **overrides)
    except ValidationError as error:
        first = error.errors()[0]
        raise UserError(f"bad setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from error


def _report_problems(bot) -> None:
    for problem in bot.last_sync.problems if bot.last_sync else []:
        print(f"warning: {problem}", file=sys.stderr)


def _format_answer(answer) -> str:
    lines = [answer.text]
    for citation in answer.citations:
        where = citation.url or citation.source
        excerpt = textwrap.shorten(citation.text, width=160, placeholder=" …")
        lines.append(f"  [{citation.n}] {citation.title} — {excerpt}\n      {where} (chars {citation.start}–{citation.end})")
    return "\n".join(lines)


def _ask(args) -> int:
    if args.top_k is not None and args.top_k < 1:
        raise UserError("--top-k must be at least 1")
    bot = _assistant(args)
    bot.sync()
    _report_problems(bot)
    answer = bot.ask(args.question, article=args.article, top_k=args.top_k)
    print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if args.json else _format_answer(answer))
    return EXIT_OK


def _chat(args) -> int:
    from assistant.answer.model import Answer

    bot = _assistant(args)
    bot.sync()
    _report_problems(bot)
    titles = ", ".join(a.title for a in bot.articles())
    print(f"Asking about: {titles}\nEmpty line or Ctrl-D to quit.")
    history: list[tuple[str, str]] = []
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return EXIT_OK
        if not question:
            return EXIT_OK
        try:
            answer = None
            print("assistant> ", end="", flush=True)
            for event in bot.stream(question, article=args.article, history=history):
                if isinstance(event, Answer):
                    answer = event
                else:
                    print(event, end="", flush=True)
            print()
            print("\n".join(_format_answer(answer).splitlines()[1:]))
            history.append((question, answer.text))
        except UserError as error:
            print(f"\nerror: {error}", file=sys.stderr)


def _index(args) -> int:
    bot = _assistant(args)
    if args.rebuild:
        bot.index.rebuild()
    from assistant.index import tqdm_progress

    report = bot.sync(progress=tqdm_progress)
    _report_problems(bot)
    print(f"indexed {len(bot.index.articles)} article(s): {report.summary()}")
    return EXIT_OK


def _serve(args) -> int:
    from ui.app import serve

    bot = _assistant(args)
    serve(bot)
    return EXIT_OK


def _articles(args) -> int:
    bot = _assistant(args)
    listed = bot.articles()
    _report_problems(bot)
    if args.json:
        print(json.dumps([a.to_dict() for a in listed], ensure_ascii=False, indent=2))
    else:
        for article in listed:
            print(f"{article.id}\t{article.title}\t{article.url or article.path}")
    return EXIT_OK


COMMANDS = {"ask": _ask, "chat": _chat, "index": _index, "serve": _serve, "articles": _articles}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the promise is one line, not a traceback
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        print(f"internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
