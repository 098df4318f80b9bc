"""Finding the articles in the corpus folder and turning each file into a clean ``Article``.

A file that cannot be read is reported as a ``CorpusProblem`` and skipped; it never stops
the other articles from loading.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from assistant.cleaning import clean_text, escape_control_characters, remove_control_characters
from assistant.errors import UserError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
# Bump when cleaning or loading changes what text an unchanged file produces, so the index re-embeds.
LOADER_VERSION = "3"

# Limits that keep the cost of one file bounded, so one bad file never holds up the others (docs/limits.md).
MAX_FILE_BYTES = 20 * 1024 * 1024  # read at most this much; room for PDFs and HTML, whose bytes are mostly markup
MAX_ARTICLE_CHARS = 1_000_000  # extracted text (~170,000 words, a long book): embedding it takes minutes, not hours
MAX_PDF_PAGES = 500
# Markup costs trafilatura ~3 s per 100,000 tags on 2 cores (a 19 MB page of empty <span>s took 55 s to give
# 53 characters); a heavy news page has a few thousand. Counted before parsing.
MAX_HTML_TAGS = 200_000
MAX_ARTICLES = 1000  # per corpus folder; more belongs in several folders or a Chroma server
# Share of characters that may be control characters or undecodable bytes before a file counts as binary.
_MAX_UNPRINTABLE_SHARE = 0.01
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
    notices: tuple[str, ...] = ()  # what reading changed, said once when the file is read (one line each)

    @property
    def version(self) -> str:
        """Identifies this exact text of this article in the index."""
        return f"{self.id}@{self.sha256[:16]}"


@dataclass(frozen=True)
class CorpusProblem:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {escape_control_characters(self.path.name)}: {self.reason}"


def read_with_notices(article: Article) -> list[str]:
    """One line per change reading made to the file ("read notes.txt: 1 byte ... shown as \ufffd")."""
    return [f"read {escape_control_characters(article.path.name)}: {notice}" for notice in article.notices]


class ArticleLoadError(UserError):
    """A file that is not a readable article; the message is shown to the user as is."""


def article_id_for(path: Path) -> str:
    """A slug of the file name; accents are dropped ("Café" -> "cafe") and a name with no Latin letters or
    digits ("статья.txt") gets a short hash of the name, so two such files never share an id."""
    ascii_stem = unicodedata.normalize("NFKD", path.stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_stem.lower()).strip("-")
    return slug or f"article-{_name_hash(path)}"


def _name_hash(path: Path) -> str:
    return hashlib.sha1(path.name.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every entry of the folder except hidden ones, in a stable order. Entries that are not articles
    (folders, other file types, links out of the folder) are listed too, so loading reports why it skips them."""
    if not corpus_dir.is_dir():
        return []
    return sorted(path for path in corpus_dir.iterdir() if not path.name.startswith("."))


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


def decode_text(raw: bytes) -> str:
    """Text from bytes (see ``decode_text_with_notices``), without the notices."""
    return decode_text_with_notices(raw)[0]


def decode_text_with_notices(raw: bytes) -> tuple[str, list[str]]:
    """Text from bytes: UTF-8 (a few stray bytes are read as Windows-1252 one by one, the rest stays UTF-8),
    UTF-16 with or without a BOM, else Windows-1252. Bytes no encoding defines become U+FFFD and terminal
    codes (colours, titles, bells) are dropped, each with a notice: a pasted byte or a coloured log must not
    cost the whole article. Raises ArticleLoadError for anything that is not text."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _strict(raw, "utf-16")
    elif utf16 := _utf16_without_bom(raw):
        text = _strict(raw, utf16)
    elif b"\x00" in raw:
        raise ArticleLoadError("binary data, not text")
    else:
        text = _lenient_utf8(raw.removeprefix(b"\xef\xbb\xbf"))
    text, terminal_codes = _TERMINAL_CODES.subn("", text)
    unprintable = len(_UNPRINTABLE.findall(text))
    if "\x00" in text or unprintable > _MAX_UNPRINTABLE_SHARE * len(text):
        raise ArticleLoadError("binary data, not text")
    notices = []
    if replaced := text.count("\ufffd"):
        notices.append(f"{_count(replaced, 'byte')} that no text encoding defines shown as \ufffd")
    if terminal_codes:
        notices.append(f"{_count(terminal_codes, 'terminal control code')} (colours, titles, bells) removed")
    return text, notices


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'s' if number != 1 else ''}"


_UNPRINTABLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
_STRAY_BYTE = re.compile(r"[\udc80-\udcff]")
# ANSI/VT sequences (CSI, as ESC [ or the one-byte C1 form, and OSC up to its terminator) and the bell.
_TERMINAL_CODES = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x07")


def _strict(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise ArticleLoadError(f"not valid {encoding.upper()} text") from error


def _utf16_without_bom(raw: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when every other byte is mostly zero (Latin text in UTF-16), else None."""
    pairs = len(raw) // 2
    if pairs < 8 or len(raw) % 2:
        return None
    even_zeros, odd_zeros = raw[0::2].count(0), raw[1::2].count(0)
    if odd_zeros > 0.3 * pairs and even_zeros < 0.02 * pairs:
        return "utf-16-le"
    if even_zeros > 0.3 * pairs and odd_zeros < 0.02 * pairs:
        return "utf-16-be"
    return None


