"""Bolding the answering span: only where the kind of answer makes it findable."""

from __future__ import annotations

import pytest

from assistant.answer.highlight import bolded

CASES = [
    ("How far apart were the two infusions?", "They got 2 doses, separated by a minimum of 2 weeks.",
     "They got 2 doses, separated by a minimum of **2 weeks**."),
    ("How many of the participants improved?", "In 7 of the 12 individuals the symptoms eased.",
     "In **7 of the 12** individuals the symptoms eased."),
    ("How many volunteers took part?", "In 2023, more than 240 volunteers removed 3.2 tonnes.",
     "In 2023, more than **240** volunteers removed 3.2 tonnes."),
    ("When were the Wars of Religion fought?", "The wars were fought from 1562 to 1598 in France.",
     "The wars were fought from **1562 to 1598** in France."),
    ("Which journal published the findings?", "Today in The American Journal of Psychiatry, scientists report.",
     "Today in **The American Journal of Psychiatry**, scientists report."),
    ("Who proposed the scheme?", "The idea came from Mayor Helen Okafor, who proposed the scheme.",
     "The idea came from **Mayor Helen Okafor**, who proposed the scheme."),
]


@pytest.mark.parametrize("question, sentence, expected", CASES)
def test_answering_span_is_bold(question, sentence, expected):
    assert bolded(question, sentence) == expected


@pytest.mark.parametrize("question, sentence", [
    ("Why does ketamine behave like an opioid?", "It acts on the opioid system, the study says."),
    ("How many trolleys were found?", "Nothing of the kind was found in the river."),
    ("Which journal published it?", "The findings were published last week."),
])
def test_nothing_is_bolded_when_no_span_is_findable(question, sentence):
    assert bolded(question, sentence) == sentence
