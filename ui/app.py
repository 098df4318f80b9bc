"""The web chat: ask about the articles in the corpus, read answers with their cited passages.

Everything here is presentation. Questions, history and re-scans go straight to the
``Assistant``; citations are rendered from the ``Answer`` it returns, never recomputed.
"""

from __future__ import annotations

import errno
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from assistant.answer.intents import GREETING, HELP, THANKS
from assistant.answer.model import Answer, Citation
from assistant.core import ALL_ARTICLES, Assistant
from assistant.corpus import SUPPORTED_SUFFIXES
from assistant.errors import UserError
from assistant.index import tqdm_progress
from assistant.questions import normalise_question
from assistant.uploads import add_upload, too_large
from ui import security
from ui.admission import PLAN_SHARE, Admission, AdmissionDoor
from ui.heap import HeapTrimmer, malloc_trim
from ui.article_pane import article_html, citation_href
from ui.sessions import SessionBackends, probe

SOURCES_TITLE = "Sources"
NOTE_TITLE = "Note"
BACKEND_CHOICES = [
    ("Quotes from the article (offline)", "extractive"),
    ("OpenAI-compatible server", "openai"),
    ("Ollama", "ollama"),
    ("Local GGUF (llama.cpp)", "llamacpp"),
]
# Replies to "hi", "thanks" and "what can you do" list questions the article answers: clickable ones.
OFFERING_INTENTS = (GREETING, THANKS, HELP)
BACKEND_LABELS = dict((value, label) for label, value in BACKEND_CHOICES)
ERROR_TITLE = "Could not answer"
OVERVIEW_TITLE = "In short"
BACKEND_FAILED = "⚠ **Cannot use this backend:**"
UPLOAD_REFUSED = "⚠ **Not added:**"
SUGGESTION_CHIPS = 5
# Conversations kept in the browser (localStorage): the latest messages of the latest articles.
BROWSER_STORAGE_KEY = "article-assistant-chats"
MAX_SAVED_ARTICLES = 20
MAX_SAVED_MESSAGES = 200
# All kept chats together, in characters of JSON: every page event sends them back (security.PAGE_EVENT_BYTES).
MAX_SAVED_CHARS = 1_000_000
STATIC = Path(__file__).resolve().parent / "static"
# System fonts: the web font Gradio bundles lacks some bold glyphs (a bold "A" falls back to another
# font), and system fonts need no download.
THEME = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"])
# The two panes, phone layout and citation highlight (ui/static/page.css); citation clicks, the phone
# tabs and the Sources toggles' aria-expanded (ui/static/page.js, run as a document-level script).
CSS = (STATIC / "page.css").read_text(encoding="utf-8")
HEAD = (f"<style>{(STATIC / 'page-global.css').read_text(encoding='utf-8')}</style>"
        f"<script>{(STATIC / 'page.js').read_text(encoding='utf-8')}</script>")
INDEXING_NOTE = "Indexing the article… the page fills in as soon as it is ready."
LOADING_NOTE = "Loading the model… a question asked now is answered as soon as it is ready."
# The first scan finished while this page waited for it: load the page again, now with the corpus.
RELOAD_WHEN_INDEXED = "(waited, indexed) => { if (waited && indexed) window.location.reload(); }"
# A conversation that is only the overview is shown from its top (Gradio scrolls every update to the end).
OVERVIEW_FROM_TOP = ("() => setTimeout(() => { const wrap = document.querySelector('#chat .bubble-wrap');"
                     " if (wrap && wrap.querySelectorAll('.user-row').length === 0) wrap.scrollTo({top: 0}); }, 800)")
