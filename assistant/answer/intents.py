"""Recognising what a message asks for when it is not a factual question about the article.

"Summarise this", "hi", "thanks", "what can you do?" or "who wrote it?" retrieve nothing useful:
the closest sentence of the article is not an answer to them. They are recognised here, before
retrieval, from the whole message: every rule must match the message from end to end (after
polite padding is peeled off), so a factual question that merely contains such a word ("What did
the study find about depression?", "Who wrote the WHO list?") stays a factual question.

Cost is bounded: messages longer than ``MAX_MESSAGE_CHARS`` are never intents, what is matched is
at most ``MAX_INTENT_CHARS`` long, and no pattern repeats a part that could match the same text in
two ways, so matching cannot backtrack catastrophically.
"""

from __future__ import annotations

import re

OVERVIEW = "overview"
GREETING = "greeting"
THANKS = "thanks"
HELP = "help"
METADATA = "metadata"

# Metadata fields a question can ask for.
AUTHOR = "author"
DATE = "date"
SOURCE = "source"
TITLE = "title"

# The longest message that can still be small talk or a request for a summary; longer ones are questions.
MAX_INTENT_CHARS = 160
# The same limit on the raw message (punctuation and spaces included), checked before any work is done.
MAX_MESSAGE_CHARS = 4 * MAX_INTENT_CHARS

_CONTRACTIONS = [
    (re.compile(r"\b(what|who|where|when|how|that|it)'s\b"), r"\1 is"),
    (re.compile(r"\b(i|you)'d\b"), r"\1 would"),
    (re.compile(r"\bwhat're\b"), "what are"),
]
_NOT_WORD = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")

# Padding around the request itself: greetings, politeness, "for me", "quickly" ... (longest first: the
# repetition stops at the first word no alternative matches).
_LEAD = re.compile(
    r"^(?:(?:hi there|hello there|hey there|hi|hello|hey|good morning|good afternoon|good evening|thanks|thank you|"
    r"ok|okay|so|and|now|right|well|please|pls|just|quickly|briefly|also|"
    r"can you|could you|would you|will you|can i get|could i get|can i have|could i have|may i have|"
    r"i want to know|i would like to know|i wonder|i want|i need|i would like|i wanna|"
    r"give me|get me|show me|tell me|let me have|let me know)\s+)+"
)
_TRAIL = re.compile(
    r"(?:\s+(?:please|pls|for me|quickly|briefly|in short|in brief|thanks|thank you|then|again|now))+$"
)

# What "the article" may be called when a question is about the article itself.
_THE_ARTICLE = r"(?:it|this|this one|(?:this|that|the) (?:article|story|piece|text|post|page))"

