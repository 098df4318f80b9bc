"""The article as the reader sees it next to the chat: title, source, date, and the cleaned text.

Every sentence is a ``<span data-start data-end>`` holding exactly ``article.text[start:end]``
(HTML-escaped: article text is never markup), so a citation's ``quote_start``/``quote_end``
find their sentences in the page without any text matching in the browser. The byline and the date
(assistant/answer/metadata.py, the same ones the "who wrote it" and "when" answers quote) are shown
once, in the header, as spans of their own; the lines that held them are not repeated in the text.
"""

from __future__ import annotations

from html import escape

from assistant.answer.metadata import byline, dateline, header_lines, in_header_lines
from assistant.answer.model import Citation
from assistant.corpus import TEXT_BULLET
from assistant.index import IndexedArticle

MAX_HEADING_CHARS = 100
_CLOSING = tuple(".!?:;,\"”’)")
EMPTY = '<p class="article-empty">No article yet: add one in the Library below.</p>'


def _header(article: IndexedArticle) -> str:
    """Title, then the source link (web links only: a local path opens nothing from a page), byline and date."""
    lines = [f"<h2>{escape(article.title)}</h2>"]
    details = []
    if article.url and article.url.startswith(("https://", "http://")):
        href = escape(article.url, quote=True)
        details.append(f'<a href="{href}" target="_blank" rel="noopener noreferrer">{escape(article.url)}</a>')
    else:
        details.append(escape(article.path.rsplit("/", 1)[-1]))
    for found in (byline(article), dateline(article)):
        if found:
            details.append(_sentence(article.text, *found))
    lines.append(f'<p class="article-meta">{" · ".join(details)}</p>')
    return "".join(lines)


def _body(article: IndexedArticle) -> str:
    """Paragraphs (blank-line separated in the cleaned text) of sentence spans; text between sentences stays."""
    text, html, paragraph, position = article.text, [], [], 0
    shown_in_header = header_lines(article)
    structured = article.path.lower().endswith((".md", ".markdown"))
    plain: list[str] = []  # the current paragraph's text, to tell a heading or a list item

    def close_paragraph() -> None:
        if not paragraph:
            return
        tag = _block_tag("".join(plain).strip()) if structured else "p"
        if tag != "li":
            html.append(f"<{tag}>" + "".join(paragraph) + f"</{tag}>")
        else:  # consecutive items are one list
            if html and html[-1] == "</ul>":
                html.pop()
            else:
                html.append('<ul class="bullets">')
            html.extend(["<li>" + "".join(paragraph) + "</li>", "</ul>"])
        paragraph.clear()
        plain.clear()

    def add_plain(start: int, end: int) -> None:
        for low, high in shown_in_header:  # a header line's own text is in the header already
            if start < high and low < end:
                add_plain(start, low)
                start = min(max(start, high), end)
        for n, piece in enumerate(text[start:end].split("\n\n")):
            if n:
                close_paragraph()
            if piece:  # the space between two sentences too, or they run together ("results.And")
                paragraph.append(escape(piece).replace("\n", "<br>"))
                plain.append(piece)

    for start, end in article.sentences:
        if in_header_lines(shown_in_header, start, end):
            continue
        add_plain(position, start)
        paragraph.append(_sentence(text, start, end))
        plain.append(text[start:end])
        position = end
    add_plain(position, len(text))
    close_paragraph()
    return "".join(html)


def _block_tag(paragraph: str) -> str:
    """How a Markdown article's paragraph is shown: a "• " line (a list item, corpus.TEXT_BULLET) as one,
    a short line without closing punctuation (what a "## heading" becomes) as a heading, else a paragraph."""
    if paragraph.startswith(TEXT_BULLET):
        return "li"
    if len(paragraph) <= MAX_HEADING_CHARS and "\n" not in paragraph and not paragraph.endswith(_CLOSING):
        return "h3"
    return "p"


def _sentence(text: str, start: int, end: int) -> str:
    return f'<span class="sentence" data-start="{start}" data-end="{end}">{escape(text[start:end])}</span>'


def article_html(article: IndexedArticle | None) -> str:
    """The whole pane; ``data-article`` lets the page tell which article is open when a citation is clicked."""
    if article is None:
        return EMPTY
    return f'<article data-article="{escape(article.id, quote=True)}">{_header(article)}{_body(article)}</article>'


def citation_href(c: Citation) -> str:
    """The link target of ``[n]``: the article and the quote's offsets, read by the page script."""
    return f"#cite:{c.article_id}:{c.quote_start}:{c.quote_end}"