# Gradio scrolls the chat before the Sources box has finished drawing, which leaves it cut off.
SCROLL_TO_END = "() => setTimeout(() => document.querySelector('#chat .bubble-wrap')?.scrollTo({top: 1e9}), 500)"
# Gradio's queue runs each event group with its own number of workers. Quoted answers (chat and /ask) are
# admitted by ui/admission.py: ``answer_slots`` answer at once (the Assistant's read lock lets them run side
# by side, and an answer is ~0.1 s of mostly ONNX work that releases the GIL, so a few keep both cores
# busy), and a question that could not be answered within ``answer_within_seconds`` is told "busy" at once
# (both settings, assistant/config.py).
# Gradio's group has no limit of its own, so that questions reach that check at once instead of waiting
# in its queue (bench/capacity.py: with a limit of 16, at 150 % of capacity they waited 33-43 s there and
# none was told "busy"); QUESTION_THREADS bounds the threads, which the check keeps from filling up. Re-scans and
# backend switches run one at a time (the write lock excludes questions anyway); page loads have their own
# group, so a busy question queue never stalls opening the page. At most QUEUE_SIZE events wait.
PAGE_WORKERS = 4
QUESTION_THREADS = 256
QUEUE_SIZE = 200
QUESTIONS = {"concurrency_id": "questions", "concurrency_limit": None}
INDEX_CHANGES = {"concurrency_id": "index", "concurrency_limit": 1}
PAGE_LOADS = {"concurrency_id": "page", "concurrency_limit": PAGE_WORKERS}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~$&])")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]<>#|~$&])")
_BOLD = "**"
_MARKER = re.compile(r"\\\[(\d+)\\\]")  # an escaped "[n]" in answer_markdown's output
_WEB_LINK = re.compile(r"https?://[^\s()<>\[\]`]+")


def _escape(text: str) -> str:
    """Article text is shown literally: a '*', '#' or '<img>' in a quote must not turn into formatting or HTML."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)


def answer_markdown(text: str) -> str:
    """An answer as chat Markdown: its words literal (quotes are article text), keeping only the ``**bold**``
    the answerer puts on the answering span. Its "- " lists and [n] markers read the same escaped."""
    return _BOLD.join(_escape(part) for part in text.split(_BOLD))


def _code_span(text: str) -> str:
    """``text`` as inline code, fenced by one more backtick than the longest run inside it (CommonMark)."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def _citation_markdown(c: Citation) -> str:
    """Title and source link, then the passage with the quoted sentence in bold, so the quote can be
    checked in its context."""
    if c.url and _WEB_LINK.fullmatch(c.url):
        where = f"[{_escape(c.url.split('://', 1)[-1].rstrip('/'))}]({c.url})"
    else:
        where = _code_span(c.source)  # a local file: browsers will not open file:// links from a web page
    a, b = c.quote_start - c.start, c.quote_end - c.start
    if 0 <= a < b <= len(c.text):
        passage = f"{_escape(c.text[:a])}**{_escape(c.text[a:b])}**{_escape(c.text[b:])}"
    else:
        passage = f"**{_escape(c.quote)}**\n\n{_escape(c.text)}"
    quoted = "\n".join(f"> {line}" for line in passage.split("\n"))  # passages can span paragraphs
    warning = "" if c.supported else "\n\n⚠ **Not supported:** this passage does not back the sentence that cites it."
    return f"**[{c.n}] {_escape(c.title)}** · {where}\n\n{quoted}{warning}"


def linked_answer_markdown(answer: Answer) -> str:
    """``answer_markdown`` with each [n] a link to its quote in the article pane (offsets in the link, the
    quote as its hover title)."""
    cited = {c.n: c for c in answer.citations}

    def link(marker: re.Match) -> str:
        c = cited.get(int(marker.group(1)))
        if c is None:
            return marker.group(0)
        title = " ".join(c.quote.split()).replace("\\", "\\\\").replace('"', '\\"')
        return f'[\\[{c.n}\\]]({citation_href(c)} "{title}")'

    markdown = _MARKER.sub(link, answer_markdown(answer.text))
    if answer.intent in OFFERING_INTENTS:  # "You could ask:" and a "- question" per line: each one a link that asks it
        markdown = "\n".join(_ask_link(line) if line.startswith("- ") else line for line in markdown.split("\n"))
    return markdown


def _ask_link(line: str) -> str:
    """A "- question" line (its words escaped) as a list item whose question is a link asking it (page.js: #ask:)."""
    shown = line[len("- "):]
    question = _ESCAPED.sub(r"\1", shown)
    return f"- [{shown}](#ask:{quote(question)})"


