"""Subtle unanswerable questions: the kinds SQuAD 2.0's writers made most and the first makers missed.

Why a second set of makers: the first ones (build_data.made_unanswerable) mostly append a condition,
"other than X" or a "not", which the reader learns to reject within minutes; the real unanswerable
questions it still accepts change one word and keep the rest (read in held-out samples: "Sweet
Seventeen" for "Sweet Sixteen", "the solubility of water in oxygen", "mandatory" for "optional").
Each maker changes one thing the answer sentence (with its previous sentence, ``context``) holds
into something it does not hold:

  name_word_changed  one word of a multi-word name swapped for a word that holds the same place in
                     another of the article's names ("Shimer College" -> "Shimer University")
  relation_reversed  two names, or the two words around a preposition, trade places
                     ("oxygen in water" -> "water in oxygen")
  antonym_wide       a word replaced by its opposite: a longer, training-only list than the product's
                     feature uses, and un-/in-/dis-/non- opposites that occur in SQuAD's own text
  swap_word          a noun-like word replaced by a word of the same ending from the answer's own
                     paragraph ("solubility" -> "density"): a plausible question on the same topic
"""

from __future__ import annotations

import random
import re
from collections import Counter

from assistant.answer.features import ANTONYM_PAIRS
from assistant.text_terms import content_stems

SUBTLE_KINDS = ("name_word_changed", "relation_reversed", "antonym_wide", "swap_word")

# A capitalised name of one or more words ("Bank of England"); the builder's name swaps use it too.
NAME = re.compile(r"\b[A-Z][a-z][\w'-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][a-z][\w'-]*)*")
_NAME_JOINERS = {"of", "the", "de"}
_WORD = re.compile(r"[A-Za-z]+")
_LOWER_WORD = re.compile(r"\b[a-z]{4,}\b")
# A lookahead, so that finditer gives overlapping pairs ("solubility of oxygen", "oxygen in water").
_AROUND_PREPOSITION = re.compile(r"(?=\b([a-z]{3,})\s+(of|in|into|from|than|for)\s+(?:the\s+|a\s+|an\s+)?([a-z]{3,})\b)")
_LISTED = re.compile(r"^[\s,]*(?:and|or)?\s*$")  # "Virginia, Maryland and Georgia": trading places changes nothing
_VERB_OR_ADVERB = re.compile(r"(ed|ing|ly)$")  # no tagger here: these endings mark most words that are no noun

# Opposites for training only (the product's ANTONYM_PAIRS are a feature and stay short and precise).
TRAINING_ANTONYM_PAIRS = [*ANTONYM_PAIRS, *(tuple(p.split("/")) for p in """
mandatory/optional required/optional compulsory/voluntary ancient/modern rich/poor wealthy/poor richest/poorest
male/female men/women man/woman husband/wife father/mother son/daughter king/queen brother/sister boys/girls
buy/sell bought/sold buyer/seller import/export imports/exports imported/exported enter/leave entered/left
arrive/depart arrived/departed attack/defend attacked/defended victory/defeat ally/enemy allies/enemies
friend/enemy love/hate peace/war birth/death born/died alive/dead dry/wet hot/cold warm/cool summer/winter
day/night light/dark black/white top/bottom front/back left/right western/eastern northern/southern urban/rural
domestic/foreign native/foreign common/rare frequent/rare simple/complex easy/difficult cheap/expensive
fast/slow faster/slower fastest/slowest heavy/light thick/thin wide/narrow deep/shallow big/small tall/short
young/old younger/older youngest/oldest strengthen/weaken raise/lower gained/lost profit/loss lend/borrow
teacher/student parent/child agreed/refused allowed/banned permit/prohibit permitted/prohibited
supported/opposed approve/reject approved/rejected succeeded/failed true/false correct/incorrect same/different
similar/different earlier/later previous/next former/current present/absent majority/minority always/never
many/few greater/lesser greatest/least best/worst better/worse good/bad superior/inferior add/remove
added/removed opened/closed started/ended began/ended beginning/end create/destroy created/destroyed
build/destroy built/destroyed join/leave joined/left increased/decreased increasing/decreasing rising/falling
expanded/shrank growth/decline grew/declined lowest/highest minimum/maximum cause/effect causes/effects
input/output inputs/outputs lead/follow led/followed leader/follower winner/loser winners/losers
victorious/defeated offense/defense offensive/defensive attack/defense conservative/liberal
protestant/catholic plaintiff/defendant prosecution/defense employer/employee employers/employees
landlord/tenant master/servant teachers/students parents/children sunrise/sunset dawn/dusk
upstream/downstream upward/downward inner/outer interior/exterior import/export send/receive sent/received
give/take gave/took giving/taking push/pull absorb/emit absorbs/emits absorbed/emitted attract/repel
acid/base acidic/alkaline solid/liquid freezing/boiling melting/freezing heated/cooled heating/cooling
visible/invisible natural/artificial organic/inorganic vertical/horizontal maximal/minimal rarely/often
sometimes/never everyone/nobody everything/nothing something/nothing anywhere/nowhere private/public
""".split())]

_OPPOSITE_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non")
_ADJECTIVE_ENDING = re.compile(r"(able|ible|al|ent|ant|ive|ful|ed|ate|ar|ic|ous|ite|ing|own|ly)$")


def _opposites() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for a, b in TRAINING_ANTONYM_PAIRS:
        table.setdefault(a, []).append(b)
        table.setdefault(b, []).append(a)
    return table


_OPPOSITE_OF = _opposites()


