"""The web chat: ask about the articles in the corpus, read answers with their cited passages.

Everything here is presentation. Questions, history and re-scans go straight to the
``Assistant``; citations are rendered from the ``Answer`` it returns, never recomputed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import gradio as gr

from assistant.answer.model import Answer, Citation
from assistant.core import ALL_ARTICLES, Assistant
from assistant.errors import UserError

SOURCES_TITLE = "Sources"
NOTE_TITLE = "Note"
BACKEND_CHOICES = [
    ("Quotes from the article (offline)", "extractive"),
    ("OpenAI-compatible server", "openai"),
    ("Ollama", "ollama"),
    ("Local GGUF (llama.cpp)", "llamacpp"),
]
ERROR_TITLE = "Could not answer"
# System fonts: the web font Gradio bundles lacks some bold glyphs (a bold "A" falls back to another
# font), and system fonts need no download.
THEME = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"])
# Passages in the Sources box at reading size: Gradio draws such boxes small and faded, as asides.
CSS = """
#chat .thought-group .content * { font-size: var(--text-md); }
#chat .thought-group .message-content { opacity: 1; }
"""
# Gradio scrolls the chat before the Sources box has finished drawing, which leaves it cut off.
SCROLL_TO_END = "() => setTimeout(() => document.querySelector('#chat .bubble-wrap')?.scrollTo({top: 1e9}), 500)"
# One Assistant serves every tab: questions, re-scans and API calls take turns, so a question never
# reads the index while a re-scan rewrites it (and two cores are not split between them).
ONE_AT_A_TIME = {"concurrency_id": "assistant", "concurrency_limit": 1}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~$])")


def _escape(text: str) -> str:
    """Article text is shown literally: a '*' or '#' in a quote must not turn into formatting."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _citation_markdown(c: Citation) -> str:
    """Title and source link, then the passage with the quoted sentence in bold, so the quote can be
    checked in its context."""
    if c.url:
        where = f"[{_escape(c.url.split('://', 1)[-1].rstrip('/'))}]({c.url})"
    else:
        where = f"`{c.source}`"  # a local file: browsers will not open file:// links from a web page
    a, b = c.quote_start - c.start, c.quote_end - c.start
    if 0 <= a < b <= len(c.text):
        passage = f"{_escape(c.text[:a])}**{_escape(c.text[a:b])}**{_escape(c.text[b:])}"
    else:
        passage = f"**{_escape(c.quote)}**\n\n{_escape(c.text)}"
    quoted = "\n".join(f"> {line}" for line in passage.split("\n"))  # passages can span paragraphs
    warning = "" if c.supported else "\n\n⚠ **Not supported:** this passage does not back the sentence that cites it."
    return f"**[{c.n}] {_escape(c.title)}** · {where}\n\n{quoted}{warning}"


def note_message(answer: Answer) -> dict | None:
    """A "Note" box when the answer was checked and changed, or given by the fallback."""
    lines = [f"- {_escape(answer.note)}"] if answer.note else []
    lines += [f"- ⚠ Unsupported by its citation: {_escape(s)}" for s in answer.unsupported_sentences]
    if not lines:
        return None
    return {"role": "assistant", "content": "\n".join(lines), "metadata": {"title": NOTE_TITLE}}


def sources_message(answer: Answer) -> dict | None:
    """The "Sources" box shown under an answer; None when nothing was found (nothing to cite)."""
    if not answer.citations:
        return None
    count = len(answer.citations)
    return {
        "role": "assistant",
        "content": "\n\n---\n\n".join(_citation_markdown(c) for c in answer.citations),
        "metadata": {"title": SOURCES_TITLE, "log": f"{count} cited passage{'s' if count > 1 else ''}"},
    }


def _text(message: dict) -> str:
    """Gradio hands chat messages back with content as a list of parts; join the text ones."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def history_pairs(messages: list[dict]) -> list[tuple[str, str]]:
    """Earlier (question, answer) turns for follow-ups; source and error boxes are not answers."""
    pairs, question = [], None
    for message in messages:
        if message["role"] == "user":
            question = _text(message)
        elif question is not None and not (message.get("metadata") or {}).get("title"):
            pairs.append((question, _text(message)))
            question = None
    return pairs


def _picker(bot: Assistant, current: str | None = None) -> dict:
    """Dropdown choices as the corpus is now; keeps the user's pick if it still exists."""
    choices = [(a.title, a.id) for a in bot.articles()]
    if len(choices) > 1:
        choices.insert(0, ("All articles", ALL_ARTICLES))
    values = [value for _, value in choices]
    return {"choices": choices, "value": current if current in values else (values[0] if values else None)}


