"""Intents (overview, greeting / thanks / help, metadata), the overview and suggested questions.

Real components throughout: the session ``bot`` over the shipped article, and one Assistant over
the second article (no byline) plus a third article written for these tests (with a byline and a
date line), sharing the loaded MiniLM.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.answer import suggestions
from assistant.answer.suggestions import draft_questions
from assistant.answer.intents import GREETING, HELP, METADATA, OVERVIEW, THANKS, recognise
from assistant.answer.model import NOT_IN_ARTICLE, Answer
from test_answers import assert_honest  # every [n] is backed, every quote verbatim inside its passage

DATA = Path(__file__).parent / "data"
RIVER = DATA / "second_article" / "river-cleanup.md"
HARBOUR = DATA / "bylined_article" / "harbour-library.txt"
LAKE = DATA / "encyclopaedic_article" / "lake-varnholm.txt"

PHRASINGS = [
    ("What is this about?", OVERVIEW),
    ("What's the article about?", OVERVIEW),
    ("Summarize", OVERVIEW),
    ("summarise this", OVERVIEW),
    ("Can you give me a summary, please?", OVERVIEW),
    ("main points", OVERVIEW),
    ("What are the key findings?", OVERVIEW),
    ("key takeaways", OVERVIEW),
    ("tl;dr", OVERVIEW),
    ("TLDR?", OVERVIEW),
    ("Overview", OVERVIEW),
    ("What's the gist?", OVERVIEW),
    ("in a nutshell", OVERVIEW),
    ("Hi! Could you summarise the article for me?", OVERVIEW),
    ("hi", GREETING),
    ("Hello!", GREETING),
    ("hey there", GREETING),
    ("Good morning", GREETING),
    ("thanks", THANKS),
    ("Thank you!", THANKS),
    ("cheers", THANKS),
    ("help", HELP),
    ("What can you do?", HELP),
    ("How does this work?", HELP),
    ("What can I ask?", HELP),
    ("Who wrote it?", METADATA),
    ("Who is the author of this article?", METADATA),
    ("When was it published?", METADATA),
    ("What's the date of this article?", METADATA),
    ("What is the source?", METADATA),
    ("Where is this from?", METADATA),
    ("link to the original", METADATA),
    ("What's the title?", METADATA),
]

FACTUAL = [
    "What did the study find about depression?",
    "Who wrote the WHO list?",
    "What are the main side effects of ketamine?",
    "Who led the study?",
    "What does the article say about glutamate?",
    "When was the study published?",
    "Who is the author of the paper?",
    "What is the title of the paper?",
    "Help me understand what naltrexone does",
    "What can you tell me about the K-hole?",
    "Hi, what is naltrexone?",
    "What are the key findings of the study?",
]


@pytest.fixture(scope="module")
def pair_bot(tmp_path_factory, embedding_model) -> Assistant:
    """The second article (no byline), the third one (byline, date line, no source link) and an encyclopaedic one."""
    corpus = tmp_path_factory.mktemp("intent-corpus")
    for source in (RIVER, HARBOUR, LAKE):
        shutil.copyfile(source, corpus / source.name)
    bot = Assistant(corpus_dir=corpus, data_dir=tmp_path_factory.mktemp("intent-index"), embeddings=embedding_model)
    report = bot.sync()
    assert sorted(report.added) == ["harbour-library", "lake-varnholm", "river-cleanup"] and not report.problems, report
    return bot


def assert_overview(bot: Assistant, answer: Answer, article_id: str) -> None:
    article = bot.index.articles[article_id]
    assert answer.found and answer.intent == OVERVIEW and answer.article == article_id
    assert 3 <= len(answer.citations) <= 5, answer.text
    assert_honest(bot, answer)
    starts = [c.quote_start for c in answer.citations]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    sentence_spans = set(article.sentences)
    for citation in answer.citations:
        assert (citation.quote_start, citation.quote_end) in sentence_spans  # whole sentences only
        assert len(citation.quote.split()) >= 8 and not citation.quote.startswith(("“", '"'))


def assert_answered_suggestions(bot: Assistant, article_id: str) -> list[str]:
    suggestions = bot.suggestions(article_id)
    assert 3 <= len(suggestions) <= 8, suggestions
    assert len(set(suggestions)) == len(suggestions)
    for question in suggestions:
        assert question.endswith("?") and recognise(question) is None
        answer = bot.ask(question, article=article_id)
        assert answer.found, (question, answer.text)
        assert_honest(bot, answer)
    return suggestions


@pytest.mark.parametrize(("message", "kind"), PHRASINGS)
def test_intent_phrasings_are_recognised_and_answered(bot, message, kind):
    assert recognise(message) == kind
    answer = bot.ask(message)
    article = bot.index.articles["ketamine-opioid"]
    assert answer.intent == kind and answer.article == article.id
    if kind == OVERVIEW:
        assert_overview(bot, answer, article.id)
    elif kind == METADATA:
        assert answer.citations == []  # the shipped article has no byline or date line to quote
        assert answer.found == (answer.text != NOT_IN_ARTICLE)
    else:
        assert not answer.found and answer.citations == []
        assert article.title in answer.text
        offered = [line[2:] for line in answer.text.splitlines() if line.startswith("- ")]
        assert 3 <= len(offered) <= 4 and set(offered) <= set(bot.suggestions())


@pytest.mark.parametrize("question", FACTUAL)
def test_factual_questions_are_not_taken_for_intents(bot, question):
    assert recognise(question) is None
    assert bot.ask(question).intent is None


def test_intent_recognition_cost_is_bounded():
    started = time.perf_counter()
    for message in ("summarise " * 5000, "hi " * 20000, "who wrote " + "it " * 10000, "a" * 100_000):
        assert recognise(message) is None
    assert time.perf_counter() - started < 0.5


def test_overview_of_the_shipped_article(bot):
    answer = bot.overview()
    assert_overview(bot, answer, "ketamine-opioid")
    assert bot.overview("ketamine-opioid").citations == answer.citations
    assert "naltrexone" in " ".join(c.quote for c in answer.citations)  # the study's method is part of the gist


def test_overview_streams_text_then_an_answer_with_timings(bot):
    events = list(bot.stream("Give me a quick summary"))
    assert all(isinstance(e, str) for e in events[:-1]) and "".join(events[:-1]) == events[-1].text
    final = events[-1]
    assert isinstance(final, Answer) and final.intent == OVERVIEW
    assert set(final.timings_ms) >= {"retrieve", "answer", "total"}
    assert final.to_dict()["intent"] == OVERVIEW


def test_suggestions_for_the_shipped_article_are_answered(bot):
    suggestions = assert_answered_suggestions(bot, "ketamine-opioid")
    assert bot.suggestions() == suggestions  # cached per article version


def test_metadata_of_the_shipped_article(bot):
    article = bot.index.articles["ketamine-opioid"]
    source = bot.ask("Where is this from?")
    assert source.found and article.url and article.url in source.text and source.citations == []
    title = bot.ask("What's the title?")
    assert title.found and article.title in title.text and title.citations == []
    for question in ("Who wrote it?", "When was it published?"):
        answer = bot.ask(question)
        assert (answer.text, answer.found, answer.citations) == (NOT_IN_ARTICLE, False, [])


def test_second_article_overview_suggestions_and_missing_byline(pair_bot):
    assert_overview(pair_bot, pair_bot.overview("river-cleanup"), "river-cleanup")
    assert_answered_suggestions(pair_bot, "river-cleanup")
    author = pair_bot.ask("Who wrote this article?", article="river-cleanup")
    assert (author.text, author.found, author.citations, author.intent) == (NOT_IN_ARTICLE, False, [], METADATA)
    source = pair_bot.ask("What is the source?", article="river-cleanup")
    assert source.found and "https://example.org/news/river-cleanup" in source.text


def test_an_encyclopaedic_article_gets_checked_suggestions_too(pair_bot):
    """Drafts are not only news patterns (a person with a role, a count as subject): what a named thing is, when
    it began, what it ranks as, how many it holds, where it is, what else it is called."""
    article = pair_bot.index.articles["lake-varnholm"]
    assert len(article.text.split()) > 300
    drafts = draft_questions(article)
    for expected in ("What is Lake Varnholm also known as?", "What is the deepest lake in Eastmark?",
                     "When was Holmstad founded?", "How many churches does Holmstad have?",
                     "Where is the Varnholm Observatory located?", "Who is Ingrid Sorvik?"):
        assert expected in drafts, drafts
    assert_answered_suggestions(pair_bot, article.id)


SHORT_ARTICLE = """Tollund

