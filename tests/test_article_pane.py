"""The article pane's HTML says exactly the article's words: escaped, paragraphs kept, nothing dropped."""

from __future__ import annotations

import re
from html import unescape

from ui.article_pane import article_html


def _visible_text(html: str) -> str:
    """What a browser shows, roughly: paragraphs and line breaks as newlines, tags gone, entities decoded."""
    html = html.replace("</p><p>", "\n\n").replace("<br>", "\n")
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_the_pane_shows_every_character_of_the_cleaned_text(bot):
    article = next(iter(bot.index.articles.values()))
    html = article_html(article)
    body = html.split("</p>", 1)[1]  # after the header's meta line
    shown = _visible_text(body.removesuffix("</article>"))
    assert shown.strip() == article.text.strip()
    assert "results. And" in shown  # two sentences keep the space between them


def test_each_sentence_span_holds_its_own_slice(bot):
    article = next(iter(bot.index.articles.values()))
    spans = re.findall(r'<span class="sentence" data-start="(\d+)" data-end="(\d+)">(.*?)</span>', article_html(article))
    assert len(spans) == len(article.sentences)
    for start, end, inner in spans:
        assert unescape(inner) == article.text[int(start):int(end)]
