"""Turning a follow-up question into a standalone one, without a language model.

Retrieval and sentence scoring see only the rewritten question, so a follow-up's references must be
spelled out. "What does it do?" after "What drug did patients take an hour before one of the ketamine
doses?" (answered "…the clients rather got the drug naltrexone…") becomes "What does the drug naltrexone do?".
A little grammar over word tokens does it:

* he/she/him/his/her: the person last named, subject first, by surname: news copy names a person in full
  once and by surname after, so the given name would only pull retrieval back to the introduction;
* it/they/them/its/their/this/that, "that study": the entity the answer gave for a "what/which NOUN"
  question, in the answer's words ("the drug naltrexone"), else a noun phrase of the previous question
  with its modifiers ("a pilot study with naltrexone"; its subject first), else one the answer
  introduced; "there": the place the previous turn named;
* "What about X?" / "And X?": the previous question with X in place of its matching phrase;
* whatever stays unresolved carries the previous question's content words along, as a hint for retrieval.

Only the head of each text is read (questions can be 100 KB); the one regex is a single-pass tokeniser.
"""

from __future__ import annotations

import re

from assistant.text_terms import STOPWORDS

History = list[tuple[str, str]]
Edits = dict[int, tuple[int, str]]  # first token replaced -> (token after the replaced ones, replacement)

_SCAN = 2000  # characters of a question or an earlier turn that are read; a follow-up's references sit early
_TURNS = 10  # earlier turns searched for the person last named
_THING_TURNS = 3  # earlier turns searched for the thing a pronoun stands for

