"""Follow-up questions rewritten to stand alone, without a language model.

Unit cases use realistic histories: earlier answers are article sentences as the extractive answerer
quotes them. The end-to-end test asks every follow-up of both question sets through the real
Assistant, after the earlier turn was asked for real, and checks the rewritten question names what
the follow-up points back to (the `refers_to` of each follow-up turn).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml

from assistant.followup import standalone_question

DATA = Path(__file__).parent / "data"
RIVER = DATA / "second_article" / "river-cleanup.md"


def quoted(*sentences: str) -> str:
    """An answer as the extractive answerer writes it: each sentence in quote marks with its marker."""
    return " ".join(f"“{s}” [{n}]" for n, s in enumerate(sentences, start=1))


NALTREXONE = quoted(
    "An hour prior to the other dosage, the clients rather got the drug naltrexone, which obstructs the results of "
    "opioids."
)
GLUTAMATE = quoted(
    "Most research study on how ketamine works has actually concentrated on the neurotransmitter glutamate, not its "
    "interaction with the opioid system."
)
STANFORD = quoted(
    "Today in The American Journal of Psychiatry, Stanford University scientists report that ketamine might be "
    "dealing with the brain’s opioid system."
)
KRYSTAL = quoted(
    "Yale psychiatrist John Krystal, for example, did a little pilot research study with 5 depressed clients and "
    "discovered that pretreatment with naltrexone did not modify the antidepressant results of ketamine."
)
SAFE = quoted(
    "Programme coordinator Tomasz Rudnicki said the heaviest single item was a rusted safe that took nine volunteers "
    "and a tractor to drag out of the mud near Coldbrook Bridge."
)
SECOND_PHASE = quoted(
    "The second, due to begin in September, will install floating litter booms at two storm drains that carry "
    "plastic from the town centre into the river."
)
VOLUNTEERS = quoted(
    "More than 240 volunteers have removed 3.2 tonnes of rubbish from the Alder River since the town of Millbrook "
    "launched its river cleanup programme at the start of March, council officials said on Tuesday."
)
MEETING = quoted(
    "Volunteers meet on the first Saturday of every month at one of six collection points along the towpath, where "
    "they are handed gloves, litter pickers and waders."
)
RAMASWAMY = quoted(
    "Dr Priya Ramaswamy, a freshwater ecologist at Westfield University who is advising the council, said the early "
    "results were encouraging but warned against declaring victory."
)
OXYGEN = quoted(
    "Ramaswamy said dissolved oxygen levels below the weir had improved slightly since the spring, but that it was "
    "too soon to link the change to the cleanup."
)
NAMED = "What drug did patients take an hour before one of the ketamine doses?"


@pytest.mark.parametrize(
    ("earlier", "answer", "follow_up", "expected"),
    [
        # a pronoun for the thing the answer named
        (NAMED, NALTREXONE, "What does it do?", "What does the drug naltrexone do?"),
        ("What drug blocks the effects of opioids?", NALTREXONE, "How does that drug work?",
         "How does the drug naltrexone work?"),
        ("Which neurotransmitter has most research on ketamine focused on?", GLUTAMATE,
         "Which of its receptors does ketamine block?",
         "Which of the neurotransmitter glutamate's receptors does ketamine block?"),
        ("What was the heaviest item pulled out of the river?", SAFE, "Who did it belong to?",
         "Who did the rusted safe belong to?"),
        # a pronoun for what the previous question was about
        ("What will the second phase of the programme do?", SECOND_PHASE, "And when does it start?",
         "And when does the second phase of the programme start?"),
        ("How many volunteers has the river cleanup programme had?", VOLUNTEERS, "Who funded it?",
         "Who funded the river cleanup programme?"),
        ("How long do ketamine's antidepressant effects last?", "…", "How quickly do they start?",
         "How quickly do ketamine's antidepressant effects start?"),
        ("Which Yale psychiatrist ran a pilot study with naltrexone?", KRYSTAL, "What did that study find?",
         "What did the pilot study with naltrexone find?"),
        ("What is the river cleanup programme?", VOLUNTEERS, "Who paid for that?",
         "Who paid for the river cleanup programme?"),
        # "there"
        ("Which university are the researchers from?", STANFORD, "Who is the anesthesiologist there?",
         "Who is the anesthesiologist at Stanford University?"),
        ("Where do the volunteers meet?", MEETING, "What are they given there?",
         "What are the volunteers given at one of six collection points?"),
        # "What about X?" / "And X?"
        ("What will the first phase of the programme do?", "…", "What about the third phase?",
         "What will the third phase of the programme do?"),
        ("How old is the youngest volunteer?", "…", "And the oldest?", "How old is the oldest volunteer?"),
        # people, as before: the person last named, by surname
        ("Who is Boris Heifets?", "…", "What did he say about glutamate?", "What did Heifets say about glutamate?"),
        ("Who coordinates the programme?", SAFE, "What did he use to do for a living?",
         "What did Rudnicki use to do for a living?"),
        ("Who is advising the council?", RAMASWAMY, "What is her team measuring?",
         "What is Ramaswamy's team measuring?"),
    ],
)
def test_references_are_resolved_against_the_previous_turn(earlier, answer, follow_up, expected):
    assert standalone_question(follow_up, [(earlier, answer)]) == expected


def test_a_thing_named_two_turns_back_is_found_when_the_last_turn_names_none():
    history = [(NAMED, NALTREXONE), ("Who is Boris Heifets?", "…")]
    assert standalone_question("How long does it last?", history) == "How long does the drug naltrexone last?"


@pytest.mark.parametrize(
    "question",
    [
        "Who is Nolan Williams?",
        "What is ketamine?",
        "What is ketamine, and how does it work?",
        "Is it true that ketamine is an opioid?",
        "Is there a third phase?",
        "What did Krystal say that the pilot study found?",
    ],
)
def test_questions_that_stand_alone_come_back_unchanged(question):
    histories = [(NAMED, NALTREXONE)], [("Who is Boris Heifets?", "…")], [("Where do the volunteers meet?", MEETING)]
    for history in histories:
        assert standalone_question(question, history) == question


def test_without_history_nothing_is_rewritten():
    assert standalone_question("What does it do?", []) == "What does it do?"
    assert standalone_question("What does it do?", None) == "What does it do?"


def test_an_unresolvable_reference_carries_the_earlier_question_along():
    earlier = [("Have oxygen levels in the river changed?", OXYGEN)]
    rewritten = standalone_question("Is that down to the cleanup?", earlier)
    assert rewritten.startswith("Is that down to the cleanup? (") and "oxygen" in rewritten
    assert "oxygen" in standalone_question("Why?", earlier)


@pytest.mark.parametrize("filler", ["it ", "he said ", "What about the ", "Boris Heifets ", "the drug of ", "that "])
def test_a_huge_question_and_history_return_quickly(filler):
    question = (filler * (100_000 // len(filler) + 1))[:100_000] + "?"
    started = time.perf_counter()
    rewritten = standalone_question(question, [(question, question)] * 10)
    assert time.perf_counter() - started < 2.0  # ~10 ms here; loose for a busy machine
    assert rewritten


# -- end to end ----------------------------------------------------------------------------------------
def _followups(name: str) -> list[dict]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["followups"]


def test_follow_ups_of_both_question_sets_are_rewritten_to_name_what_they_refer_to(bot, make_assistant, tmp_path):
    river_corpus = tmp_path / "river-corpus"
    river_corpus.mkdir()
    shutil.copyfile(RIVER, river_corpus / RIVER.name)
    river_bot = make_assistant(river_corpus, tmp_path / "river-index")
    conversations = [(bot, c) for c in _followups("seed_questions.yaml")]
    conversations += [(river_bot, c) for c in _followups("second_questions.yaml")]
    missed = []
    for assistant, conversation in conversations:
        first, second = conversation["turns"]
        earlier = assistant.ask(first["question"])
        answer = assistant.ask(second["question"], history=[(first["question"], earlier.text)])
        if second["refers_to"].lower() not in answer.standalone_question.lower():
            missed.append((second["question"], answer.standalone_question, second["refers_to"]))
    assert len(conversations) >= 20
    # 19 of 23 measured with the reader's second run (22 with run 1: three misses now follow a first question
    # it refuses, so the earlier answer names nothing); carrying the earlier question's words along names 17.
    assert len(conversations) - len(missed) >= 19, missed