Tollund (Danish: Tollund Mose; commonly known as the bog village) is a small hamlet in central Jutland, Denmark, on \
the edge of a raised peat bog.

Tollund has about forty houses, a chapel and a school. Most of its people work on the farms around the bog.

Peat was cut in the bog for fuel until the 1950s. The cutting stopped when the land was drained and planted with spruce.
"""


def test_a_short_article_gets_three_chips_when_one_sentence_answers_two_of_them(make_assistant, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tollund.txt").write_text(SHORT_ARTICLE, encoding="utf-8")
    short = make_assistant(corpus_dir=corpus)
    short.sync()
    chips = short.suggestions("tollund")
    quotes = [short.ask(question, article="tollund").citations[0].quote for question in chips]
    assert len(chips) == 3, chips
    # two different quotes first; the opening sentence answers a second chip only to make up the three
    assert len(set(quotes[:2])) == 2 and quotes[2] in quotes[:2], (chips, quotes)
    assert_answered_suggestions(short, "tollund")


def test_vague_drafts_are_not_made():
    sentences = [
        "Gerard Sanacora, who studies ketamine, was not involved.",  # "Who studies ketamine?" fits every expert
        "The school has 40 teachers and taught 900 students last year.",  # "How many students?"
        "Setanta Sports, the Irish broadcaster, lost the rights; Setanta Sports closed in 2009.",  # not a person
        "It is the largest city in the region.",  # "What is it?"
        "The city is a port.",  # "What is the city?"
        "The greater Harbour Megaregion grew, and the army under Jani Beg left.",  # comparatives are not roles
        "In 2010, medical geneticists named the gene.",  # a year is not a count: "How many medical geneticists?"
        "Their wealth grew to $41 trillion in 2008.",  # "How much was the trillion?"
        "There are 4 major types and 9 individual trees.",  # "How many major types?"
        "Some private schools are boarding schools.",  # "What are some private schools?"
        "The Irish broadcaster Setanta Sports won two packages.",  # a company after a role word
        "It is the second-longest river in Central and Western Europe.",  # a name cut: "... river in Central?"
        "The longest river in the region is the Varn.",  # a river is not a person: "Who is the longest river ...?"
        "The trust paid £85,000 for the ferry.",  # "How much was the for?"
        "When Varn Radio was launched in 1998 the town had one mill.",  # "When was When Varn Radio launched?"
        "It sold the mill for £9,000.",  # "How much did it sell the mill for?"
    ]
    text = "\n".join(sentences)
    drafts = suggestions._clauses(sentences) + suggestions._bare_counts(sentences) + suggestions._background(sentences, text, "Ports")
    drafts += suggestions._quantities(sentences)
    drafts += [f"Who is {name}?" for name in suggestions._people(sentences, text)] + suggestions._made_works(sentences)
    assert not {"Who studies ketamine?", "How many students?", "Who is Setanta Sports?", "What is it?",
                "What is the city?", "Who is Harbour Megaregion?", "Who is Jani Beg?", "How many medical geneticists?",
                "How much was the trillion?", "How many major types?", "How many individual trees?",
                "What are some private schools?", "What is the second-longest river in Central?",
                "Who is the longest river in the region?", "How much was the for?", "When was When Varn Radio launched?",
                "How much did it sell the mill for?"} & set(drafts), drafts


def test_encyclopaedic_sentences_give_drafts_in_their_own_words():
    sentences = [
        "By volume, argon is the third-most abundant gas in the atmosphere, after nitrogen and oxygen.",
        "Tollund (Danish: Tollund Mose; commonly known as the bog village) is a hamlet in Jutland.",
        "The word harbour is derived from an Old English word for shelter.",
        "The Varn Bridge was designed by Ada Lund in 1902.",
        "The Black Harvest is thought to have originated in the northern valleys.",
        "The town council consists of nine members elected every four years. The town council meets in a mill.",
        "Millstad is known for its paper mills.",
        "Millstad was founded in 1350 on the Varn estuary.",
        "Harbour pilots are sailors who guide ships through dangerous waters. Harbour pilots train for years.",
        "The work of harbour pilots is old, and the pilots of Millstad are known along the coast.",
        "English chemist Ole Varn (1641-1679) refined this work.",
        "Later, Ada Lund proved that the tide reached the mills.",
        "Cod, herring and eel were the most valuable catches.",  # a list as the subject: the rank is the question
        "The biggest mill on the river Varn is Storkvarn, a timber building.",
        "Formed in 1902 by two guilds, the Harbour Guild became the town's largest employer.",
        "Painter Ada Lund painted The Tide at Millstad in 1910.",
        "The Varn is the longest river in North and South Jutland, at 90 km.",
        "Millstad became a chartered town in 1402.",
        'The name Varn means "grey water" in Old Norse.',
        "There are three kinds of mill: water, wind and tide.",
        "In 1910 the council bought a ferry called Sleipner in Bergen.",
        "In 2015, the Harbour Trust paid £85,000 for the old ferry across the estuary.",
        "A 2019 report by the Varn Trust claims that the mills used half of the river's water.",
        "The Varn Forest (Danish: Varnskov), also known in English as the Grey Wood, covers the valley.",
        "Millstad Harbour encompasses four quays and a slipway.",
        "Ada Lund's method was partly inspired by Dutch windmills.",
        "Only 100–150 eel species have been counted, and another 25 may live in the estuary.",
        "Mill fees range from £3 to £21 per sack. Mill fees were paid in grain.",
        "Adult eels range from 2 cm to 1.5 m in length. Adult eels are smoked.",
        "Eel was reportedly first introduced to the Varn by Dutch fishermen at the old weir in 1347.",
        "Millstad Parish covers the whole estuary.",
        "In 2014, its owner Varn Mills Group plc changed its name to Varn plc.",
        "The Harbour Trust picked up the last two quays for £1.3bn.",
        "Eel is eaten smoked. Eel is sold in Bergen.",
        "The Varn Forest represents over half of the valley's remaining woods, and shelters deer.",
        "The majority of the harbour pilots are based in Millstad, with a few in Bergen.",
    ]
    text = "\n".join(sentences)
    drafts = suggestions._background(sentences, text, "Argon") + suggestions._findings(sentences, [])
    drafts += [f"Who is {name}?" for name in suggestions._people(sentences, text)] + suggestions._made_works(sentences)
    drafts += suggestions._terms(sentences) + suggestions._quantities(sentences) + suggestions._renamed(sentences)
    for expected in ("What is the third-most abundant gas in the atmosphere?", "What is Tollund commonly known as?",
                     "What is the word harbour derived from?", "Who designed the Varn Bridge?",
                     "Where did the Black Harvest originate?", "What does the town council consist of?",
                     "What is Millstad known for?", "When was Millstad founded?", "What are harbour pilots?",
                     "Who is Ole Varn?", "What did Ada Lund prove?", "What were the most valuable catches?",
                     "What is the biggest mill on the river Varn?", "When was the Harbour Guild formed?",
                     "Who painted The Tide at Millstad?", "What is the longest river in North and South Jutland?",
                     "When did Millstad become a chartered town?", "What does the name Varn mean?",
                     "What are the three kinds of mill?", "What is Sleipner?",
                     "How much did the Harbour Trust pay for the old ferry?",
                     "What did the 2019 report by the Varn Trust claim?", "What is the Varn Forest also known as?",
                     "How many quays does Millstad Harbour encompass?", "What inspired Ada Lund's method?",
                     "How many eel species have been counted?", "What is the range of mill fees?",
                     "What length are adult eels?", "When was eel first introduced?", "What does Millstad Parish cover?",
                     "What did Varn Mills Group plc change its name to?",
                     "How much did the Harbour Trust pay for the last two quays?",
                     "How much of the valley's remaining woods does the Varn Forest represent?",
                     "Where are the majority of the harbour pilots based?"):
        assert expected in drafts, (expected, drafts)


def test_a_subject_holding_every_word_of_the_title_is_specific_enough_to_ask_about():
    sentences = ["Rent at private mooring docks varies from dock to dock and depends on the season."]
    drafts = suggestions._background(sentences, sentences[0], "Private dock")
    assert "What does rent at private mooring docks depend on?" in drafts, drafts
    # "from dock to dock" is no range of values
    assert not any(d.startswith("What is the range") for d in drafts), drafts


def test_third_article_byline_date_and_overview(pair_bot):
    article = pair_bot.index.articles["harbour-library"]
    author = pair_bot.ask("Who is the author?", article=article.id)
    assert author.found and author.intent == METADATA
    assert [c.quote for c in author.citations] == ["By Marta Lindqvist"]
    assert_honest(pair_bot, author)
    date = pair_bot.ask("When was this article published?", article=article.id)
    assert date.found and [c.quote for c in date.citations] == ["12 March 2024"]
    source = pair_bot.ask("link to the original", article=article.id)
    assert (source.text, source.found) == (NOT_IN_ARTICLE, False)  # a .txt without a "Source:" line has none

    overview = pair_bot.overview(article.id)
    assert_overview(pair_bot, overview, article.id)
    assert not any(c.quote.startswith(("By ", "12 March")) for c in overview.citations)
    assert_answered_suggestions(pair_bot, article.id)


def test_with_several_articles_intents_use_the_named_or_the_first(pair_bot):
    assert pair_bot.overview().article == "harbour-library"  # first by id when none is named
    assert pair_bot.ask("summarise this", article="all").article == "harbour-library"
    greeting = pair_bot.ask("hello", article="river-cleanup")
    assert greeting.intent == GREETING and pair_bot.index.articles["river-cleanup"].title in greeting.text
