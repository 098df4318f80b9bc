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


def test_a_byline_and_date_on_one_line_are_one_source_for_the_pane_and_the_answers(make_assistant, tmp_path):
    """Before, for "By Jonas Keller · 2 February 2025": "who wrote it" did not say, "when" quoted the whole
    line, and the pane showed the line twice (header and text)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "trams.md").write_text(
        "# Trams return to the harbour\n\nBy Jonas Keller · 2 February 2025\n\n"
        "The city's trams returned to the harbour line on Monday after two years of works, the transport office "
        "said. About 4,000 people rode them on the first day, and the mayor rode the first tram herself.\n",
        encoding="utf-8")
    bot = make_assistant(corpus, tmp_path / "index")
    author = bot.ask("Who wrote this article?", article="trams")
    assert author.found and [c.quote for c in author.citations] == ["By Jonas Keller"]
    date = bot.ask("When was it published?", article="trams")
    assert date.found and [c.quote for c in date.citations] == ["2 February 2025"]
    html = article_html(bot.index.articles["trams"])
    assert html.count("Jonas Keller") == 1 and html.count("2 February 2025") == 1
    header, body = html.split("</p>", 1)
    assert "By Jonas Keller" in header and "2 February 2025" in header and "Jonas" not in body
    overview = bot.overview("trams")
    assert not any("Keller" in c.quote for c in overview.citations)


def test_a_markdown_articles_headings_and_lists_keep_their_structure_escaped(make_assistant, tmp_path):
    """Before: "## headings" and "- bullets" became plain paragraphs."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "trams.md").write_text(
        "# Trams return\n\nThe city's trams returned on Monday after two years of works, the office said.\n\n"
        "## What <b>changed</b>\n\n- New stops at the pier and the market.\n- Trams every 8 minutes at peak times.\n"
        "* Night trams on Fridays.\n\n### Prices\n\nFares stay at 2 euros, the office said.\n", encoding="utf-8")
    bot = make_assistant(corpus, tmp_path / "index")
    bot.sync(progress=None)
    article = bot.index.articles["trams"]
    html = re.sub(r'<span class="sentence"[^>]*>|</span>', "", article_html(article))
    assert "<h3>What &lt;b&gt;changed&lt;/b&gt;</h3>" in html and "<h3>Prices</h3>" in html
    assert re.search(r'<ul class="bullets">(<li>• [^<]+</li>){3}</ul>', html), html
    assert "<p>Fares stay at 2 euros, the office said.</p>" in html
    answer = bot.ask("How often do the trams run at peak times?", article="trams")
    assert answer.found and all(c.quote in article.text for c in answer.citations)
