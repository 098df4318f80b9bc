"""The answering stage for recognised intents: overview, greeting, thanks, help and metadata.

These messages are answered about one article without retrieval. Only an overview and a found
metadata fact count as answers from the article (``found``); a greeting, thanks or help is a
reply that points the reader at questions the article does answer. Overviews and suggestions
are worked out once per article version and kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from assistant.answer.extractive import quoted
from assistant.answer.intents import GREETING, HELP, METADATA, OVERVIEW, THANKS, metadata_field
from assistant.answer.metadata import metadata_reply
from assistant.answer.model import NOT_IN_ARTICLE, Answer, Citation
from assistant.answer.overview import overview_citations
from assistant.answer.suggestions import answered_suggestions
from assistant.index import IndexedArticle, PassageIndex

# No generative model writes any of these replies.
BACKEND = "extractive"
# Suggestions offered in a greeting, thanks or help reply.
OFFERED = 4
OVERVIEW_HEADING = "In brief, in the article's own words:"
NO_OVERVIEW = "The article has no full sentences of its own to summarise it with."

_OPENINGS = {
    GREETING: "Hello! I answer questions about “{title}” by quoting the article itself.",
    THANKS: "You're welcome. Anything else about “{title}”?",
    HELP: (
        "I answer questions about “{title}” with the article's own sentences, each cited as [n]; "
        "when the article does not say, I tell you so. Ask for a summary, or who wrote it and where it is from."
    ),
}

Ask = Callable[[str, str], Answer]


class IntentAnswerer:
    """Answers a recognised intent about one article; ``ask(question, article_id)`` checks suggestions."""

    def __init__(self, index: PassageIndex, ask: Ask):
        self.index = index
        self.ask = ask
        self._overviews: dict[str, list[Citation]] = {}
        self._suggestions: dict[str, list[str]] = {}

    def overview_citations(self, article: IndexedArticle) -> list[Citation]:
        """The overview's sentences as citations; the same for as long as the article version is indexed."""
        if article.version not in self._overviews:
            vectors = self.index.sentence_vectors(article.version)
            self._overviews[article.version] = overview_citations(article, vectors)
        return self._overviews[article.version]

    def suggestions(self, article: IndexedArticle) -> list[str]:
        """Questions the article answers (3 to 5 for an ordinary news story)."""
        if article.version not in self._suggestions:
            self._suggestions[article.version] = answered_suggestions(article, lambda q: self.ask(q, article.id))
        return self._suggestions[article.version]

    def answer(self, kind: str, question: str, article: IndexedArticle) -> Answer:
        reply = Answer(question=question, text="", found=False, article=article.id, backend=BACKEND, intent=kind)
        if kind == OVERVIEW:
            reply.citations = list(self.overview_citations(article))
            lines = [f"{quoted(c.quote)} [{c.n}]" for c in reply.citations]
            reply.text = "\n\n".join([OVERVIEW_HEADING, *lines]) if lines else NO_OVERVIEW
            reply.found = bool(reply.citations)
        elif kind == METADATA:
            known = metadata_reply(metadata_field(question), article)
            reply.text, reply.citations = known or (NOT_IN_ARTICLE, [])
            reply.found = known is not None
        else:
            opening = _OPENINGS[kind].format(title=article.title)
            offered = self.suggestions(article)[:OFFERED]
            reply.text = "\n".join([opening, "You could ask:", *(f"- {q}" for q in offered)]) if offered else opening
        return reply

    def stream(self, kind: str, question: str, article: IndexedArticle) -> Iterator[str | Answer]:
        """The reply text (ready at once), then the ``Answer``: the same events as the answerers'."""
        answer = self.answer(kind, question, article)
        yield answer.text
        yield answer
