"""Loading articles from .txt, .md, .html and .pdf files, and skipping the ones that cannot be read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.corpus import (
    ArticleLoadError,
    CorpusProblem,
    article_id_for,
    corpus_files,
    load_article,
    load_corpus,
    markdown_to_text,
)

REPO = Path(__file__).resolve().parent.parent
SEED_PATH = REPO / "corpus" / "ketamine-opioid.txt"
SECOND_PATH = REPO / "tests" / "data" / "second_article" / "river-cleanup.md"

HTML_PAGE = """<!DOCTYPE html>
<html><head>
<title>Harbour Seals Return to the Estuary | Coast News</title>
<meta property="og:title" content="Harbour Seals Return to the Estuary">
<meta property="og:url" content="https://example.com/news/seals-return">
</head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/subscribe">Subscribe to our newsletter</a></li></ul></nav>
<header><p>Coast News, your local paper since 1887</p></header>
<article>
<h1>Harbour Seals Return to the Estuary</h1>
<p>Marine biologists counted forty-two harbour seals resting on the sandbanks of the Wend estuary
last week, the highest number recorded since monitoring began in 1998.</p>
<p>The survey team, led by Dr Amara Lindqvist of the Northern Marine Institute, used drones to
photograph the colony at low tide. &ldquo;We were astonished by how many pups we saw,&rdquo; Lindqvist said.</p>
<p>Researchers believe cleaner water and a ban on jet skis near the sandbanks have helped the colony
recover after decades of decline.</p>
</article>
<aside><h3>Most read</h3><ul><li><a href="/a">Council tax to rise again</a></li></ul></aside>
<footer><p>Copyright 2024 Coast News Ltd. All rights reserved.</p><p>Privacy policy | Cookie settings</p></footer>
</body></html>
"""

MARKDOWN_ARTICLE = """# Night Trains Return to the *Alpine* Route

![a sleeper carriage](img/sleeper.jpg)

