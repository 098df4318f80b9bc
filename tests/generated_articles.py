"""Short generated news articles with known facts: cheap to embed, and each one answers its own questions.

Used where a test (or bench/scale.py) needs many articles: every article is about its own town, so
"Who is the mayor of <town>?" has exactly one right quote in the whole corpus.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

FIRST = ["Amara", "Bruno", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kofi", "Lena"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Herrera", "Kowalski", "Brennan", "Sato", "Haddad"]
FILLER = [
    "Residents gathered in the square on a cold morning to hear the news.",
    "The council meets every second Tuesday in the old library building.",
    "Local shops reported a busy week after the market reopened.",
    "A small group of volunteers painted the railings along the canal.",
    "The weather service expects rain for most of the coming fortnight.",
    "Several schools announced new evening classes for adults.",
]


@dataclass(frozen=True)
class GeneratedArticle:
    id: str
    town: str
    mayor: str
    year: int
    text: str

    @property
    def mayor_sentence(self) -> str:
        return f"The mayor of {self.town} is {self.mayor}."


def generated_article(n: int, seed: int = 7, filler_sentences: int = 3) -> GeneratedArticle:
    rng = random.Random(seed * 100_003 + n)
    town = f"Townsend{n:04d}"
    mayor = f"{rng.choice(FIRST)} {rng.choice(LAST)}{n}"
    year = rng.randrange(1850, 2000)
    facts = [
        f"The mayor of {town} is {mayor}.",
        f"The stone bridge in {town} was built in {year}.",
        f"{town} has {rng.randrange(2, 40)} public gardens and {rng.randrange(1, 9)} libraries.",
    ]
    body = facts[:1] + rng.sample(FILLER, k=min(filler_sentences, len(FILLER))) + facts[1:]
    text = f"News from {town}\n\n" + " ".join(body) + "\n"
    return GeneratedArticle(f"town-{n:04d}", town, mayor, year, text)


def write_generated_corpus(folder: Path, count: int, seed: int = 7, filler_sentences: int = 3) -> list[GeneratedArticle]:
    """``count`` articles as ``town-NNNN.txt`` files in ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    articles = [generated_article(n, seed, filler_sentences) for n in range(count)]
    for article in articles:
        (folder / f"{article.id}.txt").write_text(article.text, encoding="utf-8")
    return articles
