"""What the reader model reads for one candidate sentence: the same text at training and at question time.

The pair is (question [SEP] article title, sentence [SEP] previous sentence). The candidate comes first
in its segment, so the model learns that the span it marks and the yes/no it gives are about that
sentence; the previous sentence trails as context only when the candidate opens by pointing back ("He",
"It", "These…"), where it carries the subject. Trailing also means truncation cuts the context before
the candidate. The title rides with the question (never truncated): a question names the article's
subject ("When did the Huguenots…") that its answer sentence leaves implied, and a reader without the
title takes that missing name for a swapped one. Readers trained before the title (``reads_title``
false in their record) get the question alone.
"""

from __future__ import annotations

import re

# Words that, opening a sentence, leave its subject in the sentence before.
_POINTS_BACK = re.compile(
    r"^\W*(?:he|she|it|they|them|his|her|hers|its|their|theirs|this|these|those|that|such|there|both|"
    r"the latter|the former|the two|the same|in it|of these|of them|however|also|then|thus|therefore)\b",
    re.I,
)
SEPARATOR = " [SEP] "
# A title is a name, not a text: longer ones (a news headline can run on) are cut to this many characters.
MAX_TITLE_CHARS = 120


def needs_context(sentence: str) -> bool:
    """Whether the sentence opens with a word whose referent lies in the previous sentence."""
    return bool(_POINTS_BACK.match(sentence))


def reader_question(question: str, title: str | None) -> str:
    """The first segment the reader gets: the question, then the article's title (SQuAD's underscores as spaces)."""
    title = " ".join((title or "").replace("_", " ").split())[:MAX_TITLE_CHARS]
    return f"{question}{SEPARATOR}{title}" if title else question


def reader_text(sentence: str, previous: str | None) -> str:
    """The second segment the reader gets: the sentence, then its predecessor when it carries the subject.

    The candidate is always the first ``len(sentence)`` characters, so answer spans map back directly.
    """
    if previous and needs_context(sentence):
        return f"{sentence}{SEPARATOR}{previous}"
    return sentence


def candidate_tokens(encoding, sentence_chars: int) -> list[int]:
    """Indices of the word pieces of the candidate sentence in an encoded (question, ``reader_text``) pair:
    the second segment before its context. Answer spans are learnt and read only there."""
    return [i for i, (type_id, (start, end), special) in enumerate(zip(encoding.type_ids, encoding.offsets,
                                                                        encoding.special_tokens_mask))
            if type_id == 1 and not special and start < end <= sentence_chars]