def _lenient_utf8(raw: bytes) -> str:
    """UTF-8 when it is mostly UTF-8; otherwise the whole file as Windows-1252 (its five undefined bytes as U+FFFD)."""
    text = raw.decode("utf-8", "surrogateescape")
    stray = len(_STRAY_BYTE.findall(text))
    if not stray:
        return text
    decoded_non_ascii = len(text) - len(text.encode("ascii", "ignore")) - stray
    if decoded_non_ascii >= stray:  # "Café" written in UTF-8 plus one Latin-1 byte pasted in
        return _STRAY_BYTE.sub(lambda m: bytes([ord(m.group()) - 0xDC00]).decode("cp1252", "replace"), text)
    return raw.decode("cp1252", "replace")


# Every pattern's variable part excludes its own delimiters, so a scan from one delimiter stops at the next one:
# the cost stays linear on lines full of unmatched marks ("*a *a *a ...": 24 KB took 10.6 s with `(.+?)\1`).
_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE)
_MD_IMAGE = re.compile(r"!\[[^\[\]\n]*\]\([^()\n]*\)")
_MD_LINK = re.compile(r"\[([^\[\]\n]+)\]\([^()\n]*\)")
_MD_EMPHASIS = [
    re.compile(r"`([^`\n]+)`"),
    re.compile(r"\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*"),
    re.compile(r"__(?=\S)([^_\n]+?)(?<=\S)__"),
    re.compile(r"\*(?=\S)([^*\n]+?)(?<=\S)\*"),
    re.compile(r"(?<!\w)_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)"),
]
_MD_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
# A list item keeps a text bullet: it is part of what the reader sees, and the pane shows such lines as a list.
_MD_BULLET = re.compile(r"^[ \t]{0,3}[-*+][ \t]+", re.MULTILINE)
TEXT_BULLET = "• "
_MD_NESTING_ROUNDS = 3  # "***both***", "**bold _and italic_**": inner marks go first, outer ones next round


def markdown_to_text(markdown: str) -> str:
    """Drop Markdown markup but keep every word, so quotes match what a reader sees."""
    text = _MD_IMAGE.sub("", markdown)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_BULLET.sub(TEXT_BULLET, _MD_QUOTE.sub("", text))
    for _ in range(_MD_NESTING_ROUNDS):
        before = text
        for pattern in _MD_EMPHASIS:
            text = pattern.sub(r"\1", text)
        if text == before:
            break
    return text


def _html_text(raw: str) -> tuple[str, str | None, str | None]:
    import trafilatura

    document = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, include_tables=False)
    if document is None or not (document.text or "").strip():
        raise ArticleLoadError("no article text found in the HTML page")
    return document.text, document.title, document.url


def _pdf_text(raw_bytes: bytes) -> tuple[str, str | None]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    if b"%PDF-" not in raw_bytes[:1024]:
        raise ArticleLoadError("not a PDF (no %PDF header), whatever its name says")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about damaged files: the reason below says it
    try:
        reader = PdfReader(io.BytesIO(raw_bytes))
        if reader.is_encrypted and not _opens_without_password(reader, DependencyError):
            raise ArticleLoadError("the PDF is encrypted (it needs a password)")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise ArticleLoadError(f"the PDF has {len(reader.pages):,} pages (at most {MAX_PDF_PAGES:,})")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.get("/Title") if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, OSError) as error:
        raise ArticleLoadError(f"unreadable PDF ({_first_line(error)})") from error
    # PDF text is hard-wrapped: lines inside a paragraph are joined, blank lines kept as breaks.
    text = "\n\n".join(re.sub(r"(?<!\n)\n(?!\n)", " ", page) for page in pages)
    if not text.strip():
        raise ArticleLoadError("the PDF has no text layer (scanned images are not supported)")
    title = str(title).strip() if title else ""
    if title.lower().strip("()[] ") in _PLACEHOLDER_TITLES:
        title = ""
    return text, title or None