def word_counts(texts) -> Counter:
    """Lower-case word counts of SQuAD's own text: which un-/in-/dis- forms are real English words."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(_WORD.findall(text.lower()))
    return counts


def prefixed_opposites(word: str, vocabulary: Counter, at_least: int = 5) -> list[str]:
    """"legal" -> "illegal", "unknown" -> "known": adjective-like words whose prefixed form occurs in the text."""
    found = []
    if len(word) >= 5 and _ADJECTIVE_ENDING.search(word):
        found += [p + word for p in _OPPOSITE_PREFIXES if vocabulary[p + word] >= at_least]
    for p in _OPPOSITE_PREFIXES:
        rest = word[len(p):]
        if word.startswith(p) and len(rest) >= 4 and _ADJECTIVE_ENDING.search(rest) and vocabulary[rest] >= at_least:
            found.append(rest)
    return found


def _stem(word: str) -> str | None:
    """The word's stem, or None for a stop word."""
    stems = content_stems(word)
    return stems[0] if stems else None


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text, re.I) is not None


def name_word_changed(question: str, context: str, article_text: str, names: list[str], rng: random.Random) -> str | None:
    """One word of a multi-word name the context holds, swapped for a word in the same place of another name."""
    multi = [m for m in NAME.finditer(question) if m.start() > 0 and " " in m.group(0) and m.group(0) in context]
    if not multi:
        return None
    match = rng.choice(multi)
    words = match.group(0).split()
    place = rng.choice([i for i, w in enumerate(words) if w.lower() not in _NAME_JOINERS])
    last = place == len(words) - 1
    pool = sorted({n.split()[-1] if last else n.split()[0] for n in names if " " in n} - set(words))
    rng.shuffle(pool)
    for word in pool:
        changed = " ".join(words[:place] + [word] + words[place + 1:])
        if changed not in article_text:
            return question[: match.start()] + changed + question[match.end():]
    return None


def relation_reversed(question: str, context: str, rng: random.Random) -> str | None:
    """Two names the context holds trade places, or else the two words around a preposition do."""
    names = [m for m in NAME.finditer(question) if m.start() > 0 and m.group(0) in context]
    if len(names) >= 2 and names[0].group(0) != names[1].group(0) \
            and not _LISTED.match(question[names[0].end(): names[1].start()]):
        a, b = names[0], names[1]
        return question[: a.start()] + b.group(0) + question[a.end(): b.start()] + a.group(0) + question[b.end():]
    stems = set(content_stems(context))
    options = []
    for m in _AROUND_PREPOSITION.finditer(question):
        first, preposition, second = m.groups()
        if first != second and all(_stem(w) in stems and not _VERB_OR_ADVERB.search(w) for w in (first, second)) \
                and not _has_word(context, f"{second} {preposition} {first}"):
            options.append(m)
    if not options:
        return None
    m = rng.choice(options)
    return question[: m.start(1)] + m.group(3) + question[m.end(1): m.start(3)] + m.group(1) + question[m.end(3):]


def antonym_wide(question: str, context: str, vocabulary: Counter, rng: random.Random) -> str | None:
    """A word the context holds replaced by an opposite it does not hold."""
    options = []
    for m in _WORD.finditer(question):
        word = m.group(0).lower()
        if not _has_word(context, word):
            continue
        for opposite in _OPPOSITE_OF.get(word, []) + prefixed_opposites(word, vocabulary):
            if not _has_word(context, opposite):
                options.append((m, opposite))
    if not options:
        return None
    m, opposite = rng.choice(options)
    if m.group(0)[0].isupper():
        opposite = opposite.capitalize()
    return question[: m.start()] + opposite + question[m.end():]


def swap_word(question: str, context: str, paragraph: str, rng: random.Random) -> str | None:
    """A noun-like word the context holds replaced by one of the paragraph's words with the same ending it lacks."""
    context_stems = set(content_stems(context))
    question_stems = set(content_stems(question))
    targets = [m for m in _LOWER_WORD.finditer(question)
               if _stem(m.group(0)) in context_stems and not _VERB_OR_ADVERB.search(m.group(0))]
    # The paragraph's words the question and its context lack (stop words have no stem).
    absent = {w for w in set(_LOWER_WORD.findall(paragraph))
              if (stem := _stem(w)) and stem not in context_stems and stem not in question_stems}
    rng.shuffle(targets)
    for match in targets:
        word = match.group(0)
        pool = sorted(w for w in absent if w != word and w[-3:] == word[-3:] and abs(len(w) - len(word)) <= 4)
        if pool:
            return question[: match.start()] + rng.choice(pool) + question[match.end():]
    return None


def subtle_unanswerable(question: str, context: str, paragraph: str, article_text: str, names: list[str],
                        vocabulary: Counter, rng: random.Random) -> tuple[str, str] | None:
    """One subtle unanswerable variant (kind, question) of an answerable question, or None when none applies."""
    makers = [
        ("name_word_changed", lambda: name_word_changed(question, context, article_text, names, rng)),
        ("relation_reversed", lambda: relation_reversed(question, context, rng)),
        ("antonym_wide", lambda: antonym_wide(question, context, vocabulary, rng)),
        ("swap_word", lambda: swap_word(question, context, paragraph, rng)),
    ]
    rng.shuffle(makers)
    # The rarer kinds first: a swapped word applies to almost every question and would crowd them out.
    makers.sort(key=lambda pair: pair[0] == "swap_word")
    for kind, make in makers:
        variant = make()
        if variant and variant != question:
            return kind, variant
    return None