The **overnight service** between Zurich and Vienna will resume in [December](https://example.com/timetable), the operator said on Friday.

> "Demand has doubled since 2019," said spokesperson `Marta Keller`.

- Sleeper cabins sell out within hours.
- Tickets start at 59 euros.

## Background

Night trains were cut across Europe in the 2010s. Ticket prices are expected to rise in 2026.

Source: https://example.com/news/night-trains
"""

PDF_TITLE = "Glacier Melt Speeds Up in the Alps"
PDF_PARAGRAPHS = [
    "Swiss glaciologists reported on Monday that the Rhone Glacier lost 4.1 percent of its volume in a single "
    "summer, the largest annual loss since measurements began in 1874.",
    "The team, led by Professor Lena Baumgartner, installed white fleece blankets over parts of the ice tongue "
    "to slow the melting. The blankets reflect sunlight and cut the loss by about half where they are used.",
]


def write_pdf(path: Path, title: str | None, paragraphs: list[str], heading: str | None = None) -> Path:
    """A real text-layer PDF made with reportlab (wrapped lines, like a real document)."""
    pytest.importorskip("reportlab", reason="reportlab is in the dev extra: pip install -e '.[dev]'")
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    document = SimpleDocTemplate(str(path), pagesize=A4, title=title) if title else SimpleDocTemplate(str(path), pagesize=A4)
    story = [Paragraph(heading, styles["Title"])] if heading else []
    for paragraph in paragraphs:
        story += [Paragraph(paragraph, styles["BodyText"]), Spacer(1, 12)]
    document.build(story)
    return path


# -- .txt ------------------------------------------------------------------------------------


def test_txt_seed(seed_article):
    assert seed_article.id == "ketamine-opioid"
    assert seed_article.path == SEED_PATH
    assert seed_article.title == "What if Ketamine Actually Works Like an Opioid?"
    assert seed_article.url == "https://www.wired.com/story/ketamine-opioid/"
    assert len(seed_article.sha256) == 64
    assert seed_article.version == f"ketamine-opioid@{seed_article.sha256[:16]}"


def test_txt_without_headline_takes_title_from_file_name(tmp_path):
    path = tmp_path / "city_budget-2025.txt"
    path.write_text("The council approved a budget of 12 million pounds on Tuesday.\n\nIt raises spending on roads.\n", encoding="utf-8")
    article = load_article(path)
    assert article.id == "city-budget-2025"
    assert article.title == "City budget 2025"
    assert article.text.startswith("The council approved a budget")


def test_windows_1252_text_is_decoded(tmp_path):
    path = tmp_path / "cafe.txt"
    path.write_bytes("Café Society\n\nThe café on the corner served crème brûlée to forty guests every night.\n".encode("cp1252"))
    article = load_article(path)
    assert article.title == "Café Society"
    assert "crème brûlée" in article.text


def test_utf8_bom_is_not_part_of_the_title(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffHarbour News\n\nThe harbour reopened on Monday after two weeks of repairs.\n".encode("utf-8"))
    assert load_article(path).title == "Harbour News"


def test_sha256_follows_the_bytes(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Title Here\n\nThe first version of this article has enough words.\n", encoding="utf-8")
    first = load_article(path)
    path.write_text("Title Here\n\nThe second version of this article has enough words.\n", encoding="utf-8")
    second = load_article(path)
    assert first.id == second.id and first.sha256 != second.sha256 and first.version != second.version


# -- .md -------------------------------------------------------------------------------------


def test_markdown_title_text_and_source(tmp_path):
    path = tmp_path / "night-trains.md"
    path.write_text(MARKDOWN_ARTICLE, encoding="utf-8")
    article = load_article(path)
    assert article.title == "Night Trains Return to the Alpine Route"
    assert article.url == "https://example.com/news/night-trains"
    for markup in ("#", "**", "](", "![", "`", "> ", "- ", "Source:"):
        assert markup not in article.text, markup
    assert "The overnight service between Zurich and Vienna will resume in December, the operator said on Friday." in article.text
    assert '"Demand has doubled since 2019," said spokesperson Marta Keller.' in article.text
    assert "Sleeper cabins sell out within hours." in article.text
    assert "Night trains were cut across Europe in the 2010s." in article.text
    assert "sleeper carriage" not in article.text  # image alt text is not article text


def test_markdown_second_article():
    article = load_article(SECOND_PATH)
    assert article.id == "river-cleanup"
    assert article.title == "Millbrook Volunteers Pull Three Tonnes of Rubbish from the Alder River"
    assert article.url == "https://example.org/news/river-cleanup"
    assert article.text.startswith("More than 240 volunteers have removed 3.2 tonnes of rubbish")
    assert article.text.endswith("especially need people who can bring boats.")
    assert "#" not in article.text and "Source:" not in article.text


def test_markdown_to_text_keeps_words_and_snake_case():
    assert markdown_to_text("Use **bold**, *it*, `code` and [a link](http://x.y).") == "Use bold, it, code and a link."
    assert markdown_to_text("the variable my_long_name stays") == "the variable my_long_name stays"


def test_markdown_underscore_emphasis_is_stripped():
    assert markdown_to_text("the operator said on _Friday_.") == "the operator said on Friday."


# -- .html -----------------------------------------------------------------------------------


def test_html_article_without_boilerplate(tmp_path):
    path = tmp_path / "seals.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    article = load_article(path)
    assert article.id == "seals"
    assert article.title == "Harbour Seals Return to the Estuary"
    assert article.url == "https://example.com/news/seals-return"
    assert article.text.startswith("Marine biologists counted forty-two harbour seals")
    assert "“We were astonished by how many pups we saw,” Lindqvist said." in article.text
    assert "recover after decades of decline." in article.text
    for boilerplate in ("Home", "Sport", "Subscribe", "newsletter", "since 1887", "Copyright", "Privacy", "Cookie", "Most read", "Council tax"):
        assert boilerplate not in article.text, boilerplate
    assert "<" not in article.text and "&" not in article.text
    assert article.title not in article.text


def test_html_without_article_text_is_a_problem(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title>Nothing</title></head><body><nav>Home</nav></body></html>", encoding="utf-8")
    with pytest.raises(ArticleLoadError):
        load_article(path)


# -- .pdf ------------------------------------------------------------------------------------


def test_pdf_text_is_loaded(tmp_path):
    path = write_pdf(tmp_path / "glacier.pdf", PDF_TITLE, PDF_PARAGRAPHS)
    article = load_article(path)
    assert article.id == "glacier"
    assert article.title == PDF_TITLE
    # hard-wrapped PDF lines are joined back into the sentences
    for paragraph in PDF_PARAGRAPHS:
        assert paragraph in article.text
    assert "\n" not in PDF_PARAGRAPHS[0] and PDF_PARAGRAPHS[0] in article.text


def test_pdf_headline_is_not_glued_to_the_first_sentence(tmp_path):
    path = write_pdf(tmp_path / "glacier.pdf", PDF_TITLE, PDF_PARAGRAPHS, heading=PDF_TITLE)
    article = load_article(path)
    assert article.title == PDF_TITLE
    assert article.text.startswith(PDF_PARAGRAPHS[0][:40])


def test_pdf_placeholder_metadata_title_is_ignored(tmp_path):
    path = write_pdf(tmp_path / "glacier-report.pdf", None, PDF_PARAGRAPHS)
    title = load_article(path).title
    assert title.lower().strip("()") not in {"anonymous", "untitled", "unspecified", ""}, title


# -- broken files ----------------------------------------------------------------------------


def _broken_files(folder: Path) -> dict[str, bytes]:
    files = {
        "empty.txt": b"",
        "garbage.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 8,
        "not-a-pdf.pdf": bytes(range(256)) * 8,
        # 0x81 / 0x8D / 0x9D are undefined in Windows-1252 and invalid as UTF-8 here
        "non-utf8.txt": b"Ok title\n\n" + bytes([0x81, 0x8D, 0x9D, 0xC3, 0x28]) * 40,
        "only-debris.txt": b"Please follow and like us:\n\nLeave a Reply\n\n%d bloggers like this:\n",
    }
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return files


@pytest.mark.parametrize("name", ["empty.txt", "garbage.pdf", "not-a-pdf.pdf", "non-utf8.txt", "only-debris.txt"])
def test_broken_file_raises_a_one_line_load_error(tmp_path, name):
    _broken_files(tmp_path)
    with pytest.raises(ArticleLoadError) as caught:
        load_article(tmp_path / name)
    message = str(caught.value)
    assert message and "\n" not in message and "Traceback" not in message


def test_broken_files_are_reported_and_skipped(tmp_path):
    shutil.copyfile(SEED_PATH, tmp_path / SEED_PATH.name)
    shutil.copyfile(SECOND_PATH, tmp_path / SECOND_PATH.name)
    broken = _broken_files(tmp_path)
    articles, problems = load_corpus(tmp_path)
    assert [a.id for a in articles] == ["ketamine-opioid", "river-cleanup"]
    assert sorted(p.path.name for p in problems) == sorted(broken)
    assert all(isinstance(p, CorpusProblem) and p.reason for p in problems)
    assert all(str(p).startswith(f"skipped {p.path.name}: ") for p in problems)


def test_utf16_text_is_decoded_or_reported(tmp_path):
    path = tmp_path / "seals.txt"
    path.write_text("Harbour Seals\n\nMarine biologists counted forty-two harbour seals on the sandbanks.\n", encoding="utf-16")
    try:
        article = load_article(path)
    except ArticleLoadError:
        return
    assert "\x00" not in article.text and "\x00" not in article.title
    assert article.title == "Harbour Seals"


# -- finding files ---------------------------------------------------------------------------


def test_corpus_files_lists_every_visible_entry_so_loading_can_say_why_it_skips_one(tmp_path):
    for name in ("b.md", "a.txt", "c.HTML", ".hidden.txt", "notes.docx", "data.json"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub.txt").mkdir()
    assert [p.name for p in corpus_files(tmp_path)] == ["a.txt", "b.md", "c.HTML", "data.json", "notes.docx", "sub.txt"]
    assert corpus_files(tmp_path / "does-not-exist") == []
    _, problems = load_corpus(tmp_path)
    reasons = {p.path.name: p.reason for p in problems}
    assert "not read" in reasons["notes.docx"] and "not read" in reasons["data.json"]
    assert reasons["sub.txt"].startswith("a folder")


def test_files_with_the_same_id_are_both_kept_under_distinct_ids(tmp_path):
    shutil.copyfile(SEED_PATH, tmp_path / "ketamine-opioid.txt")
    shutil.copyfile(SECOND_PATH, tmp_path / "Ketamine Opioid.md")
    articles, problems = load_corpus(tmp_path)
    assert not problems
    assert [(a.path.name, a.id) for a in articles] == [
        ("Ketamine Opioid.md", "ketamine-opioid"),
        ("ketamine-opioid.txt", "ketamine-opioid-txt"),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("ketamine-opioid.txt", "ketamine-opioid"), ("River Cleanup (2024).md", "river-cleanup-2024"), ("Café.md", "cafe")],
)
def test_article_id_for(name, expected):
    assert article_id_for(Path(name)) == expected