def _status(bot: Assistant) -> str:
    """One line on what the last scan found, e.g. "2 articles; 1 added; skipped broken.pdf: reason"."""
    count = len(bot.articles())
    parts = [f"{count} article{'s' if count != 1 else ''}"]
    report = bot.last_sync
    if report:
        parts += [f"{len(ids)} {name}" for name, ids in
                  (("added", report.added), ("updated", report.updated), ("removed", report.removed)) if ids]
        parts += [str(problem) for problem in report.problems]
    return "; ".join(parts)


def build_app(bot: Assistant) -> gr.Blocks:
    """The chat page, plus the ``/ask`` endpoint scripts call with gradio_client.

    Launch it with ``theme=THEME, css=CSS`` (``serve`` does): Gradio 6 takes both at launch.
    """

    def chat(question: str, messages: list[dict], article: str | None) -> Iterator[tuple[str, list[dict]]]:
        """Stream the answer into the chat, then add its cited passages in a box under it."""
        question = (question or "").strip()
        if not question:
            yield "", messages
            return
        history = history_pairs(messages)
        messages = [*messages, {"role": "user", "content": question}]
        yield "", messages
        reply = {"role": "assistant", "content": ""}
        try:
            for event in bot.stream(question, article=article, history=history):
                if isinstance(event, Answer):
                    reply["content"] = event.text
                    boxes = [box for box in (note_message(event), sources_message(event)) if box]
                    yield "", [*messages, reply, *boxes]
                else:
                    reply["content"] += event
                    yield "", [*messages, reply]
        except UserError as error:
            yield "", [*messages, {"role": "assistant", "content": str(error), "metadata": {"title": ERROR_TITLE}}]

    def ask(question: str, article: str = ALL_ARTICLES) -> dict:
        """Answer one question about the corpus (article id, or "all") with quoted, cited passages."""
        try:
            return bot.ask(question, article=article).to_dict()
        except UserError as error:
            raise gr.Error(str(error)) from error

    def choose_backend(backend: str) -> str:
        """Answer with another backend from the next question on; its settings come from the environment."""
        bot.use_backend(backend)
        return _status(bot) + f"; answering with {backend}"

    def rescan(current: str | None) -> tuple[gr.Dropdown, str]:
        """Pick up articles dropped into (or removed from) the corpus folder without a restart."""
        bot.sync()
        return gr.Dropdown(**_picker(bot, current)), _status(bot)

    with gr.Blocks(title="Article Assistant", analytics_enabled=False, fill_height=True) as app:
        gr.Markdown("## Article Assistant\nAsk about the article. Answers quote it word for word and cite "
                    "the passage each quote comes from.")
        with gr.Row():
            picker = gr.Dropdown(label="Article", scale=4, **_picker(bot))
            backend = gr.Dropdown(label="Answering with", choices=BACKEND_CHOICES, value=bot.settings.backend, scale=2)
            with gr.Column(scale=1, min_width=200):
                rescan_button = gr.Button("Re-scan corpus", variant="secondary")
        status = gr.Markdown(_status(bot), elem_id="status")
        chatbot = gr.Chatbot(
            show_label=False, elem_id="chat", scale=1, latex_delimiters=[],
            feedback_options=None, buttons=["copy"],
            placeholder="Ask a question, e.g. *What did the study find?* Follow-up questions keep the context.",
        )
        question = gr.Textbox(
            show_label=False, placeholder="Ask a question about the article…", submit_btn="Ask", autofocus=True
        )

        question.submit(chat, [question, chatbot, picker], [question, chatbot], api_name="chat", **ONE_AT_A_TIME).then(
            None, js=SCROLL_TO_END, api_visibility="private"
        )
        rescan_button.click(rescan, [picker], [picker, status], api_name="rescan", **ONE_AT_A_TIME)
        backend.change(choose_backend, [backend], [status], api_name="backend", **ONE_AT_A_TIME)
        app.load(  # a page opened after a re-scan in another tab sees the current articles
            lambda current: gr.Dropdown(**_picker(bot, current)), [picker], [picker],
            api_visibility="private", **ONE_AT_A_TIME,
        )
        gr.api(ask, api_name="ask", **ONE_AT_A_TIME)
    return app


def serve(bot: Assistant, host: str | None = None, port: int | None = None, *, block: bool = True) -> gr.Blocks:
    """Launch the chat on this machine only (no share link); ``block=False`` returns once it is up."""
    app = build_app(bot)
    # The model loads in the background while the page is already served (bench/memory.py: the first
    # question otherwise waits 5.3 s for it).
    threading.Thread(target=bot.warm_up, name="warm-up", daemon=True).start()
    app.launch(
        server_name=host or bot.settings.host,
        server_port=port or bot.settings.port,
        share=False,
        ssr_mode=False,
        theme=THEME,
        css=CSS,
        prevent_thread_lock=not block,
        quiet=not block,
    )
    return app