_TOKEN = re.compile(r"[\w'’-]+|[^\w\s]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_BE = _words("is are was were be been 's")
_DO_SUPPORT = _words("do does did will would can could should may might must shall")
_AUX = _BE | _DO_SUPPORT | _words("has have had")
_DETERMINERS = _words("the a an this that these those its their his her our your my some any each every another")
_PREPOSITIONS = _words(
    "of in on at to for with by from about after before near along into onto over under between during without "
    "against below above behind beside inside outside through across around since until than like per via among"
)
_NOUN_JOINS = _words("of with in on about behind from")  # prepositions that go on describing a noun
_PLACE_PREPOSITIONS = _words("at in near along below above beside behind inside outside under across around")
_PRONOUNS = _words("i you he she it we they me him us them his hers its our their theirs mine yours one's")
_WH = _words("what which who whom whose when where why how")
_CONJUNCTIONS = _words("and or but so because if while whereas although though")
_OPENERS = _words("and so also then")
_FUNCTION = (
    STOPWORDS | _AUX | _DETERMINERS | _PREPOSITIONS | _PRONOUNS | _WH | _CONJUNCTIONS
    | _words("not no also only just still even ever really actually exactly very too here now else more most many much")
    | _words("up down out off back away")
)
_SAYING = _words("say says said tell tells told")
# Words that carry no content in a question like "How long?" or "Why is that?".
_DEGREE = _words("long often far old soon big large small")
# Common verbs: where one follows a noun phrase's content words it ends the phrase ("do the effects | last").
# Words that are as often nouns in compounds ("report", "plant", "study") are left out on purpose.
_VERBS = _words(
    "accept add affect agree allow appear apply argue arrive ask become begin believe belong block bring build buy "
    "call care carry cause change choose claim come consider contain continue cost cover create cut deal decide "
    "depend describe destroy develop die disagree discover do drag drink drive eat enable end enter expect explain "
    "fail feel fight find finish fit fly focus follow forget get give go grow happen hear help hide hold improve "
    "include indicate install intend involve join keep kill know last learn leave let like listen live look lose "
    "make manage matter mean meet mention move need notice occur offer open operate own pay play prefer prepare "
    "prevent produce propose protect prove provide publish pull push put reach read realise realize receive "
    "recommend reduce refer reflect refuse relate remain remember remove replace require respond return reveal run "
    "save say see seem sell send serve show sit solve speak spend stand start stay stop suffer suggest take talk "
    "teach tell tend think throw treat try turn understand use wait want warn watch win wish wonder work worry "
    "write ran found given done seen made taken known shown paid spent built begun said told got held kept left "
    "lost meant met thought understood won written grown brought bought caught taught felt became came went gone"
)
# Capitalised runs with one of these words are institutions or places, not people.
_INSTITUTIONS = _words(
    "university college school institute journal organization organisation clinic clinics hospital health society "
    "council fund foundation company corporation bank agency department ministry association centre center river "
    "bridge weir street road park lake city county state states kingdom republic church museum press times news "
    "review group party court house office committee commission board service services"
)
_ORDINALS = _words("first second third fourth fifth sixth seventh eighth ninth tenth last next final previous")
_EXPLETIVE = _words(
    "true possible likely unlikely known clear safe fair right wrong worth necessary important hard easy surprising"
)
_PERSON_PRONOUNS = _words("he she him his her hers")
_THING_PRONOUNS = _words("it its they them their")
_DEMONSTRATIVES = _words("this that these those")
_PLURAL = _words("they them their these those")
_POSSESSIVES = _words("its their")
_SENTENCE_END = _words(". ? ! : ;")


# -- tokens -----------------------------------------------------------------------------------------
def _head(text: str) -> str:
    """The first ``_SCAN`` characters, cut at a space so no word is split."""
    if len(text) <= _SCAN:
        return text
    cut = text.rfind(" ", 0, _SCAN)
    return text[: cut if cut > 0 else _SCAN]


_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(_head(text))


def _is_word(token: str) -> bool:
    return token[:1].isalnum()


def _is_content(token: str) -> bool:
    return _is_word(token) and token.lower() not in _FUNCTION


def _is_capitalised(token: str) -> bool:
    return token[:1].isupper() and not token.isupper()


def _verb_like(token: str) -> bool:
    word = token.lower()
    if word in _VERBS or word[-1:] == "s" and (word[:-1] in _VERBS or word[-2:] == "es" and word[:-2] in _VERBS):
        return True
    return len(word) > 4 and word.endswith("ed") and not word.endswith("eed")


def _same_noun(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return a == b or a in (b + "s", b + "es") or b in (a + "s", a + "es")


# -- noun phrases -----------------------------------------------------------------------------------
def _phrase_at(tokens: list[str], i: int) -> list[str]:
    """The noun phrase starting at ``tokens[i]``: determiners, content words up to a verb, then "of", "with", ...
    and more of the same ("a pilot study with naltrexone": the whole description, as the question gave it)."""
    start, phrase = i, []
    while True:
        while i < len(tokens) and tokens[i].lower() in _DETERMINERS:
            i += 1
        first = i
        while i < len(tokens) and _is_content(tokens[i]) and not (i > first and _verb_like(tokens[i])):
            i += 1
        if i == first:
            return phrase
        phrase = tokens[start:i]
        if not (i + 1 < len(tokens) and tokens[i].lower() in _NOUN_JOINS):
            return phrase
        i += 1


def _head_index(phrase: list[str]) -> int:
    """Where the word a phrase is about stands: the last before a preposition ("the second phase of the programme")."""
    return next((k for k, w in enumerate(phrase) if k and w.lower() in _PREPOSITIONS), len(phrase)) - 1


def _head_noun(phrase: list[str]) -> str:
    return phrase[_head_index(phrase)] if phrase else ""


def _is_plural(phrase: list[str]) -> bool:
    noun = _head_noun(phrase).lower()
    return noun.endswith("s") and not noun.endswith(("ss", "us", "is", "'s", "’s"))


def _skip_opener(tokens: list[str]) -> list[str]:
    return tokens[1:] if tokens and tokens[0].lower() in _OPENERS else tokens


def _starts_phrase(tokens: list[str], i: int) -> bool:
    """A noun phrase starts at the last of a run of determiners ("all the ..."), at a subject after an
    auxiliary, at an object after a preposition, after "how many", or at a name."""
    word, before = tokens[i].lower(), tokens[i - 1].lower() if i else ""
    if word in _DETERMINERS:
        return not (i + 1 < len(tokens) and tokens[i + 1].lower() in _DETERMINERS)
    return _is_content(word) and (
        before in _AUX or before in _PREPOSITIONS or before in ("many", "much") or i > 0 and _is_capitalised(tokens[i])
    )


def _without_main_verb(phrase: list[str], tokens: list[str], i: int, auxiliary: str) -> list[str]:
    """The subject without the main verb the phrase ran into: after do or a modal one unknown to ``_VERBS``
    ends the clause ("What did the researchers report?"); after be, an -ing word ("Where are they meeting?")."""
    end = i + len(phrase)
    at_end = auxiliary in _DO_SUPPORT and not (end < len(tokens) and _is_word(tokens[end]))
    progressive = auxiliary in _BE and len(phrase[-1]) > 4 and phrase[-1].lower().endswith("ing")
    if not (at_end or progressive):
        return phrase
    trimmed = phrase[:-1]
    while trimmed and not _is_content(trimmed[-1]):
        trimmed = trimmed[:-1]
    return trimmed or phrase


def _noun_phrases(tokens: list[str]) -> list[list[str]]:
    """A question's noun phrases, its subject (right after the first auxiliary) first, the wh-phrase left out.

    The phrase after "what/which/whose" is the unknown the question asks for, not something a
    follow-up can point back to; "how many volunteers" names a thing that is known, so it stays.
    """
    tokens = _skip_opener(tokens)
    phrases: list[list[str]] = []
    subject = None
    i = 0
    while i < len(tokens):
        before = tokens[i - 1].lower() if i else ""
        phrase = _phrase_at(tokens, i) if _starts_phrase(tokens, i) else []
        if not phrase:
            i += 1
            continue
        if subject is None and before in _AUX:
            subject = len(phrases)
            phrase = _without_main_verb(phrase, tokens, i, before)
        if not (i == 1 and before in ("what", "which", "whose")):
            phrases.append(phrase)
        i += max(len(phrase), 1)
    if subject is not None and subject < len(phrases):
        phrases.insert(0, phrases.pop(subject))
    return phrases


def _capitalised_run(tokens: list[str], i: int) -> list[str]:
    """The run of capitalised words around ``tokens[i]`` ("of" may join two), leading function words dropped."""
    start = i
    while start > 0 and (_is_capitalised(tokens[start - 1]) or tokens[start - 1] == "of" and start - 1 > 0
                         and _is_capitalised(tokens[start - 2])):
        start -= 1
    end = i + 1
    while end < len(tokens) and (_is_capitalised(tokens[end]) or tokens[end] == "of" and end + 1 < len(tokens)
                                 and _is_capitalised(tokens[end + 1])):
        end += 1
    while start < end and not _is_content(tokens[start]):
        start += 1
    return tokens[start:end]


def _looks_like_person(phrase: list[str], before: str = "") -> bool:
    """Two or more capitalised words, none an institution or place word, not the object of a preposition."""
    return (
        len(phrase) >= 2 and all(_is_capitalised(w) for w in phrase) and _is_content(phrase[0])
        and not any(w.lower() in _INSTITUTIONS for w in phrase) and before.lower() not in _PREPOSITIONS
    )


def _first_surname(tokens: list[str]) -> str | None:
    """The surname of the first person a text names in full."""
    i = 0
    while i < len(tokens):
        end = i
        while end < len(tokens) and _is_capitalised(tokens[end]):
            end += 1
        run = tokens[i:end]
        while run and not _is_content(run[0]):
            run = run[1:]
        if _looks_like_person(run, tokens[i - 1] if i else ""):
            return run[-1]
        i = max(end, i + 1)
    return None


# -- what the previous turn was about --------------------------------------------------------------
def _asked_phrase(tokens: list[str]) -> list[str]:
    """What a what/which question asks to identify: "What drug ..." → drug; "What was the heaviest item?" → it."""
    tokens = _skip_opener(tokens)
    if len(tokens) < 2 or tokens[0].lower() not in ("what", "which", "whose"):
        return []
    k = 2 if tokens[1].lower() in _BE else 1
    if k < len(tokens) and _verb_like(tokens[k]):
        return []  # "What happened ...", "What caused ...": the question asks for an event, not a thing
    phrase = _phrase_at(tokens, k)
    if phrase and _head_noun(phrase).lower() in ("kind", "type", "sort") and "of" in phrase:
        phrase = phrase[phrase.index("of") + 1 :]
    return phrase


def _entity_of_type(tokens: list[str], noun: str) -> list[str]:
    """The entity an answer gives for ``noun``, in its words: "psychiatrist John Krystal", "the drug naltrexone",
    "Stanford University", "the item was a rusted safe"."""
    for k, token in enumerate(tokens):
        if not _same_noun(token, noun):
            continue
        if _is_capitalised(token):
            return _capitalised_run(tokens, k)
        following = tokens[k + 1] if k + 1 < len(tokens) else ""
        if _is_capitalised(following) and _is_content(following):
            return _capitalised_run(tokens, k + 1)
        after = tokens[k + 2].lower() if k + 2 < len(tokens) else "."
        if k and tokens[k - 1].lower() == "the" and _is_content(following) and (
            not _is_word(after) or after in ("which", "who", "that")
        ):
            return tokens[k - 1 : k + 2]
        if following.lower() in _BE:
            phrase = _phrase_at(tokens, k + 2)
            if phrase:
                return phrase
    return []


def _introduced_phrases(answer: list[str], question: list[str]) -> list[list[str]]:
    """Noun phrases the answer brings in that the question did not name."""
    asked = {w.lower() for w in question}
    phrases, i = [], 0
    while i < len(answer):
        phrase = _phrase_at(answer, i) if answer[i].lower() in ("the", "a", "an") else []
        if len(phrase) > 1 and _head_noun(phrase).lower() not in asked:
            phrases.append(phrase)
        i += max(len(phrase), 1)
    return phrases


def _place_phrase(tokens: list[str], named_only: bool) -> list[str]:
    """The first "near the mill"-like phrase; with ``named_only`` only a named place ("near Coldbrook Bridge")."""
    for i, token in enumerate(tokens[:-1]):
        if token.lower() in _PLACE_PREPOSITIONS:
            phrase = _phrase_at(tokens, i + 1)
            if phrase and (not named_only or _is_capitalised(phrase[-1])):
                return [token.lower(), *phrase]
    return []


class _Turn:
    """One earlier question and its answer, read for what a follow-up may point back to."""

    def __init__(self, question: str, answer: str):
        self.question = _tokens(question)
        # The answer's words without its Markdown bold; the bold span itself is the reader's answer.
        self.answer = _tokens(answer.replace("**", ""))
        bold = _BOLD.search(answer)
        asked = _asked_phrase(self.question)
        self.asked_noun = _head_noun(asked) if asked else ""
        opened = _skip_opener(self.question)
        be_question = len(opened) > 1 and opened[1].lower() in _BE
        if asked and be_question and asked[0].lower() not in _DETERMINERS:
            typed = asked  # "What is ketamine?" names its thing already; "What was the heaviest item?" does not
        else:
            typed = (_entity_of_type(self.answer, self.asked_noun) if asked else []) or (
                _tokens(bold.group(1)) if bold and asked else [])
        self.entity = [] if _looks_like_person(typed) else typed
        # For "that"/"this": what the question asked to identify, as the answer named it.
        self.focus = self.entity or (asked if be_question else [])
        phrases = _noun_phrases(self.question) + _introduced_phrases(self.answer, self.question)
        self.candidates = [p for p in ([self.entity] if self.entity else []) + phrases if not _looks_like_person(p)]

    def place(self) -> list[str]:
        """Where "there" points: the place the answer named for a which/where question, else a named place."""
        if self.entity and _is_capitalised(self.entity[0]):
            return ["at", *self.entity]
        if self.question and self.question[0].lower() == "where":
            return _place_phrase(self.answer, named_only=False)
        return _place_phrase(self.question, named_only=True) or _place_phrase(self.answer, named_only=True)


# -- references in the follow-up --------------------------------------------------------------------
def _is_expletive(tokens: list[str], i: int) -> bool:
    """'Is it true that ...', 'it is possible to ...': an 'it' that stands for nothing."""
    following = [t.lower() for t in tokens[i + 1 : i + 3]] + ["", ""]
    return following[0] in _EXPLETIVE or following[0] in _BE and following[1] in _EXPLETIVE


def _demonstrative(tokens: list[str], i: int) -> str | None:
    """How this/that/these/those is used: "pronoun" ('How long did that last?'), "det" ('that study'), or None
    (a conjunction or relative: 'say that ketamine ...', 'the study that the team ran')."""
    before = tokens[i - 1].lower() if i else ""
    following = tokens[i + 1] if i + 1 < len(tokens) else "?"
    if not _is_word(following):
        return "pronoun"
    if following.lower() in _FUNCTION or _verb_like(following):
        return "pronoun" if not before or before in _AUX | _WH | _PREPOSITIONS | _CONJUNCTIONS else None
    return None if before in _SAYING or _is_content(before) else "det"


def _thing_reference(tokens: list[str]) -> tuple[int, int, str] | None:
    """(start, end, kind) of the first reference to a thing; kind is the pronoun, or "det" for "that study".

    A pronoun after a clause break that follows content words ("What is ketamine, and how does it work?")
    refers inside the question, so it and everything after it is left alone.
    """
    content_seen = False
    for i, token in enumerate(tokens):
        word = token.lower()
        if word in _THING_PRONOUNS and not (word == "it" and _is_expletive(tokens, i)):
            return i, i + 1, word
        usage = _demonstrative(tokens, i) if word in _DEMONSTRATIVES else None
        if usage:
            return (i, i + 1, word) if usage == "pronoun" else (i, i + 2, "det")
        if content_seen and (token == "," or word in _CONJUNCTIONS):
            return None
        content_seen = content_seen or _is_content(token)
    return None


def _place_reference(tokens: list[str]) -> int | None:
    """Index of a "there" that points at a place (not "is there", "there are")."""
    for i, token in enumerate(tokens):
        if token.lower() == "there":
            before = tokens[i - 1].lower() if i else ""
            following = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
            if before not in _AUX and following not in _AUX:
                return i
    return None


def _referent(kind: str, noun: str, turns: list[_Turn], question: list[str]) -> list[str]:
    """The phrase a thing reference stands for, from the latest turn that offers one."""
    present = {w.lower() for w in question}
    for turn in reversed(turns[-_THING_TURNS:]):
        if kind == "det":  # "that drug" is the drug the answer named, or a phrase about a drug
            named = [turn.entity] if turn.entity and _same_noun(turn.asked_noun, noun) else []
            found = named + [p for p in turn.candidates if any(_same_noun(w, noun) for w in p)]
        elif kind in ("this", "that"):
            found = [turn.focus] if turn.focus else []
        else:
            plural = kind in _PLURAL
            found = [p for p in turn.candidates if _is_plural(p) == plural]
        found = [p for p in found if _head_noun(p).lower() not in present or kind == "det"]
        if found:
            return found[0]
    return []


# -- rewriting ---------------------------------------------------------------------------------------
def _as_reference(phrase: list[str], at_start: bool) -> str:
    """The phrase as it reads in the middle of a question: "a pilot study" → "the pilot study"."""
    words = list(phrase)
    if words[0].lower() in ("a", "an", "the"):
        words[0] = "the"
    text = " ".join(words)
    return text[:1].upper() + text[1:] if at_start else text


def _possessive(text: str) -> str:
    return f"{text}'" if text.endswith("s") and not text.endswith(("ss", "us", "is")) else f"{text}'s"


def _last_person(turns: list[_Turn]) -> str | None:
    """The surname of the person last talked about: named in the latest question, else in its answer, and so on back."""
    for turn in reversed(turns):
        for tokens in (turn.question, turn.answer):
            surname = _first_surname(tokens)  # the subject comes first in questions and in news sentences alike
            if surname:
                return surname
        surnames = [w for i, w in enumerate(turn.question) if i and _is_capitalised(w) and _is_content(w)
                    and len(w) > 2 and turn.question[i - 1] not in _SENTENCE_END]
        if surnames:
            return surnames[0]
    return None


def _fragment(tokens: list[str]) -> list[str]:
    """X in "What about X?", "How about X?" or "And X?" (no verb, no question word, no pronoun of its own)."""
    words = [t for t in tokens if _is_word(t)]
    lowered = [w.lower() for w in words]
    if any(w in _PRONOUNS or w in _DEMONSTRATIVES for w in lowered):
        return []  # "What about him?": the pronoun is resolved in place
    if lowered[:2] in (["what", "about"], ["how", "about"]):
        return words[2:]
    if lowered[:1] and lowered[0] in _OPENERS and not any(w in _WH or w in _AUX or _verb_like(w) for w in lowered):
        return words[1:]
    return []


def _is_rank(word: str) -> bool:
    """An ordinal or superlative: the word "And the third?" swaps into "the first phase"."""
    return word.lower() in _ORDINALS or len(word) > 4 and word.lower().endswith("est")


def _with_fragment(previous: list[str], fragment: list[str]) -> str | None:
    """The previous question asked again about ``fragment``: the phrase it replaces shares its head, or its
    ordinal/superlative ("the first phase" → "And the third?"), or else is the subject."""
    phrases = _noun_phrases(previous)
    if not phrases or fragment[0].lower() in _PREPOSITIONS:
        return None
    head = _head_noun(_phrase_at(fragment, 0) or fragment)
    target, replacement = phrases[0], fragment
    same_head = [p for p in phrases if any(_same_noun(w, head) for w in p)]
    ranked = [(p, k) for p in phrases for k, w in enumerate(p) if _is_rank(w)]
    if same_head:
        target = same_head[0]
        if _head_index(fragment) == len(fragment) - 1:  # "the first phase of the programme" keeps "of the programme"
            replacement = fragment + target[_head_index(target) + 1 :]
    elif ranked and len(fragment) <= 2 and _is_rank(head):
        target, rank = ranked[0]
        replacement = target[:rank] + [head] + target[rank + 1 :]
    start = next(i for i in range(len(previous)) if previous[i : i + len(target)] == target)
    words = previous[:start] + [_as_reference(replacement, start == 0)] + previous[start + len(target) :]
    return _join(words)


def _join(tokens: list[str]) -> str:
    return re.sub(r" (?=[^\w\s'’(“\"])", "", " ".join(tokens))


def _carry(question: str, previous: list[str]) -> str:
    """The question with the previous question's content words appended, as a retrieval hint."""
    present = {w.lower() for w in _tokens(question)}
    extra = [w for w in previous if _is_content(w) and w.lower() not in present]
    return f"{question} ({' '.join(extra)})" if extra else question


def _person_edits(tokens: list[str], turns: list[_Turn]) -> Edits | None:
    """he/she/him/his/her → the person last named; None when nobody was."""
    pronouns = [i for i, t in enumerate(tokens) if t.lower() in _PERSON_PRONOUNS]
    if not pronouns:
        return {}
    person = _last_person(turns)
    if person is None:
        return None
    edits = {}
    for i in pronouns:
        word = tokens[i].lower()
        possessive = word in ("his", "hers") or word == "her" and i + 1 < len(tokens) and _is_content(tokens[i + 1])
        edits[i] = (i + 1, _possessive(person) if possessive else person)
    return edits


def _thing_edits(tokens: list[str], turns: list[_Turn]) -> Edits | None:
    """The first it/they/that/"that study" → what it stands for (later ones then read right); None if unknown."""
    reference = _thing_reference(tokens)
    if not reference:
        return {}
    start, end, kind = reference
    referent = _referent(kind, tokens[end - 1], turns, tokens)
    if not referent:
        return None
    text = _as_reference(referent, at_start=start == 0 or tokens[start - 1] in _SENTENCE_END)
    return {start: (end, _possessive(text) if kind in _POSSESSIVES else text)}


def _place_edits(tokens: list[str], turns: list[_Turn]) -> Edits | None:
    """A locative "there" → "at Stanford University", "near the mill"; None if no place was named."""
    there = _place_reference(tokens)
    if there is None:
        return {}
    place = next((p for p in (t.place() for t in reversed(turns[-_THING_TURNS:])) if p), [])
    return {there: (there + 1, _join(place))} if place else None


def standalone_question(question: str, history: History | None) -> str:
    """The question rewritten to stand on its own; unchanged when it already does."""
    if not history:
        return question
    turns = [_Turn(q, a) for q, a in history[-_TURNS:]]
    previous = turns[-1].question
    head = _head(question)
    spans = list(_TOKEN.finditer(head))
    tokens = [m.group() for m in spans]
    fragment = _fragment(tokens)
    if fragment:
        return _with_fragment(previous, fragment) or _carry(question, previous)

    edits: Edits = {}
    unresolved = False
    for found in (_person_edits(tokens, turns), _thing_edits(tokens, turns), _place_edits(tokens, turns)):
        unresolved = unresolved or found is None
        edits.update(found or {})
    rewritten = head
    for i in sorted(edits, reverse=True):
        end, text = edits[i]
        rewritten = rewritten[: spans[i].start()] + text + rewritten[spans[end - 1].end() :]
    rewritten += question[len(head) :]
    elliptical = bool(tokens) and tokens[0].lower() in _OPENERS and not edits
    contentless = not edits and not any(_is_content(t) and t.lower() not in _DEGREE for t in tokens)
    return _carry(rewritten, previous) if unresolved or elliptical or contentless else rewritten
