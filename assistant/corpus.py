"""Finding the articles in the corpus folder and turning each file into a clean ``Article``.

A file that cannot be read is reported as a ``CorpusProblem`` and skipped; it never stops
the other articles from loading.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from assistant.cleaning import clean_text
from assistant.errors import UserError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
# Bump when cleaning or loading changes what text an unchanged file produces, so the index re-embeds.
LOADER_VERSION = "1"
_TITLE_MAX_CHARS = 160
# What PDF tools write as the title when nobody gave one.
_PLACEHOLDER_TITLES = {"", "anonymous", "untitled", "unspecified", "unknown", "title", "document", "microsoft word"}


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    url: str | None
    path: Path
    text: str
    sha256: str

    @property
    def version(self) -> str:
        """Identifies this exact text of this article in the index."""
        return f"{self.id}@{self.sha256[:16]}"


@dataclass(frozen=True)
class CorpusProblem:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path.name}: {self.reason}"


class ArticleLoadError(UserError):
    """A file that is not a readable article; the message is shown to the user as is."""


def article_id_for(path: Path) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "article"


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Article files in the folder (not recursive, hidden files ignored), in a stable order."""
    if not corpus_dir.is_dir():
        return []
    return sorted(
        path
        for path in corpus_dir.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in SUPPORTED_SUFFIXES
    )


def content_digest(raw_bytes: bytes) -> str:
    """Hash of the file's bytes plus the loader version: the key for incremental indexing."""
    return hashlib.sha256(LOADER_VERSION.encode() + raw_bytes).hexdigest()


def _looks_like_title(line: str) -> bool:
    return 0 < len(line) <= _TITLE_MAX_CHARS and not line.endswith((".", ",", ";", ":"))


def _split_title(body: str, fallback: str) -> tuple[str, str]:
    """Take the first paragraph as the title when it reads like a headline."""
    first, _, rest = body.partition("\n\n")
    if rest and _looks_like_title(first):
        return first, rest
    return fallback, body


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252; never text with NULs."""
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as error:
            raise ArticleLoadError("not UTF-8, UTF-16 or Windows-1252 text") from error
    if "\x00" in text:
        raise ArticleLoadError("binary data, not text")
    return text


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)]*)\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")
_MD_UNDERSCORE_EMPHASIS = re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)")
_MD_QUOTE_OR_BULLET = re.compile(r"^\s{0,3}(?:>\s?|[-*+]\s+)", re.MULTILINE)


def markdown_to_text(markdown: str) -> str:
    """Drop Markdown markup but keep every word, so quotes match what a reader sees."""
    text = _MD_IMAGE.sub("", markdown)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_QUOTE_OR_BULLET.sub("", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return _MD_UNDERSCORE_EMPHASIS.sub(r"\1", text)


def _html_text(raw: str) -> tuple[str, str | None, str | None]:
    import trafilatura

    document = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, include_tables=False)
    if document is None or not (document.text or "").strip():
        raise ArticleLoadError("no article text found in the HTML page")
    return document.text, document.title, document.url


def _pdf_text(path: Path) -> tuple[str, str | None]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.get("/Title") if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, OSError) as error:
        raise ArticleLoadError(f"unreadable PDF ({error})") from error
    # PDF text is hard-wrapped: lines inside a paragraph are joined, blank lines kept as breaks.
    text = "\n\n".join(re.sub(r"(?<!\n)\n(?!\n)", " ", page) for page in pages)
    if not text.strip():
        raise ArticleLoadError("the PDF has no text layer (scanned images are not supported)")
    title = str(title).strip() if title else ""
    if title.lower().strip("()[] ") in _PLACEHOLDER_TITLES:
        title = ""
    return text, title or None


def load_article(path: Path) -> Article:
    """Read, extract and clean one file; raises ArticleLoadError with a one-line reason."""
    try:
        raw_bytes = path.read_bytes()
    except OSError as error:
        raise ArticleLoadError(f"cannot read file ({error.strerror})") from error
    suffix = path.suffix.lower()
    fallback_title = path.stem.replace("_", " ").replace("-", " ").strip().capitalize()
    known_title = url = None
    if suffix == ".pdf":
        raw, known_title = _pdf_text(path)
    elif suffix in (".html", ".htm"):
        raw, known_title, url = _html_text(_decode(raw_bytes))
    elif suffix in (".md", ".markdown"):
        raw = markdown_to_text(_decode(raw_bytes))
    else:
        raw = _decode(raw_bytes)
    cleaned = clean_text(raw)
    if known_title:
        title = clean_text(known_title).text or fallback_title
        first, _, rest = cleaned.text.partition("\n\n")
        body = rest if first == title and rest else cleaned.text
        if body.startswith(title + " "):  # a PDF headline joined to the first sentence
            body = body[len(title) + 1 :]
    else:
        title, body = _split_title(cleaned.text, fallback_title)
    if len(body.split()) < 5:
        raise ArticleLoadError("no article text after cleaning (empty or only page debris)")
    return Article(
        id=article_id_for(path),
        title=title,
        url=cleaned.source_url or url,
        path=path,
        text=body,
        sha256=content_digest(raw_bytes),
    )


def load_articles(paths: list[Path], taken_ids: set[str]) -> tuple[list[Article], list[CorpusProblem]]:
    """The readable articles among ``paths`` whose id is not taken yet, plus one problem per file
    skipped. ``taken_ids`` gains the ids of the articles returned."""
    articles: list[Article] = []
    problems: list[CorpusProblem] = []
    for path in paths:
        try:
            article = load_article(path)
        except ArticleLoadError as error:
            problems.append(CorpusProblem(path, str(error)))
            continue
        except Exception as error:  # a broken file is reported and skipped, whatever broke
            problems.append(CorpusProblem(path, f"could not be loaded ({type(error).__name__}: {error})"))
            continue
        if article.id in taken_ids:
            problems.append(CorpusProblem(path, f"another file already has the article id '{article.id}'"))
            continue
        taken_ids.add(article.id)
        articles.append(article)
    return articles, problems


def load_corpus(corpus_dir: Path) -> tuple[list[Article], list[CorpusProblem]]:
    """All readable articles in the folder, plus one problem per file that had to be skipped."""
    return load_articles(corpus_files(corpus_dir), set())
