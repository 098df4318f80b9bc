"""Checking that each [n] marker in an answer is backed by the passage it names.

A claim is the text between the previous marker (or the start) and this one. It is supported
when, once quote marks and spacing are ignored, it appears verbatim in the passage, or when
nearly all of its content words do (for answers that paraphrase rather than quote).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text_terms import content_stems

_MARKER = re.compile(r"\[(\d+)\]")
_QUOTE_MARKS = re.compile(r"[“”\"]|\*\*")  # quote marks, and the bold that marks an answering span
SUPPORT_OVERLAP = 0.8


@dataclass(frozen=True)
class MarkedClaim:
    claim: str
    n: int


def marked_claims(text: str) -> list[MarkedClaim]:
    """Each marker with the claim it backs.

    Markers usually follow their claim ("Claim. [1]"), and a marker right after another shares its
    claim. Some models put them first instead ("[1] Claim.\n[2] Another."): when the first marker
    opens the answer or a line, every marker backs the text after it, up to the next marker or line.
    """
    matches = list(_MARKER.finditer(text))
    if not matches:
        return []
    line_before_first = text[: matches[0].start()].rsplit("\n", 1)[-1]
    if not line_before_first.strip():
        following = [_MARKER.split(text[m.end() :].split("\n", 1)[0], maxsplit=1)[0].strip() for m in matches]
        claims, next_claim = [], ""
        for m, claim in reversed(list(zip(matches, following))):  # "[1][2] Claim." : both back it
            next_claim = claim or next_claim
            claims.append(MarkedClaim(next_claim, int(m.group(1))))
        return claims[::-1]
    claims, cursor, last_claim = [], 0, ""
    for match in matches:
        claim = text[cursor : match.start()].strip().lstrip(".,;:!? ")  # the previous sentence's stop
        last_claim = claim or last_claim
        claims.append(MarkedClaim(last_claim, int(match.group(1))))
        cursor = match.end()
    return claims


def _normalise(text: str) -> str:
    return " ".join(_QUOTE_MARKS.sub("", text).split()).lower()


def is_supported(claim: str, passage: str) -> bool:
    if not claim:
        return False
    if _normalise(claim) in _normalise(passage):
        return True
    claim_stems = set(content_stems(claim))
    if not claim_stems:
        return False
    return len(claim_stems & set(content_stems(passage))) / len(claim_stems) >= SUPPORT_OVERLAP


_MARKER_PREFIX = re.compile(r"\[\d*$")


class MarkerFilter:
    """Streams model text while removing [n] markers that name no given passage.

    Text from a ``[`` is held back until the bracket closes (or proves not to be a marker), so
    a reader never sees a citation that is later withdrawn.
    """

    def __init__(self, passage_count: int):
        self.passage_count = passage_count
        self.pending = ""
        self.dropped: list[int] = []

    def _valid(self, n: int) -> bool:
        return 1 <= n <= self.passage_count

    def _release(self, text: str) -> str:
        def keep_or_drop(match: re.Match) -> str:
            n = int(match.group(1))
            if self._valid(n):
                return match.group(0)
            self.dropped.append(n)
            return ""

        return _MARKER.sub(keep_or_drop, text)

    def feed(self, chunk: str) -> str:
        """The part of the text so far that is safe to show."""
        text = self.pending + chunk
        held = _MARKER_PREFIX.search(text)
        self.pending = text[held.start() :] if held else ""
        return self._release(text[: held.start()] if held else text)

    def finish(self) -> str:
        text, self.pending = self.pending, ""
        return self._release(text)
