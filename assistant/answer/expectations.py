"""What kind of fact a question asks for, so a sentence without one is never offered as the answer.

"On what date was the paper published?" is close in meaning to many sentences of an article that
names no date; similarity alone would quote one of them. A sentence can only answer such a
question if it holds that kind of fact: a date, a number, an amount of money, an age, a dose.
"""

from __future__ import annotations

import re

from assistant.text_terms import content_stems

_NUMBER_WORDS = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|billion|half|twice|percent"
_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"

# A few words between the two halves of a pattern. Not ".*": after each of 11,000 "when was" in a 99 KB question,
# ".*" scanned to the end and back (75 s); a bounded count of words keeps the search linear.
_GAP = r"(?:\W+\w+){0,15}?"

# (what the question asks, what a sentence must then contain); the first match wins.
EXPECTATIONS: list[tuple[re.Pattern, re.Pattern]] = [
    (
        re.compile(r"\b(mg|milligrams?|micrograms?|ml|mg/kg|dosage amount|how much \w+ (did|do|was|were)" + _GAP + r" (take|given|receive))\b", re.I),
        re.compile(r"\d\s*(mg|µg|mcg|ml|milligrams?|micrograms?|units?)\b", re.I),
    ),
    (
        re.compile(r"\b(cost|costs|price|priced|how much money|dollars?|fee|fees|charge)\b", re.I),
        re.compile(r"[$€£¥]|\b(dollars?|euros?|pounds?|cents?|cost|costs|price|fee|fees)\b", re.I),
    ),
    (
        re.compile(r"\b(how old|what age|ages? of|aged)\b", re.I),
        re.compile(r"\b(\d+|" + _NUMBER_WORDS + r")[- ]years?[- ]old\b|\baged? \d+|\bages? (of|between) \d+", re.I),
    ),
    (
        re.compile(r"\b(what|which) (date|year|month|day of the week)\b|\bwhen (was|were|did|is|will)\b" + _GAP + r"\W+(published|founded|born|added|approved|released|carried out|conducted|done|held|start|begin|launched)\b", re.I),
        re.compile(r"\b(1[89]\d\d|20\d\d|" + _MONTHS + r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|last (week|month|year))\b", re.I),
    ),
    (
        re.compile(r"\bhow (many|much)\b|\bwhat (number|percentage|proportion|share|fraction)\b", re.I),
        re.compile(r"\d|\b(" + _NUMBER_WORDS + r"|several|few|many|most|all|none|no one|nobody)\b", re.I),
    ),
]


def required_content(question: str) -> re.Pattern | None:
    """The pattern an answering sentence must match, or None when any sentence may answer."""
    for asks, must_contain in EXPECTATIONS:
        if asks.search(question):
            return must_contain
    return None


# "Which journal ...", "What crisis ...": the noun right after which/what names what the answer is.
_FOCUS = re.compile(r"^\s*(?:which|what)\s+(\w+)", re.I)
_NOT_A_FOCUS = frozenset(
    "is are was were do does did will would can could might may should has have had about kind sort type".split()
)


def focus_stem(question: str) -> str | None:
    """The stem of the thing a which/what question asks for, e.g. 'journal'; None if it names none."""
    match = _FOCUS.match(question)
    if not match or match.group(1).lower() in _NOT_A_FOCUS:
        return None
    stems = content_stems(match.group(1))
    return stems[0] if stems else None