def note_message(answer: Answer) -> dict | None:
    """A "Note" box when the answer was checked and changed, or given by the fallback."""
    lines = [f"- {_escape(answer.note)}"] if answer.note else []
    lines += [f"- ⚠ Unsupported by its citation: {_escape(s)}" for s in answer.unsupported_sentences]
    if not lines:
        return None
    return {"role": "assistant", "content": "\n".join(lines), "metadata": {"title": NOTE_TITLE}}


def _origin(c: Citation) -> str:
    """Where a cited passage comes from, short enough for the collapsed Sources line: site or file name."""
    if c.url and _WEB_LINK.fullmatch(c.url):
        return c.url.split("://", 1)[-1].split("/", 1)[0]
    return Path(c.source).name


def without_server_paths(payload: dict, corpus_dir: Path) -> dict:
    """An answer's JSON for visitors: each citation's source named inside the corpus folder, never by a server path."""
    root = corpus_dir.resolve()
    for citation in payload["citations"]:
        path = Path(citation["source"])
        source = path.resolve()
        citation["source"] = str(source.relative_to(root)) if source.is_relative_to(root) else path.name
    return payload


def sources_message(answer: Answer) -> dict | None:
    """The "Sources" box shown under an answer; None when nothing was found (nothing to cite)."""
    if not answer.citations:
        return None
    count = len(answer.citations)
    origins = ", ".join(dict.fromkeys(_origin(c) for c in answer.citations))
    return {
        "role": "assistant",
        "content": "\n\n---\n\n".join(_citation_markdown(c) for c in answer.citations),
        "metadata": {"title": SOURCES_TITLE, "log": f"{count} cited passage{'s' if count > 1 else ''} · {origins}",
                     "status": "done"},  # "done" boxes start collapsed: the answer stays in view
    }


def _text(message: dict) -> str:
    """The words of a chat message as first written: Gradio hands content back as a list of parts (joined
    here), in the escaped Markdown the chat showed (undone here)."""
    content = message["content"]
    if not isinstance(content, str):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return _unescape(content.replace(_BOLD, ""))


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
    """Dropdown choices as the corpus is now (one article at a time: the pane shows one): the user's pick if
    it still exists, else the default article setting, else the first by id."""
    choices = [(a.title, a.id) for a in bot.articles()]
    values = [value for _, value in choices]
    chosen = next((v for v in (current, bot.settings.default_article) if v in values), values[0] if values else None)
    return {"choices": choices, "value": chosen}


def _status(bot: Assistant) -> str:
    """One line on what the last scan found, e.g. "2 articles; 1 added; skipped broken.pdf: reason"."""
    count = len(bot.articles())
    parts = [f"{count} article{'s' if count != 1 else ''}"]
    report = bot.last_sync
    if report:
        parts += [f"{len(ids)} {name}" for name, ids in
                  (("added", report.added), ("updated", report.updated), ("removed", report.removed)) if ids]
        parts += [report.disk] if report.disk else []
        parts += [str(problem) for problem in report.problems] + report.notices
    return _escape("; ".join(parts))  # file names are not Markdown


def _library_needs_a_look(bot: Assistant) -> bool:
    """The Library opens by itself when the last scan skipped a file, so the reason is seen."""
    return bool(bot.last_sync and bot.last_sync.problems)


def _plain(messages: list[dict]) -> list[dict]:
    """Chat messages with their content as one Markdown string, to keep in the browser (bounded)."""
    kept = [{**m, "content": m["content"] if isinstance(m["content"], str) else
             "".join(part.get("text", "") for part in m["content"] if isinstance(part, dict))} for m in messages]
    return kept[-MAX_SAVED_MESSAGES:]