_OVERVIEW = re.compile(
    r"(?:(?:a|an|the|some|short|quick|brief|summari[sz]e|sum up|recap|outline|explain|describe) )*"
    r"(?:"
    rf"what is {_THE_ARTICLE} (?:about|saying|all about)|what {_THE_ARTICLE} is (?:about|saying|all about)|"
    rf"what (?:does|did) {_THE_ARTICLE} (?:say|cover|discuss|talk about|tell us|tell me)|"
    r"what is (?:the )?(?:gist|point|upshot|bottom line|main idea|main point|story|summary)|"
    rf"(?:summari[sz]e|sum up|recap|outline|explain|describe) {_THE_ARTICLE}|"
    r"summari[sz]e|sum up|recap|summary|summari[sz]ation|synopsis|overview|gist|abstract|tl ?dr|too long didn't read|"
    r"(?:give me |what are |what were )?(?:the )?(?:main|key|most important|important|big) "
    r"(?:points?|findings?|takeaways?|take aways?|ideas?|messages?|facts?|highlights?)|"
    r"highlights|takeaways|in a nutshell|in short|(?:the )?short version|(?:the )?big picture"
    r")"
    rf"(?: (?:of|in|from) {_THE_ARTICLE})?"
    r"(?: in (?:a nutshell|a few sentences|one paragraph|brief|short|plain english))?"
)
_GREETING = re.compile(
    r"(?:hi|hello|hey|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening|day))"
    r"(?: (?:there|bot|assistant|friend|all|everyone|again))?"
    r"(?: how are you(?: doing| today)?| what is up| how is it going)?|how are you(?: doing| today)?|what is up|sup"
)
_THANKS = re.compile(
    r"(?:(?:ok|okay|great|perfect|awesome|cool|nice|brilliant|excellent|wonderful|lovely|fantastic|good|got it) )*"
    r"(?:thanks|thank you|thank u|thx|ty|cheers|many thanks|much appreciated|appreciate it|that is helpful|"
    r"that helps|that was helpful|very helpful)"
    r"(?: (?:a lot|so much|very much|a bunch|a million|again|for (?:the|your) help|for that|mate|bot|buddy))*"
)
_HELP = re.compile(
    r"help(?: me)?|how can you help(?: me)?|"
    r"what (?:can|do|should|could) (?:you|i) (?:do|ask|ask you|ask about)|"
    r"what (?:kind of |sort of |type of )?(?:questions|things) (?:can|should|could) (?:i ask|you answer)(?: you)?|"
    r"how (?:does|do) (?:this|it|you) work|how do i use (?:this|it|you)|how to use (?:this|it)|"
    r"what are you|who are you|what is this|what do you know|instructions|usage|commands|options"
)
_OF_THE_ARTICLE = rf"(?: (?:of|for|on) {_THE_ARTICLE})?"
_METADATA: dict[str, re.Pattern] = {
    AUTHOR: re.compile(
        rf"who (?:wrote|authored|penned|reported) {_THE_ARTICLE}|who is {_THE_ARTICLE} by|"
        rf"by whom (?:was|is) {_THE_ARTICLE} written|"
        r"(?:who is |what is )?(?:the )?(?:author|writer|journalist|reporter|byline|author's name|name of the author)"
        + _OF_THE_ARTICLE
    ),
    DATE: re.compile(
        rf"when (?:was|is|were) {_THE_ARTICLE} (?:published|written|posted|released|from|dated|out)|"
        rf"what (?:day|year|date) (?:was|is) {_THE_ARTICLE} (?:published|written|from)|"
        rf"how (?:old|recent) is {_THE_ARTICLE}|"
        r"(?:what is |what was )?(?:the )?(?:date|publication date|publish date|published date|date of publication)"
        + _OF_THE_ARTICLE
    ),
    SOURCE: re.compile(
        rf"where (?:is|was|does) {_THE_ARTICLE} (?:from|published|come from|originally from)|"
        rf"where (?:can|do) i (?:find|read) (?:the original|{_THE_ARTICLE})(?: online)?|"
        rf"(?:which|what) (?:site|website|publication|outlet|newspaper|paper|magazine) (?:published|is|ran) "
        rf"{_THE_ARTICLE}(?: from)?|"
        rf"who published {_THE_ARTICLE}|(?:link|url) to {_THE_ARTICLE}|"
        r"(?:what is |where is |what was )?(?:the )?(?:source|source link|original source|link|url|original link|"
        r"link to the original(?: article| story)?|original (?:article|story|url))" + _OF_THE_ARTICLE
    ),
    TITLE: re.compile(
        rf"what is {_THE_ARTICLE} (?:called|titled)|what is the (?:article|story)'s (?:title|headline|name)|"
        rf"(?:what is )?the name of {_THE_ARTICLE}|"
        r"(?:what is |what was )?(?:the )?(?:title|headline)" + _OF_THE_ARTICLE
    ),
}


def normalise(message: str) -> str:
    """Lower case, straight apostrophes, contractions spelt out, punctuation dropped, single spaces."""
    text = message.lower().replace("’", "'").replace("‘", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip(" '")


def _core(text: str) -> str:
    """The request without the greeting and politeness around it ("hi, can you summarise it please")."""
    return _TRAIL.sub("", _LEAD.sub("", text)).strip()


def _short_request(message: str) -> str | None:
    """The normalised message, or None when it is too long to be anything but a question."""
    if len(message) > MAX_MESSAGE_CHARS:
        return None
    text = normalise(message)
    return text if 0 < len(text) <= MAX_INTENT_CHARS else None


def _metadata_of(core: str) -> str | None:
    for name, pattern in _METADATA.items():
        if pattern.fullmatch(core):
            return name
    return None


def recognise(message: str) -> str | None:
    """The intent kind of a message, or None for an ordinary question about the article's content."""
    text = _short_request(message)
    if text is None:
        return None
    if _THANKS.fullmatch(text):
        return THANKS
    if _GREETING.fullmatch(text):
        return GREETING
    core = _core(text)
    if not core:
        return None
    if _HELP.fullmatch(core):
        return HELP
    if _OVERVIEW.fullmatch(core):
        return OVERVIEW
    return METADATA if _metadata_of(core) else None


def metadata_field(message: str) -> str | None:
    """Which fact about the article a metadata question asks for: author, date, source or title."""
    text = _short_request(message)
    return _metadata_of(_core(text)) if text else None
