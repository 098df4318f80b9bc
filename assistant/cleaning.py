"""Repair of scraped article text: broken entities, stray spaces, doubled quotes, page debris.

Every rule here was written against damage seen in real scraped copies (the shipped article
carries all of it). The rules are conservative: they only join or drop characters around
quote marks and punctuation, never reword, so a quoted sentence is still the article's own.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# "&#x 27;" / "& #39 ;" / "&amp ;": entities whose parts a scraper pulled apart with spaces.
_SPACED_HEX_ENTITY = re.compile(r"&\s*#\s*[xX]\s*([0-9a-fA-F]+)\s*;")
_SPACED_DEC_ENTITY = re.compile(r"&\s*#\s*([0-9]+)\s*;")
_SPACED_NAMED_ENTITY = re.compile(r"&\s*(amp|quot|apos|lt|gt|nbsp|rsquo|lsquo|rdquo|ldquo|mdash|ndash|hellip)\s*;")

_APOSTROPHES = "'’"
# "it ' s", "didn’ t", "they'' re": a contraction or possessive split by spaces or a doubled mark.
_SPLIT_CONTRACTION = re.compile(rf"(\w) ?([{_APOSTROPHES}])[{_APOSTROPHES}]* ?(s|t|re|ll|ve|d|m)\b(?![-'’])")
# "clients ’ depressive": a plural possessive with a space before the mark.
_SPACED_PLURAL_POSSESSIVE = re.compile(r"(\ws) ([’])(?=\s)")
_SPACE_AFTER_OPENING_QUOTE = re.compile(r"([“‘]) +")
_SPACE_BEFORE_CLOSING_QUOTE = re.compile(r"(\S) +(”)")
_SPACE_BEFORE_CLOSING_SINGLE_QUOTE = re.compile(r"(\S) +(’)(?=[”\"]|$)")
_DOUBLED_OPENING_QUOTE = re.compile(r"“[“”]+(?=\w)")
_DOUBLED_CLOSING_QUOTE = re.compile(r"(?<=[\w.,!?])[”“]{2,}")
# ',” “states' : a stray opening mark glued to the word after a closing one.
_STRAY_OPENING_QUOTE = re.compile(r"” “(?=[a-z])")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"(\w) +([.,;:!?])(?=\s|$|[”’\"'])")
_INLINE_SPACES = re.compile(r"[ \t\u00a0]+")
# Control characters are never article text, and some (ESC, CSI) would drive a terminal that prints a quote.
# The ones that split lines become line breaks, the rest spaces.
_LINE_BREAKING_CONTROLS = re.compile(r"[\x0b\x0c\x1c-\x1e\x85]")
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")

DEBRIS_LINES = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"please follow and like us:?",
        r"leave a (reply|comment)",
        r"%d bloggers like this:?",
        r"like this:?",
        r"share this:?",
        r"more great .{0,40} stories",
        r"related( posts| articles)?:?",
        r"(click to )?(share|tweet|email|print)( on \w+)?",
        r"advertisement",
    )
]
READ_MORE_LINE = re.compile(r"^(?:read more|source|originally published at|via)\s*:\s*(https?://\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class CleanedText:
    text: str
    source_url: str | None


def remove_control_characters(text: str) -> str:
    """Tabs and line breaks stay; every other C0/C1 control character goes (ESC included)."""
    return _OTHER_CONTROLS.sub(" ", _LINE_BREAKING_CONTROLS.sub("\n", text))


_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def escape_control_characters(text: str, keep: str = "") -> str:
    """``text`` safe to print on a terminal: control characters (except those in ``keep``) and undecodable
    bytes are shown as JSON-style escapes (ESC as ``\\u001b``), so they can neither drive the terminal nor
    break a JSON line."""
    return _UNSHOWABLE.sub(lambda m: m.group() if m.group() in keep else f"\\u{ord(m.group()):04x}", text)


def decode_entities(text: str) -> str:
    """Decode HTML entities, including the spaced-apart forms that plain ``html.unescape`` misses."""
    text = _SPACED_HEX_ENTITY.sub(lambda m: f"&#x{m.group(1)};", text)
    text = _SPACED_DEC_ENTITY.sub(lambda m: f"&#{m.group(1)};", text)
    text = _SPACED_NAMED_ENTITY.sub(lambda m: f"&{m.group(1)};", text)
    return html.unescape(text)


def repair_punctuation(line: str) -> str:
    """Join quote marks and punctuation back onto the words they belong to."""
    line = _INLINE_SPACES.sub(" ", line)
    line = _SPLIT_CONTRACTION.sub(r"\1\2\3", line)
    line = _SPACED_PLURAL_POSSESSIVE.sub(r"\1\2", line)
    line = _DOUBLED_OPENING_QUOTE.sub("“", line)
    line = _DOUBLED_CLOSING_QUOTE.sub("”", line)
    line = _STRAY_OPENING_QUOTE.sub("” ", line)
    line = _SPACE_AFTER_OPENING_QUOTE.sub(r"\1", line)
    line = _SPACE_BEFORE_CLOSING_QUOTE.sub(r"\1\2", line)
    line = _SPACE_BEFORE_CLOSING_SINGLE_QUOTE.sub(r"\1\2", line)
    line = _SPACE_BEFORE_PUNCTUATION.sub(r"\1\2", line)
    return line.strip()


def is_debris(line: str) -> bool:
    return any(pattern.fullmatch(line) for pattern in DEBRIS_LINES)


def clean_text(raw: str) -> CleanedText:
    """Cleaned body (paragraphs separated by one blank line) and the source link, if the page named one."""
    source_url = None
    paragraphs: list[str] = []
    for raw_line in remove_control_characters(decode_entities(raw)).splitlines():
        line = repair_punctuation(raw_line)
        if not line or is_debris(line):
            continue
        read_more = READ_MORE_LINE.match(line)
        if read_more:
            source_url = source_url or read_more.group(1)
            continue
        paragraphs.append(line)
    return CleanedText(text="\n\n".join(paragraphs), source_url=source_url)