def _opens_without_password(reader, dependency_error: type[Exception]) -> bool:
    """Many PDFs are encrypted with an empty user password only to restrict printing; those open."""
    try:
        return bool(reader.decrypt(""))
    except dependency_error:  # AES without the optional cryptography package
        return False


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _check_entry(path: Path) -> None:
    """Raise ArticleLoadError unless the folder entry is a file of a supported type the loader may read."""
    if path.is_symlink():
        folder, target = path.parent.resolve(), path.resolve()
        if not target.exists():
            raise ArticleLoadError("a broken link")
        if not target.is_relative_to(folder):
            raise ArticleLoadError("links outside the corpus folder")
        if target.parent == folder and not target.name.startswith("."):
            raise ArticleLoadError(f"a link to {escape_control_characters(target.name)}, which is read already")
    if path.is_dir():
        raise ArticleLoadError("a folder (articles are read from the corpus folder itself, not from subfolders)")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        kind = f"{escape_control_characters(path.suffix)} files are not read" if path.suffix else "no file extension"
        raise ArticleLoadError(f"{kind} (supported: .txt, .md, .html, .pdf)")
    try:
        info = path.stat()
    except OSError as error:
        raise _unreadable(error) from error
    if not stat.S_ISREG(info.st_mode):
        raise ArticleLoadError("not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise ArticleLoadError(_too_large(info.st_size))


def _unreadable(error: OSError) -> ArticleLoadError:
    if isinstance(error, FileNotFoundError):
        return ArticleLoadError("the file disappeared while the corpus was read")
    return ArticleLoadError(f"cannot read file ({error.strerror})")


def _too_large(size: int) -> str:
    return f"too large ({size / 2**20:.1f} MB; at most {MAX_FILE_BYTES / 2**20:.0f} MB)"


def _read_bounded(path: Path) -> bytes:
    """The file's bytes, never more than the limit (it may have grown since it was checked)."""
    try:
        with path.open("rb") as file:
            raw_bytes = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise _unreadable(error) from error
    if len(raw_bytes) > MAX_FILE_BYTES:
        raise ArticleLoadError(_too_large(len(raw_bytes)))
    return raw_bytes


def load_article(path: Path) -> Article:
    """Read, extract and clean one file; raises ArticleLoadError with a one-line reason."""
    _check_entry(path)
    raw_bytes = _read_bounded(path)
    suffix = path.suffix.lower()
    fallback_title = remove_control_characters(path.stem.replace("_", " ").replace("-", " ")).strip().capitalize()
    known_title = url = None
    notices: list[str] = []
    if suffix == ".pdf":
        raw, known_title = _pdf_text(raw_bytes)
    else:
        raw, notices = decode_text_with_notices(raw_bytes)
        if suffix in (".html", ".htm"):
            if (tags := raw.count("<")) > MAX_HTML_TAGS:
                raise ArticleLoadError(f"too much markup ({tags:,} tags; at most {MAX_HTML_TAGS:,})")
            raw, known_title, url = _html_text(raw)
        elif suffix in (".md", ".markdown"):
            raw = markdown_to_text(raw)
    if len(raw) > MAX_ARTICLE_CHARS:
        raise ArticleLoadError(f"too long ({len(raw):,} characters of text; at most {MAX_ARTICLE_CHARS:,})")
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
        url=cleaned.source_url or (remove_control_characters(url).strip() if url else None),
        path=path,
        text=body,
        sha256=content_digest(raw_bytes),
        notices=tuple(notices),
    )


def _free_id(article: Article, taken_ids: set[str]) -> str | None:
    """The article's id, or when another file has it (a.txt and a.md) one derived from the whole file name."""
    suffix = article.path.suffix.lower().lstrip(".")
    candidates = [article.id, f"{article.id}-{suffix}" if suffix else None, f"{article.id}-{_name_hash(article.path)}"]
    return next((c for c in candidates if c and c not in taken_ids), None)


def load_articles(paths: list[Path], taken_ids: set[str]) -> tuple[list[Article], list[CorpusProblem]]:
    """The readable articles among ``paths``, plus one problem per entry skipped. An article whose id is
    taken gets a longer one. ``taken_ids`` (ids already in use) gains the ids of the articles returned."""
    articles: list[Article] = []
    problems: list[CorpusProblem] = []
    for path in paths:
        if len(taken_ids) >= MAX_ARTICLES:
            problems.append(CorpusProblem(path, f"the corpus already has {MAX_ARTICLES:,} articles, the most it may hold"))
            continue
        try:
            article = load_article(path)
        except ArticleLoadError as error:
            problems.append(CorpusProblem(path, str(error)))
            continue
        except Exception as error:  # a broken file is reported and skipped, whatever broke
            problems.append(CorpusProblem(path, f"could not be loaded ({type(error).__name__}: {_first_line(error)})"))
            continue
        article_id = _free_id(article, taken_ids)
        if article_id is None:
            problems.append(CorpusProblem(path, f"other files already have the article id '{article.id}'"))
            continue
        taken_ids.add(article_id)
        articles.append(dataclasses.replace(article, id=article_id))
    return articles, problems


def load_corpus(corpus_dir: Path) -> tuple[list[Article], list[CorpusProblem]]:
    """All readable articles in the folder, plus one problem per entry that had to be skipped."""
    return load_articles(corpus_files(corpus_dir), set())