def _within_budget(chats: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The chats cut to MAX_SAVED_CHARS: the oldest articles' chats go first, then the oldest messages of
    the newest one, so what the browser keeps (and sends back) stays bounded."""
    sizes = {article: [len(json.dumps(m, ensure_ascii=False)) for m in messages] for article, messages in chats.items()}
    total = sum(map(sum, sizes.values()))
    kept = dict(chats)
    for article in list(kept)[:-1]:
        if total <= MAX_SAVED_CHARS:
            break
        total -= sum(sizes.pop(article))
        del kept[article]
    if total > MAX_SAVED_CHARS and kept:
        newest = list(kept)[-1]
        cut = 0
        while total > MAX_SAVED_CHARS and cut < len(sizes[newest]):
            total -= sizes[newest][cut]
            cut += 1
        kept[newest] = kept[newest][cut:]
    return kept


class _EmbeddingProgress:
    """The index's progress callback (``ProgressFactory``) shown as Gradio's progress bar."""

    def __init__(self, progress: gr.Progress, total: int, description: str):
        self.progress, self.total, self.description, self.done = progress, max(total, 1), description, 0
        progress(0, desc=description)

    def update(self, count: int) -> None:
        self.done += count
        self.progress(self.done / self.total, desc=self.description)

    def close(self) -> None:
        self.progress(1.0, desc=self.description)


def build_app(bot: Assistant, admission: Admission, warming: threading.Event | None = None) -> gr.Blocks:
    """The reading-and-chat page, plus the ``/ask`` endpoint scripts call with gradio_client.

    ``warming`` is set once the models are loaded; until then the page says they are loading. ``admission``
    is shared with the door in front of the REST routes (``serve`` makes one for both).
    Launch it with ``theme=THEME, css=CSS, head=HEAD`` (``serve`` does): Gradio 6 takes them at launch.
    """
    sessions = SessionBackends(bot)

    def admitted(session: str | None, let_in_at: float | None) -> AbstractContextManager:
        """A slot for a quoted answer (CPU work on this machine); an LLM's answer is waited for elsewhere."""
        return admission.admit(let_in_at) if sessions.backend(session) == "extractive" else nullcontext()

    def answer_events(session: str | None, question: str, article: str | None, history) -> Iterator:
        """The answer's stream: a quoted answer (~0.1 s) is worked out inside its slot, then streamed; an
        LLM's streams as it comes. A question that cannot be asked is refused before it takes a slot."""
        normalise_question(question)
        assistant = sessions.assistant(session)
        if sessions.backend(session) != "extractive":
            yield from assistant.stream(question, article=article, history=history)
            return
        with admission.admit():
            events = list(assistant.stream(question, article=article, history=history))
        yield from events

    def chat(question: str, messages: list[dict], article: str | None,
             request: gr.Request) -> Iterator[tuple[str | dict, list[dict]]]:
        """Stream the answer into the chat, then add its cited passages in a box under it."""
        question = (question or "").strip()
        if not question:
            yield "", messages
            return
        history = history_pairs(messages)
        messages = [*messages[-MAX_SAVED_MESSAGES:], {"role": "user", "content": _escape(question)}]
        # The box is emptied once: later updates leave it alone, so a next question typed while this answer
        # streams is not wiped (a browser test's third question was, under load).
        yield "", messages
        text = ""
        try:
            for event in answer_events(request.session_hash, question, article, history):
                if isinstance(event, Answer):
                    reply = {"role": "assistant", "content": linked_answer_markdown(event)}
                    boxes = [box for box in (note_message(event), sources_message(event)) if box]
                    yield gr.skip(), [*messages, reply, *boxes]
                else:
                    text += event
                    yield gr.skip(), [*messages, {"role": "assistant", "content": answer_markdown(text)}]
        except UserError as error:
            yield gr.skip(), [*messages, {"role": "assistant", "content": _escape(str(error)), "metadata": {"title": ERROR_TITLE}}]

    def ask(question: str, request: gr.Request, article: str = ALL_ARTICLES) -> dict:
        """Answer one question about the corpus (article id, or "all") with quoted, cited passages."""
        let_in_at = admission.settle()  # let in at the door: from here it is counted by its slot, if it takes one
        try:
            normalise_question(question)  # a refused question never waits for a slot
            with admitted(request.session_hash, let_in_at):
                answer = sessions.assistant(request.session_hash).ask(question, article=article)
            return without_server_paths(answer.to_dict(), Path(bot.settings.corpus_dir))
        except UserError as error:
            # The caller gets the one line; the server's log gets nothing (a refused input is not a fault).
            raise gr.Error(str(error), print_exception=False) from error

    def choose_backend(backend: str, request: gr.Request) -> str:
        """This session answers with ``backend`` from the next question on, after one quick probe of it."""
        sessions.choose(request.session_hash, backend)
        failure = probe(bot.settings, backend)
        if failure is None:
            return _escape(f"Now answering with: {BACKEND_LABELS[backend]}.")
        return f"{BACKEND_FAILED} " + _escape(f"{failure}. Until it answers, the answers are quotes from the article.")

    def show_backend_note(note: str) -> tuple[gr.Markdown, gr.Button]:
        """A failed probe is shown in red, with the way back to quotes next to it."""
        failed = note.startswith(BACKEND_FAILED)
        return gr.Markdown(elem_classes=["failed"] if failed else []), gr.Button(visible=failed)

    def rescan(current: str | None) -> tuple[gr.Dropdown, str]:
        """Pick up articles dropped into (or removed from) the corpus folder without a restart."""
        bot.sync()
        return gr.Dropdown(**_picker(bot, current)), _status(bot)

    def add_article(upload: str | None, replace: bool, current: str | None,
                    progress=gr.Progress()) -> tuple[gr.Dropdown, str, str, None]:
        """Check an uploaded file, put it in the corpus, index it, and select it (or say why not)."""
        if not upload:
            return gr.Dropdown(**_picker(bot, current)), _status(bot), "", None
        if bot.settings.read_only:
            note = f"{UPLOAD_REFUSED} this server only reads the index: add articles where the indexer runs."
            return gr.Dropdown(**_picker(bot, current)), _status(bot), note, None
        try:
            saved = add_upload(Path(upload), Path(upload).name, Path(bot.settings.corpus_dir),
                               bot.settings.max_upload_mb, replace=replace)
        except UserError as error:
            return gr.Dropdown(**_picker(bot, current)), _status(bot), f"{UPLOAD_REFUSED} {_escape(str(error))}", None
        report = bot.sync(progress=lambda total, description: _EmbeddingProgress(progress, total, description))
        added = next((a for a in bot.articles() if Path(a.path).name == saved.name), None)
        if added is None:
            problem = next((str(p) for p in report.problems if p.path.name == saved.name), "it could not be indexed")
            return gr.Dropdown(**_picker(bot, current)), _status(bot), f"{UPLOAD_REFUSED} {_escape(problem)}", None
        note = _escape(" ".join([f"Added {saved.name} as “{added.title}”.",
                                 *(f"{line}." for line in report.notices if line.startswith(f"read {saved.name}:"))]))
        return gr.Dropdown(**_picker(bot, added.id)), _status(bot), note, None

    def refuse_large_upload(details: str) -> str:
        """The Library note for a file the page refused before sending it (page.js: over the limit), worded
        as the server words a refusal. ``details`` is the page's {"name", "bytes"}; anything else says nothing."""
        try:
            file = json.loads(details[:1000])
            name, size = " ".join(str(file["name"]).split())[:200], int(file["bytes"])
        except (ValueError, TypeError, KeyError):
            return ""
        problem = too_large(name, size, bot.settings.max_upload_mb)
        return f"{UPLOAD_REFUSED} {_escape(problem)}" if problem else ""

    def open_article(article: str | None, saved: dict | None) -> tuple[str, list[dict], dict]:
        """Show the article and its own conversation (kept in the browser), never another article's turns.
        A new conversation opens with the article's cited overview in this same update (it is quick: stored
        vectors), so a question asked as soon as the article shows is never overwritten by a late overview."""
        saved = {"article": article, "chats": dict((saved or {}).get("chats") or {})}
        messages = saved["chats"].get(article) or []
        if not messages and article in bot.index.articles:
            overview = bot.overview(article)
            messages = [{"role": "assistant", "content": f"**{OVERVIEW_TITLE}**\n\n{linked_answer_markdown(overview)}"}]
            messages += [box for box in (sources_message(overview),) if box]
        return article_html(bot.index.articles.get(article or "")), messages, saved

    def suggestion_chips(article: str | None, messages: list[dict] | None = None) -> list[gr.Button]:
        """Suggested questions become chips, those not asked yet in the conversation (an asked one is
        replaced by the next). They are checked by asking them, seconds the first time for an article, so
        they come after the article and its overview, and touch nothing else."""
        asked = {" ".join(str(m["content"]).split()) for m in _plain(messages or []) if m.get("role") == "user"}
        offered = bot.suggestions(article) if article and article in bot.index.articles else []
        questions = [q for q in offered if _escape(q) not in asked][:SUGGESTION_CHIPS]
        chips = [gr.Button(q, visible=True) for q in questions]
        return chips + [gr.Button(visible=False) for _ in range(SUGGESTION_CHIPS - len(chips))]

    def forget_chat(article: str | None, saved: dict | None) -> dict:
        """Clear: the article's conversation is gone for good (a reload does not bring it back)."""
        chats = dict((saved or {}).get("chats") or {})
        chats.pop(article or "", None)
        return {"article": article, "chats": chats}

    def remember(article: str | None, messages: list[dict], saved: dict | None) -> dict:
        chats = dict((saved or {}).get("chats") or {})
        if article:
            chats.pop(article, None)
            chats[article] = _plain(messages)
        return {"article": article, "chats": _within_budget(dict(list(chats.items())[-MAX_SAVED_ARTICLES:]))}

    def indexed() -> bool:
        """The first scan of the corpus is over (``serve`` runs it in the background, after the page is up);
        a scan that failed is over too: the page then meets its error as before."""
        return warming is None or bot.last_sync is not None or warming.is_set()

    def waiting_note() -> gr.Markdown:
        """What the page is waiting for, if anything: the index first, then the models."""
        if not indexed():
            return gr.Markdown(INDEXING_NOTE, visible=True)
        return gr.Markdown(LOADING_NOTE, visible=not warming.is_set()) if warming else gr.Markdown(visible=False)

    def on_page_load(saved: dict | None) -> tuple:
        """The corpus as it is now, the article this browser had open, and what the page still waits for.
        While the first scan runs, the page shows that instead of waiting for it (the scan may embed for minutes)."""
        waiting = warming is not None and not warming.is_set()
        if not indexed():
            return gr.skip(), "", gr.skip(), waiting_note(), gr.Timer(active=True), True
        wanted = (saved or {}).get("article")
        return (gr.Dropdown(**_picker(bot, wanted)), _status(bot), gr.Accordion(open=_library_needs_a_look(bot)),
                waiting_note(), gr.Timer(active=waiting), False)

    def check_warm_up() -> tuple[gr.Markdown, gr.Timer, bool]:
        """Every second while the page waits; once indexed, a page that waited for it is loaded again."""
        return waiting_note(), gr.Timer(active=warming is not None and not warming.is_set()), indexed()

    with gr.Blocks(title="Article Assistant", analytics_enabled=False, fill_height=True) as app:
        saved_chats = gr.BrowserState({"article": None, "chats": {}}, storage_key=BROWSER_STORAGE_KEY,
                                      secret=BROWSER_STORAGE_KEY)
        with gr.Row(elem_id="header"):
            gr.Markdown("# Article Assistant", elem_id="brand")
            picker = gr.Dropdown(label="Article", scale=4, min_width=150, allow_custom_value=True,
                                 **(_picker(bot) if indexed() else {"choices": [], "value": None}))
            backend = gr.Dropdown(label="Answering with", choices=BACKEND_CHOICES, value=bot.settings.backend, scale=2,
                                  min_width=150)
        backend_note = gr.Markdown(elem_id="backend-note")
        use_quotes = gr.Button("Use quotes instead", visible=False, variant="primary", size="sm")
        loading = gr.Markdown(LOADING_NOTE, elem_id="loading", visible=False)
        warm_up_timer = gr.Timer(1.0, active=False)
        # Kept in the browser (not gr.State, which stays on the server), so the reload can read them.
        page_waited, page_indexed = gr.Checkbox(visible=False), gr.Checkbox(visible=False)
        gr.HTML('<div role="tablist" aria-label="Show">'
                '<button type="button" role="tab" data-pane-tab="article">Article</button>'
                '<button type="button" role="tab" data-pane-tab="chat">Chat</button></div>', elem_id="pane-tabs")
        with gr.Row(elem_id="panes", equal_height=True):
            with gr.Column(elem_id="article-pane", scale=1):
                article_pane = gr.HTML(article_html(None), elem_id="article")
            with gr.Column(elem_id="chat-pane", scale=1):
                chatbot = gr.Chatbot(
                    show_label=False, elem_id="chat", scale=1, latex_delimiters=[], sanitize_html=True,
                    allow_tags=False, feedback_options=None, buttons=["copy"],
                    placeholder="Ask a question about the article. Follow-up questions keep the context.",
                )
                with gr.Row(elem_id="chips"):
                    chips = [gr.Button(visible=False, size="sm", elem_classes=["chip"]) for _ in range(SUGGESTION_CHIPS)]
                question = gr.Textbox(label="Ask a question", show_label=False, elem_id="question",
                                      placeholder="Ask a question about the article…", submit_btn="Ask", autofocus=True)
        with gr.Accordion("Library", open=indexed() and _library_needs_a_look(bot), elem_id="library") as library:
            status = gr.Markdown(_status(bot) if indexed() else "", elem_id="status")
            upload = gr.File(label=f"Add an article (.txt, .md, .html or .pdf; up to {bot.settings.max_upload_mb} MB)", file_count="single",
                             file_types=list(SUPPORTED_SUFFIXES), type="filepath", elem_id="upload")
            replace = gr.Checkbox(label="Replace a file of the same name", value=False)
            upload_note = gr.Markdown(elem_id="upload-note")
            # Not shown (page.css): page.js writes a refused file's name and size here for refuse_large_upload.
            refused_upload = gr.Textbox(elem_id="upload-refused", show_label=False, container=False)
            rescan_button = gr.Button("Re-scan corpus", size="sm", variant="secondary")

        def show_article(event):
            """After the article changes: its pane and conversation (with the overview), then its chips."""
            return event.then(open_article, [picker, saved_chats], [article_pane, chatbot, saved_chats],
                              api_visibility="private", **PAGE_LOADS).then(None, js=OVERVIEW_FROM_TOP).then(
                suggestion_chips, [picker, chatbot], chips, api_visibility="private", **QUESTIONS)

        def ask_and_remember(event):
            return event.then(None, js=SCROLL_TO_END, api_visibility="private").then(
                remember, [picker, chatbot, saved_chats], [saved_chats], api_visibility="private", **PAGE_LOADS)

        ask_and_remember(question.submit(chat, [question, chatbot, picker], [question, chatbot], api_name="chat",
                                         **QUESTIONS))
        for chip in chips:
            ask_and_remember(chip.click(chat, [chip, chatbot, picker], [question, chatbot],
                                        api_visibility="private", **QUESTIONS))
        show_article(picker.input(lambda: None, api_visibility="private"))
        # An asked chip gives way to the next suggestion. Its own event, not a step after the question: the
        # first suggestions of an article take seconds, and a step after the question would hold the question
        # box (Gradio runs one submit at a time) for as long.
        chatbot.change(suggestion_chips, [picker, chatbot], chips, api_visibility="private", trigger_mode="always_last",
                       show_progress="hidden", **QUESTIONS)
        # After Clear, the conversation starts again as a new one does: with the overview.
        show_article(chatbot.clear(forget_chat, [picker, saved_chats], [saved_chats], api_visibility="private",
                                   **PAGE_LOADS))
        show_article(rescan_button.click(rescan, [picker], [picker, status], api_name="rescan", **INDEX_CHANGES))
        show_article(upload.upload(add_article, [upload, replace, picker], [picker, status, upload_note, upload],
                                   api_visibility="private", **INDEX_CHANGES))
        refused_upload.change(refuse_large_upload, [refused_upload], [upload_note], api_visibility="private", **PAGE_LOADS)
        backend.change(choose_backend, [backend], [backend_note], api_name="backend", **INDEX_CHANGES).then(
            show_backend_note, [backend_note], [backend_note, use_quotes], api_visibility="private")
        use_quotes.click(lambda: "extractive", None, [backend], api_visibility="private")
        show_article(app.load(on_page_load, [saved_chats], [picker, status, library, loading, warm_up_timer, page_waited],
                              api_visibility="private", **PAGE_LOADS))
        warm_up_timer.tick(check_warm_up, None, [loading, warm_up_timer, page_indexed], api_visibility="private",
                           show_progress="hidden").then(
            None, [page_waited, page_indexed], js=RELOAD_WHEN_INDEXED, api_visibility="private")
        def forget_session(request: gr.Request) -> None:
            sessions.forget(request.session_hash)

        app.unload(forget_session)
        gr.api(ask, api_name="ask", **QUESTIONS)
    app.queue(max_size=QUEUE_SIZE)
    return app


def _check_address(host: str, port: int, allow_remote: bool) -> None:
    """Refuse, in one line, an address other machines can reach unless allowed, or one already taken."""
    if not security.is_loopback(host):
        if not allow_remote:
            raise UserError(f"listening on {host} lets other machines use the assistant, with no login: "
                            "add --allow-remote to do so, or leave ASSISTANT_HOST/--host at 127.0.0.1")
        print(f"warning: serving on {host}:{port}: anyone who can reach this machine can use the assistant "
              "(no login)", file=sys.stderr)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: only a listener blocks it
        try:
            probe.bind((host, port))
        except OSError as error:
            taken = error.errno == errno.EADDRINUSE
            reason = "is in use" if taken else f"cannot be used ({error.strerror})"
            raise UserError(f"{host}:{port} {reason}: choose another port with --port or ASSISTANT_PORT") from error


def serve(bot: Assistant, host: str | None = None, port: int | None = None, *, block: bool = True,
          allow_remote: bool = False) -> gr.Blocks:
    """Launch the chat (no share link) on 127.0.0.1 unless told otherwise; another address needs
    ``allow_remote``. ``block=False`` returns once it is up."""
    host, port = host or bot.settings.host, port or bot.settings.port
    _check_address(host, port, allow_remote)
    warmed = threading.Event()
    say = (lambda line: print(line, file=sys.stderr, flush=True)) if block else (lambda line: None)

    def warm_up() -> None:
        started = time.monotonic()
        try:
            say(f"scanning {bot.settings.corpus_dir} (new and changed articles are embedded first)")
            bot.sync(progress=tqdm_progress if block else None)
            say(f"{len(bot.index.articles)} article(s) indexed; loading the models")
            bot.warm_up()
            say(f"ready in {time.monotonic() - started:.0f} s")
        except UserError as error:
            say(f"error: {error}")
        finally:
            warmed.set()

    # The corpus is scanned and the models load in the background while the page is already served (an
    # empty data dir took 15-27 s of "connection refused" before, bench/memory.py: the first question waits
    # 5.3 s for the models); the page says what it waits for meanwhile.
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    admission = Admission(bot.settings.answer_slots, PLAN_SHARE * bot.settings.answer_within_seconds)
    if bot.settings.trim_heap_when_idle:
        HeapTrimmer(admission, malloc_trim()).start()
    app = build_app(bot, admission, warming=warmed)
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        ssr_mode=False,
        theme=THEME,
        css=CSS,
        head=HEAD,
        footer_links=[],
        # Gradio's /monitoring routes would show per-function counts to anyone without a key: off.
        enable_monitoring=False,
        state_session_capacity=bot.settings.sessions_kept,
        prevent_thread_lock=not block,
        max_threads=QUESTION_THREADS,
        quiet=not block,
        app_kwargs={"middleware": [*security.middleware(host, bot.settings.max_upload_mb),
                                   Middleware(AdmissionDoor, admission=admission)]},
        max_file_size=security.max_upload(bot.settings.max_upload_mb),
        allowed_paths=[],
        blocked_paths=[str(Path(bot.settings.corpus_dir).resolve()), str(Path(bot.settings.data_dir).resolve())],
    )
    return app
