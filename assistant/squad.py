"""The official SQuAD 2.0 JSON format as benchmark input: articles, questions, normalisation.

SQuAD 2.0 (Rajpurkar, Jia and Liang, 2018) is the standard test of "answer from this text, or
say it does not say", written by people who never saw this project. Each of its articles (all
paragraphs joined, title first) becomes one article file of a corpus; every question is asked
on its own against that article.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from pathlib import Path

from assistant.corpus import article_id_for
from assistant.errors import UserError


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    impossible: bool


@dataclass(frozen=True)
class SquadArticle:
    title: str
    paragraphs: tuple[str, ...]
    questions: tuple[SquadQuestion, ...]

    @property
    def file_name(self) -> str:
        return f"{article_id_for(Path(self.title))}.txt"

    @property
    def article_id(self) -> str:
        return article_id_for(Path(self.file_name))

    def file_text(self) -> str:
        """Title first, then the paragraphs, blank lines between (what the corpus loader reads)."""
        return "\n\n".join([self.title.replace("_", " "), *self.paragraphs]) + "\n"


def is_squad(data: object) -> bool:
    """Whether parsed JSON has the SQuAD shape: {"data": [{"title", "paragraphs": [...]}]}."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("data"), list)
        and all(isinstance(a, dict) and "paragraphs" in a for a in data["data"])
    )


def parse_squad(data: dict, source: str = "SQuAD file") -> list[SquadArticle]:
    """Articles of a parsed SQuAD 2.0 file; a malformed one is a ``UserError``."""
    articles = []
    try:
        for entry in data["data"]:
            paragraphs, questions = [], []
            for paragraph in entry["paragraphs"]:
                paragraphs.append(" ".join(paragraph["context"].split()))
                for qa in paragraph["qas"]:
                    answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                    impossible = bool(qa.get("is_impossible", not answers))
                    questions.append(SquadQuestion(str(qa["id"]), qa["question"], answers, impossible))
            articles.append(SquadArticle(str(entry["title"]), tuple(paragraphs), tuple(questions)))
    except (KeyError, TypeError) as error:
        raise UserError(f"{source} is not in the SQuAD 2.0 format (missing {error})") from error
    if not articles:
        raise UserError(f"{source} holds no articles")
    return articles


def read_squad(path: Path) -> list[SquadArticle] | None:
    """The articles of a SQuAD 2.0 file, or None when the JSON has another shape (our own QA format)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read {path}: {error}".splitlines()[0]) from error
    return parse_squad(data, str(path)) if is_squad(data) else None


def load_squad(path: Path) -> list[SquadArticle]:
    articles = read_squad(path)
    if articles is None:
        raise UserError(f"{path} is not in the SQuAD 2.0 format")
    return articles


def write_corpus(articles: list[SquadArticle], folder: Path) -> None:
    """One .txt file per article; files already holding the same text are left alone (the index stays)."""
    folder.mkdir(parents=True, exist_ok=True)
    for article in articles:
        path = folder / article.file_name
        text = article.file_text()
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation + "“”‘’")


def normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def holds_answer(text: str, answers: tuple[str, ...]) -> bool:
    """A gold answer, normalised, appears in the normalised text (as whole words)."""
    normalised = f" {normalise(text)} "
    return any(f" {normalise(a)} " in normalised for a in answers if normalise(a))
