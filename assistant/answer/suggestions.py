"""Questions to suggest to a reader: drafted from the article's own wording, kept only if answered.

Drafts come from patterns any news story has: relative and copular clauses ("Gerard Sanacora,
who studies ketamine" -> "Who studies ketamine?", "the heaviest single item was a rusted safe"
-> "What was the heaviest single item?"), people introduced with a role ("Stanford psychiatrist
Nolan Williams"), counted or priced things ("About 4,500 residents visited ...", "an £85,000
grant"), terms the text explains ("the drug naltrexone", "called a K-hole") and what a study
or a named source reported. Drafts that keep the sentence's own words are preferred: they are
the questions an extractive answerer can answer with confidence.

A draft is only offered if the real answerer, asked it, finds the answer in the article: a
suggestion that led to "The article does not say." would be worse than none. Checking costs
one answer per draft, so the caller that owns the answerer does it once per article version.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, zip_longest

from assistant.answer.intents import recognise
from assistant.answer.model import Answer
from assistant.index import IndexedArticle

# Five are shown as chips; the others take the place of the ones asked.
MAX_SUGGESTIONS = 8
# Chips wanted at least: below this, a quote already used may answer a second chip ("What is ctenophora?" and
# "What is ctenophora commonly known as?" are both answered by the opening sentence of a short article).
MIN_SUGGESTIONS = 3
# Drafts asked at most: each costs one run of the answerer.
MAX_DRAFTS_CHECKED = 16
# Drafts come from the article's first sentences only: a few are asked anyway, and some patterns look a
# name up in the whole text, which must stay cheap for an article of 20,000 sentences.
MAX_DRAFT_SENTENCES = 400

# -- people -----------------------------------------------------------------------------------
_PERSON = r"(?:(?:Dr|Prof|Professor)\.? )?[A-Z][a-z]+(?:[ -][A-Z][a-z]+){1,2}"
# Words with a role's ending that are not roles ("the greater Southern California Megaregion", "under Jani Beg").
_NOT_A_ROLE = (
    r"(?!(?:greater|lesser|other|former|latter|upper|lower|inner|outer|under|over|after|later|earlier|newer|older|"
    r"larger|smaller|bigger|higher|wider|further|farther|different|present|recent|current|ancient|important|"
    r"significant|prominent|dominant|relevant|independent|major|minor|interior|exterior|senior|junior)\b)"
)
_ROLE_NOUN = (
    rf"{_NOT_A_ROLE}[a-z][a-z-]{{2,}}(?:ist|er|or|ian|ant|ent|eon)|architect|expert|critic|nurse|pupil|chief|head|chair|mayor|"
    r"founder|creator|president|author|coauthor|co-author|spokesperson|spokesman|spokeswoman|captain|coach"
)
_PERSON_NOUN = re.compile(rf"\b(?:{_ROLE_NOUN}|man|woman|boy|girl|person)\b")
_TITLE = r"Mayor|President|Senator|Minister|Governor|Chancellor|Councillor|Councilor|Judge|Chief|Director|Inspector"
_PEOPLE = [
    # "Yale psychiatrist Gerard Sanacora", "Programme coordinator Tomasz Rudnicki", "Mayor Helen Okafor"
    re.compile(rf"\b(?:{_ROLE_NOUN}|{_TITLE}) (?P<name>{_PERSON})\b"),
    # "Gordon Featherstone, chair of ...", "Nolan Williams, the Stanford psychiatrist who ..."
    re.compile(rf"\b(?P<name>{_PERSON}), (?:a |an |the )?(?:[A-Za-z-]+ ){{0,3}}(?:{_ROLE_NOUN})\b"),
]
# Capitalised runs that name places and bodies, not people.
_NOT_A_PERSON = re.compile(
    r"\b(?:University|College|School|Society|Journal|Organization|Organisation|Council|Clinics?|Institute|"
    r"Hospital|Health|River|Bridge|Street|Road|Primary|Stories|Department|Agency|Company|Fund|Sports|Group|Limited|"
    r"Ltd|Inc|Corporation|Broadcasting|Television|Media|News|Records|Airlines|Bank|Party|Club|League|Church)\b"
)

# -- clauses ----------------------------------------------------------------------------------
# Where a clause that can become a question ends: punctuation, or a word that starts another clause.
_CLAUSE_END = r"(?=[,;:.!?]| (?:after|before|because|when|while|since|and|but|according|that|which|who)\b)"
# "Gerard Sanacora, who studies ketamine" -> "Who studies ketamine?"
_WHO_CLAUSE = re.compile(
    rf"\b{_PERSON},(?: [^,]{{0,60}})? who "
    rf"(?P<clause>(?:is|was|has|had|[a-z]+ed|[a-z]{{3,}}s) [^,;:.!?“”\"]{{3,60}}?){_CLAUSE_END}"
)
# "the heaviest single item was a rusted safe" -> "What was ...?"; "The next cleanup day is on Saturday" ->
# "When is ...?"; a person as the complement's head ("an eight-year-old pupil from ...") makes it "Who".
_COPULA = re.compile(
    r"(?:^|, |\bthat |\bsaid |\bsays )(?:the|The) (?P<subject>(?:[a-z-]+ ){0,3}[a-z-]+) "
    r"(?P<verb>is|was|will be) (?:(?:an?|the) (?P<head>[^,;:.!?]{3,80}?)|(?:on|in) (?:[A-Z][a-z]+|\d{4}))"
    rf"{_CLAUSE_END}"
)
_AFTER_HEAD_NOUN = re.compile(r" (?:from|of|at|in|with|on|for|by|to) ")

# -- quantities -------------------------------------------------------------------------------
_NUMBER = (
    r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|dozens of|hundreds of|thousands of)"
    r"(?: (?:hundred|thousand|million|billion|trillion))?"
)
_THINGS = r"(?P<things>(?:(?!which |that |these |those |who |whose |other |such )[a-z]+ )?(?:[a-z]{3,}s|people|children|men|women))"
_COUNTED = re.compile(rf"\b{_NUMBER} {_THINGS}\b")
# "About 4,500 residents visited the library in its first week back, ..." (a count as the subject); "Only 100–150
# species have been validated" (a range)
_COUNT_SUBJECT = re.compile(
    rf"^(?:(?:about|around|nearly|almost|over|roughly|some|more than|fewer than|at least|up to|only|just|an estimated) )?"
    rf"{_NUMBER}(?:[–-]{_NUMBER})? {_THINGS} (?P<predicate>(?:(?:have|has|had|were|was|are|will|would|could)(?: been)? )?"
    r"(?:[a-z]+ed|took|saw|made|gave|went|came|got|lost|won|paid|left|spent|kept|held|met|ran|found|signed)"
    rf"(?: [\w'’£$€.-]+){{0,10}}?){_CLAUSE_END}",
    re.I,
)
# Counted units of measure and time say nothing on their own ("How many weeks?").
_UNITS = re.compile(
    r"\b(?:times|years|months|weeks|days|hours|minutes|seconds|mornings|evenings|nights|weekends|decades|percent|"
    r"tonnes|tons|kilometres|kilometers|miles|metres|meters|pounds|dollars|euros|points|cents)$"
)
_AMOUNT = r"[£$€]\s?\d[\d,.]*(?: (?:thousand|million|billion|trillion))?"
# "an £85,000 grant"
_PRICED = re.compile(
    rf"{_AMOUNT} (?P<thing>(?!(?:thousand|million|billion|trillion|for|from|and|the|per|each|with|over|into|"
    r"was|were|had|has|have|less|more|than|on|in|at|of|by|to|a|an)\b)[a-z]{3,})\b"
)
# "Repairs cost £1.2 million"
_COSTING = re.compile(r"\b(?P<thing>[A-Za-z]{3,}) (?:cost|costs) (?:about |around |nearly |over )?[£$€]\d")
# "Sky bid £4.2bn for a package of 120 premier league games" -> "How much did Sky bid for a package of 120 premier
# league games?" (a capitalised payer: "the council" would need its sentence to say which council)
_PAID = re.compile(
    r"(?:^|, )(?P<payer>(?:The )?[A-Z][\w'’&-]*(?: [A-Z][\w'’&-]*){0,3}) (?P<verb>bid|paid|spent|raised|invested|"
    rf"received|earned|offered) (?:about |around |nearly |over |more than |almost )?{_AMOUNT}(?:bn|m|k)? (?P<purpose>for|on) "
    r"(?P<what>(?:a |an |the |its |their )?[\w'’-]+(?: [\w'’-]+){0,7}?)"
    r"(?=[,;:.!?]| (?:in|from|by|across|over|during|between|after|before|because|when|while) |$)"
)
# "Sky picked up the remaining four for £1.3bn" -> "How much did Sky pay for the remaining four?"
_BOUGHT_FOR = re.compile(
    r"(?:^|, )(?P<payer>(?:The )?[A-Z][\w'’&-]*(?: [A-Z][\w'’&-]*){0,3}) (?P<verb>bought|purchased|acquired|picked up|sold) "
    r"(?P<what>(?:a |an |the |its |their )?[\w'’-]+(?: [\w'’-]+){0,6}?) "
    rf"for (?:about |around |nearly |over |more than |almost )?{_AMOUNT}"
)
_PAID_BASE = {"bid": "bid", "paid": "pay", "spent": "spend", "raised": "raise", "invested": "invest", "received": "receive",
              "earned": "earn", "offered": "offer"}

# -- what a thing is, when it began, what it ranks as (encyclopaedic and background sentences) -------------
# A sentence-opening subject of up to five words, an optional aside, then the verb.
_NAME_WORDS = r"(?:The )?[A-Z][\w'’-]*(?: [\w'’-]+){0,4}?"
_NAMED = rf"(?P<subject>{_NAME_WORDS})(?: \([^()]{{1,300}}\))?"
_SUBJECT = rf"{_NAMED}(?:, [^,]{{1,80}},)?"
# "Fresno is a city in ..." -> "What is Fresno?"; "Civil disobedience is the active ..." -> "What is civil
# disobedience?"; "Pharmacists are healthcare professionals ..." -> "What are pharmacists?"
_DEFINITION = re.compile(
    rf"^{_SUBJECT} (?:(?P<verb>is|was|are|were) (?:a|an|the|one of the)|(?P<plural>are|were)) "
    r"(?P<head>[A-Za-z][\w-]*(?: [a-z][\w-]*){0,2})"
)
# "The university was founded in 1890" -> "When was the university founded?"; "Plague was reportedly first
# introduced to Europe via Genoese traders ... in 1347" -> "When was plague first introduced?"
_BEGAN = re.compile(
    rf"^{_SUBJECT} (?P<verb>was|were) (?:reportedly |probably |possibly )?(?P<how>(?:first|originally|officially|formally) )?"
    r"(?P<event>founded|established|built|opened|created|formed|completed|launched|discovered|invented|born|"
    r"incorporated|introduced|designed|constructed|signed|published|released|adopted|ratified|chartered|organi[sz]ed|"
    r"settled|enacted) (?:[^,;:.!?]{1,80}? )?(?:in|on) (?:\d{1,2} )?(?:[A-Z][a-z]+ )?(?:\d{1,2}, )?\d{4}\b"
)
# "The university was founded by John D. Rockefeller" -> "Who founded the university?" (verbs whose past
# participle is their past tense, so the question keeps the sentence's word)
_MADE_BY = re.compile(
    rf"^{_SUBJECT} (?P<verb>was|were) (?:first |originally |jointly )?(?P<event>founded|established|built|designed|"
    r"created|discovered|invented|developed|introduced|constructed|commissioned|coined|composed|directed|produced|"
    r"funded|financed|acquired|purchased|bought|organi[sz]ed|proposed|described|formulated|named after|led) by [A-Z]"
)
# "The Black Death is thought to have originated in Central Asia" -> "Where did the Black Death originate?"
_ORIGINATED = re.compile(
    rf"^{_SUBJECT} (?:(?:is|are|was|were) (?:thought|believed|said) to have |probably |first )?originated (?:in|from)\b"
)
# "The council consists of 40 members" -> "What does the council consist of?"
_CONSISTS = re.compile(rf"^{_SUBJECT} (?P<verb>consists|consisted|is composed|was composed|is made up|was made up) of\b")
# "Fresno is known for its raisins" -> "What is Fresno known for?"
_KNOWN_FOR = re.compile(rf"^{_SUBJECT} (?P<verb>is|was|are|were) (?:best |widely |well |also |chiefly )?known for\b")
# "Warsaw is the largest city in Poland" -> "What is the largest city in Poland?"; "oxygen is the third-most
# abundant element in the universe, after ..." -> "What is the third-most abundant element in the universe?"
# The subject may be a list ("Tomatoes, runner beans and marigolds were the most requested varieties"): the
# question names only the rank, so any subject will do.
_RANKED = re.compile(
    r"^(?P<subject>(?:The )?[A-Z][\w'’-]*(?:,? (?:and )?[\w'’-]+){0,8}?) (?P<verb>is|was|are|were) the "
    r"(?P<rank>(?:[a-z]+-)?(?:most|least) [a-z]+|(?:[a-z]+-)?[a-z]+est|first|second|third|only|principal|main|leading) "
    r"(?P<what>[a-z][\w-]*(?: (?:[a-z][\w'’-]*|[A-Z][\w'’-]*)){0,7}?)"
    r"(?=[,;:.!?]| (?:after|before|because|when|while|since|and|but|according|that|which|who|with|as)\b)"
)
# Heads of a ranked complement that name people ("the first woman to ..."): "river" has a role's ending, no role.
_RANKED_PERSON = re.compile(
    r"(?:man|woman|men|women|person|people|player|leader|president|king|queen|writer|author|scientist|artist|ruler|"
    r"emperor|pope|minister|mayor|founder|winner|recipient|holder)s?"
)
# The rank first: "The biggest city on the river Rhine is Cologne" -> "What is the biggest city on the river Rhine?"
_RANK_FIRST = re.compile(
    r"^The (?P<rank>(?:[a-z]+-)?(?:most|least) [a-z]+|(?:[a-z]+-)?[a-z]+est|first|only|principal|main|leading) "
    r"(?P<what>[a-z][\w-]*(?: (?:[a-z][\w'’-]*|[A-Z][\w'’-]*)){0,7}?) (?P<verb>is|was|are|were) "
    r"(?:the |a |an )?[A-Z0-9]"
)
# The event first: "Founded in 1890 by John D. Rockefeller, the university ..." -> "When was the university founded?"
_EVENT_FIRST = re.compile(
    r"^(?P<event>Founded|Formed|Established|Built|Opened|Created|Completed|Launched|Incorporated|Chartered|Born) "
    rf"(?:in|on) [^,]{{1,120}}, (?P<subject>(?:the )?{_NAME_WORDS})(?: \([^()]{{1,300}}\))?(?:,| (?:is|was|are|were|has|had|became|"
    r"remains|began|grew|lies|sits|serves|stands|[a-z]+ed)\b)"
)
# A named work and its maker: "poet Percy Shelley wrote the political poem The Mask of Anarchy" -> "Who wrote
# The Mask of Anarchy?" (the work is the run of capitals after the verb; its maker must be a capitalised name).
_MADE_WORK = re.compile(
    r"\b[A-Z][\w'’-]+ (?P<verb>wrote|composed|painted|founded|designed|invented|directed|established|built|sculpted|"
    r"authored|co-founded) (?:[a-z]+ ){0,4}?(?P<work>(?:The |A )?[A-Z][\w'’-]+(?: (?:of |and |the |in |on |at |to |for |from |with |a )*"
    r"[A-Z][\w'’-]+){0,6})(?=[,;:.!?]| [a-z(]|$)"
)
# "The university has seven professional schools" -> "How many professional schools does the university have?"
_HOLDS = re.compile(
    rf"^{_SUBJECT} (?P<verb>has|have|had|contains|contained|includes|included|comprises|comprised|employs|employed|"
    r"encompasses|encompassed) "
    rf"(?:(?:about|around|nearly|almost|over|roughly|some|more than|at least) )?{_NUMBER} {_THINGS}\b"
)
_HOLD_BASE = {"has": ("does", "have"), "have": ("do", "have"), "had": ("did", "have"), "contains": ("does", "contain"),
              "contained": ("did", "contain"), "includes": ("does", "include"), "included": ("did", "include"),
              "comprises": ("does", "comprise"), "comprised": ("did", "comprise"), "employs": ("does", "employ"),
              "employed": ("did", "employ"), "encompasses": ("does", "encompass"), "encompassed": ("did", "encompass")}
# "Fresno is located in the San Joaquin Valley" -> "Where is Fresno located?"
_LOCATED = re.compile(rf"^{_SUBJECT} (?P<verb>is|are|was|were) (?:located|situated|based) (?:in|on|at|along|near)\b")
# "Private schools, also known as independent schools, ..." -> "What are private schools also known as?";
# "Southern California, often abbreviated SoCal, ..." -> "What is Southern California often abbreviated as?";
# "Ctenophora (...; commonly known as comb jellies) is ..." -> "What is ctenophora commonly known as?"; "The Amazon
# rainforest (Portuguese: ...), also known in English as Amazonia" -> "What is the Amazon rainforest also known as?"
_ALIAS = re.compile(
    rf"^(?P<subject>{_NAME_WORDS})(?:(?: \([^()]{{0,300}}\))?,? | \([^()]{{0,200}}?\b)"
    r"(?P<alias>(?:also|commonly|often|sometimes|formerly|usually) (?:known|called|abbreviated|referred to))"
    r"(?: in English)?(?= as| [A-Z])"
)
# "The word pharmacy is derived from ..." -> "What is the word pharmacy derived from?"
_DERIVED = re.compile(rf"^{_SUBJECT} (?P<verb>is|was|are|were) (?:ultimately |probably )?derived from\b")
# "Gandhi's Satyagraha was partially influenced and inspired by Shelley's nonviolence" -> "What influenced Gandhi's
# Satyagraha?"
_INFLUENCED = re.compile(
    rf"^{_SUBJECT} (?:was|were) (?:partially |partly |largely |strongly |heavily |deeply |much )?"
    r"(?P<verb>influenced|inspired)(?: and (?:influenced|inspired))? by\b"
)
# "Fresno became an incorporated city in 1885" -> "When did Fresno become an incorporated city?"
_BECAME = re.compile(
    rf"^{_SUBJECT} became (?P<what>(?:a|an|the) [a-z][\w-]*(?: [a-z][\w-]*){{0,3}}) (?:in|on) (?:[A-Z][a-z]+ )?\d{{4}}\b"
)
# "The name Fresno means "ash tree" in Spanish" -> "What does the name Fresno mean?"
_MEANS = re.compile(r"^(?P<subject>The (?:name|word|term|title) [A-Z\"“‘'][\w'’\"”-]*) means\b")
# "There are three major types of rock: igneous, ..." -> "What are the three major types of rock?"
_LISTED = re.compile(
    rf"^There (?P<verb>are|were) (?P<count>{_NUMBER}) (?P<what>[a-z][\w-]*(?: [a-z][\w-]*){{0,4}}): "
)
# "Annual tuition fees at K-12 schools range from nothing ... to more than $45,000" -> "What is the range of annual
# tuition fees at K-12 schools?"; "... range from 2 mm to 1.5 m in size" -> "What size are ...?"
_RANGES = re.compile(
    rf"^{_SUBJECT} (?:range|ranges|ranged|vary|varies|varied) from (?!(?P<same>\w+) to (?P=same)\b)(?:[^;:.!?]|\.\d){{1,80}}? to (?:[^;:.!?]|\.\d){{1,80}}?"
    r"(?: in (?P<measure>size|length|height|weight|age|price|cost|depth|width|area))?(?=[,;:!?]|\.(?!\d)|$)"
)
# "Private education in North America covers the whole gamut of ..." -> "What does private education in North America
# cover?"
_COVERS = re.compile(rf"^{_SUBJECT} (?P<verb>covers|spans|covered|spanned) (?:the |a |an |about |some |over |nearly )?[\w£$€]")
_COVER_BASE = {"covers": ("does", "cover"), "spans": ("does", "span"), "covered": ("did", "cover"), "spanned": ("did", "span")}
# "The Amazon represents over half of the planet's remaining rainforests" -> "How much of the planet's remaining
# rainforests does the Amazon represent?"
_SHARE = re.compile(
    rf"^{_SUBJECT} (?P<verb>represents|represented|accounts for|accounted for|makes up|make up|made up) "
    r"(?:(?:over|about|nearly|almost|around|roughly|more than|less than|just over|just under) )?"
    r"(?:half|a third|a quarter|two thirds|three quarters|\d+(?:\.\d+)? ?(?:%|per ?cent)) of "
    r"(?P<whole>(?:the |a |an )?[\w'’-]+(?: [\w'’-]+){0,7}?)(?=[,;:!?]|\.(?!\d)| (?:and|but|while|with|according)\b)"
)
_SHARE_BASE = {"represents": ("does", "represent"), "represented": ("did", "represent"),
               "accounts for": ("does", "account for"), "accounted for": ("did", "account for"),
               "makes up": ("does", "make up"), "make up": ("do", "make up"), "made up": ("did", "make up")}
# "The majority of the forest is contained within Brazil" -> "Where is the majority of the forest contained?"
_MOSTLY_IN = re.compile(
    r"^(?P<share>The majority|Most|The bulk|Much) of (?P<subject>(?:the )?[\w'’-]+(?: [\w'’-]+){0,3}?) (?P<verb>is|are|was|were) "
    r"(?P<where>contained|located|found|situated|concentrated|based|held) (?:with)?in [A-Z]"
)
# "Tuition at private secondary schools varies from school to school and depends on many factors" -> "What does
# tuition at private secondary schools depend on?"
_DEPENDS = re.compile(
    rf"^{_SUBJECT} (?:(?:varies|vary|varied|differs|differ|differed|changes|change|changed)\b[^,;:.!?]{{0,60}}? and )?"
    r"(?P<verb>depends|depend|depended) "
    r"(?:(?:largely|mainly|mostly|partly|heavily|entirely) )?(?:up)?on\b"
)
_DEPEND_DOES = {"depends": "does", "depend": "do", "depended": "did"}
# "British Sky Broadcasting Group plc changed its name to Sky plc" -> "What did British Sky Broadcasting Group plc
# change its name to?" (the company is the run of capitals before the verb, wherever it stands)
_RENAMED = re.compile(
    r"\b(?P<subject>[A-Z][\w'’&-]*(?: (?:[A-Z][\w'’&-]*|plc))*) (?:later |then |also )?changed (?P<whose>its|their) name to [A-Z]"
)
# What a sentence may open with before its subject: "By mass, oxygen is ...", "In 2014, the city had ...".
_OPENING_PHRASE = re.compile(
    r"^(?:(?:By|In|At|As of|Among|Since|Today|Currently|Historically|Traditionally|Geographically|Originally)"
    r"(?: [^,]{1,40})?), (?=[a-zA-Z])"
)
# "In 1835, the first ..." -> "What happened in 1835?"
_YEAR_OPENING = re.compile(r"^(?:In|By|During) (?P<year>1[0-9]{3}|20[0-9]{2}), ")

# -- terms and findings -----------------------------------------------------------------------
_TERMS = [
    # "the drug naltrexone, which ..." (a name, not "the drug works")
    re.compile(
        r"\bthe (?:drug|medication|medicine|chemical|compound|molecule|protein|receptor|hormone|enzyme|virus|"
        r"technique|method|process|condition|disease|disorder|device|species) (?P<term>[a-z][\w-]+)(?=,|\.| \(| which)"
    ),
    # "called a K-hole.", "a service called the book boat, a converted ..."
    re.compile(r"\bcalled (?P<term>(?:a |an |the )?[A-Za-z][\w-]+(?: [a-z][\w-]+)?)(?=[,.;:)]| which| that| in [A-Z])"),
]
_STUDY = re.compile(
    r"\b(?i:the|this|a|an|their|her|his|its) (?P<study>(?:(?!only |same |other |first |last )[a-z]+ )?"
    r"(?:study|research|report|survey|paper|trial|experiment|analysis|review|investigation|poll))\b"
    r"(?! (?:station|centre|center|institute|group|team|vessel|ship|lab|laboratory|facility|council)\b)"
)
_FINDING = re.compile(r"\b(?:found|find|finds|findings|discovered|showed|shows|suggests|concluded|revealed)\b")
# "Stanford University scientists report that ..." -> "What did Stanford University scientists report?"
_REPORTED = re.compile(
    rf"\b(?P<who>(?:[A-Z][\w-]+ ){{1,3}}(?:scientists|researchers|officials|experts|doctors|authors|team)|"
    rf"(?:[a-z]+ )?[a-z]+(?:ists|ians)|{_PERSON}) "
    r"(?P<verb>reports?|reported|finds|found|discovered|showed|concluded|proved|argued|argues|suggested|suggests|"
    r"demonstrated|claimed|claims|estimated|believed|believes) that\b"
)
_BASE_VERB = {"reports": "report", "reported": "report", "finds": "find", "found": "find", "discovered": "discover",
              "showed": "show", "shows": "show", "concluded": "conclude", "concludes": "conclude", "proved": "prove",
              "argued": "argue", "argues": "argue", "suggested": "suggest", "suggests": "suggest",
              "demonstrated": "demonstrate", "claimed": "claim", "claims": "claim", "estimated": "estimate",
              "estimates": "estimate", "believed": "believe", "believes": "believe", "warns": "warn", "warned": "warn"}
# "A January 2014 report by Oxfam claims that ..." -> "What did the January 2014 report by Oxfam claim?"
_REPORT_BY = re.compile(
    r"\b[Aa]n? (?P<when>(?:[A-Z][a-z]+ )?\d{4} )?(?P<kind>report|study|survey|analysis|poll|review|paper) by "
    r"(?P<source>(?:the )?[A-Z][\w&'’.-]*(?: (?:of |for |and |the |on )*[A-Z][\w&'’.-]*){0,6}) (?:also )?"
    r"(?P<verb>claims|claimed|reports|reported|finds|found|shows|showed|suggests|suggested|concludes|concluded|"
    r"estimates|estimated|warns|warned) that\b"
)


def _people(sentences: list[str], text: str) -> list[str]:
    """Names of the people the article introduces with a role, in order of appearance.

    A role before the name ("English chemist John Mayow") marks a person. A role after it ("Setanta Sports,
    the broadcaster") may follow a body or a place, so there the name must come again by surname alone
    ("Heifets says"): a body or a place keeps its whole name.
    """
    # A role opening a sentence is capitalised ("Ornithologist Ingrid Sorvik, who ..."): read it in lower case.
    lowered = [s[:1].lower() + s[1:] for s in sentences]
    role_first = [m.group("name") for s in lowered for m in _PEOPLE[0].finditer(s)]
    role_after = [m.group("name") for s in lowered for m in _PEOPLE[1].finditer(s) if _named_alone(m.group("name"), text)]
    return [name for name in dict.fromkeys(role_first + role_after) if not _NOT_A_PERSON.search(name)]


def _named_alone(name: str, text: str) -> bool:
    *given, surname = name.split()
    return bool(given) and bool(re.search(rf"(?<!{re.escape(given[-1])} )\b{re.escape(surname)}\b", text))


_QUANTIFIERS = {"some", "many", "most", "all", "few", "several", "both", "other", "another", "various", "certain"}
_POINTERS = {"it", "its", "there", "this", "that", "these", "those", "they", "he", "she", "we", "you", "i", "such", "each"}
# Words that open a clause, not a subject ("When Sky Digital was launched in 1998, ...").
_SUBORDINATORS = {"when", "while", "if", "although", "though", "after", "before", "because", "since", "as", "once",
                  "unless", "until", "whether", "where"}


def _subject_phrase(subject: str, title: str, text: str) -> str | None:
    """The sentence's subject as it reads inside a question, or None when it is not specific enough to ask about.

    Specific: it holds a name (a capital after its first word, or a first word capitalised mid-sentence
    elsewhere), it is what the title names, or it is a phrase (or a bare plural, "Pharmacists", never "The
    city") the article comes back to. An opening capital that is only the sentence's own ("Civil
    disobedience") is lowered; "The" always is.
    """
    words = subject.removeprefix("The ").split()
    if not words or len(words) > 5 or words[0].lower() in _POINTERS | _QUANTIFIERS | _SUBORDINATORS:
        return None
    if words[0] in ("A", "An"):
        words[0] = words[0].lower()
    later_names = any(w[0].isupper() for w in words[1:])
    # One word capitalised inside a sentence elsewhere is a name ("Fresno"); a phrase whose other words are
    # lower case is a common noun that opened its sentence ("Civil disobedience").
    capital_inside = bool(re.search(rf"[^.!?\s] {re.escape(words[0])}\b", text))
    first_is_name = words[0][0].isupper() and (len(words) == 1 or later_names) and capital_inside
    mentions = len(re.findall(rf"\b{re.escape(' '.join(words))}\b", text, re.I))
    recurring = mentions >= 2 if len(words) > 1 else (mentions >= 3 and not subject.startswith("The "))
    lowered, title = " ".join(words).lower(), title.lower()
    names_a_word = len(words) == 2 and words[0] in ("word", "term", "name")  # "The word pharmacy"
    # Every word of the title in it: "Tuition at private secondary schools" in an article titled "Private school".
    title_words = {w.rstrip("s") for w in re.findall(r"[a-z]+", title)} - {"the", "of", "and", "a", "an", "in", "on"}
    holds_the_title = bool(title_words) and title_words <= {w.rstrip("s") for w in lowered.split()}
    if not (first_is_name or later_names or recurring or names_a_word or holds_the_title
            or lowered.rstrip("s") in title or title in lowered):
        return None
    # A capital kept: after "The", on an acronym, on a run of capitals ("Lake Varnholm") or on one word
    # capitalised inside sentences elsewhere ("Fresno").
    if not (subject.startswith("The ") or words[0].isupper()
            or (words[1][0].isupper() if len(words) > 1 else capital_inside)):
        words[0] = words[0].lower()
    phrase = " ".join(words)
    return f"the {phrase}" if subject.startswith("The ") else phrase


# Patterns whose question names no subject of the sentence (any subject will do, or the pattern fixes it).
_NO_SUBJECT = (_RANKED, _RANK_FIRST, _MEANS, _LISTED)


def _without_opening(sentence: str) -> str:
    """The sentence from its subject on: "By mass, oxygen is ..." -> "Oxygen is ..."."""
    opening = _OPENING_PHRASE.match(sentence)
    if not opening:
        return sentence
    rest = sentence[opening.end():]
    return rest[:1].upper() + rest[1:]


@dataclass(frozen=True)
class _Found:
    """One background pattern's match, with what the question is made of."""

    match: re.Match
    sentence: str
    verb: str | None
    subject: str
    person: bool

    def group(self, name: str) -> str:
        return self.match.group(name)


def _ranked(found: _Found) -> str:
    what = _whole_name_at_end(found.group("what"), found.sentence[found.match.end("what"):])
    person = bool(_RANKED_PERSON.fullmatch(_AFTER_HEAD_NOUN.split(what)[0].split()[-1]))
    return f"{'Who' if person else 'What'} {found.verb} the {found.group('rank')} {what}?"


def _alias(found: _Found) -> str:
    plural = found.subject.endswith("s") and not found.subject.endswith("ss")
    alias = found.group("alias")
    return f"What {'are' if plural else 'is'} {found.subject} {alias}{'' if alias.endswith('called') else ' as'}?"


def _made_by(found: _Found) -> str:
    event = found.group("event")
    return f"Who {found.verb} {found.subject} named after?" if event == "named after" else f"Who {event} {found.subject}?"


def _holds(found: _Found) -> str:
    does, base = _HOLD_BASE[found.verb]
    return f"How many {found.group('things')} {does} {found.subject} {base}?"


# The question each background pattern makes of its match.
_QUESTION_OF: dict[re.Pattern, Callable[[_Found], str]] = {  # in the order their drafts are offered
    _DEFINITION: lambda f: f"{'Who' if f.person else 'What'} {f.verb} {f.subject}?",
    _BEGAN: lambda f: f"When {f.verb} {f.subject} {f.group('how') or ''}{f.group('event')}?",
    _MADE_BY: _made_by,
    _RANKED: _ranked,
    _RANK_FIRST: _ranked,
    _EVENT_FIRST: lambda f: f"When was {f.subject} {f.group('event').lower()}?",
    _HOLDS: _holds,
    _LOCATED: lambda f: f"Where {f.verb} {f.subject} {f.sentence[f.match.end('verb') + 1 :].split()[0]}?",
    _ORIGINATED: lambda f: f"Where did {f.subject} originate?",
    _CONSISTS: lambda f: f"What {'does' if f.verb.startswith(('consists', 'is')) else 'did'} {f.subject} consist of?",
    _KNOWN_FOR: lambda f: f"What {f.verb} {f.subject} known for?",
    _DERIVED: lambda f: f"What {f.verb} {f.subject} derived from?",
    _ALIAS: _alias,
    _BECAME: lambda f: f"When did {f.subject} become {f.group('what')}?",
    _INFLUENCED: lambda f: f"What {f.verb} {f.subject}?",
    _MEANS: lambda f: f"What does {f.group('subject')[:1].lower()}{f.group('subject')[1:]} mean?",
    _RANGES: lambda f: (f"What {f.group('measure')} {'are' if f.subject.endswith('s') else 'is'} {f.subject}?" if f.group("measure")
                        else f"What is the range of {f.subject}?"),
    _COVERS: lambda f: f"What {_COVER_BASE[f.verb][0]} {f.subject} {_COVER_BASE[f.verb][1]}?",
    _LISTED: lambda f: f"What {f.verb} the {f.group('count')} {f.group('what')}?",
    _SHARE: lambda f: f"How much of {f.group('whole')} {_SHARE_BASE[f.verb][0]} {f.subject} {_SHARE_BASE[f.verb][1]}?",
    _MOSTLY_IN: lambda f: f"Where {f.verb} {f.group('share').lower()} of {f.subject} {f.group('where')}?",
    _DEPENDS: lambda f: f"What {_DEPEND_DOES[f.verb]} {f.subject} depend on?",
}


def _background(sentences: list[str], text: str, title: str) -> list[str]:
    """What a named thing is, what else it is called, when it began and who made it, what it ranks as, how many
    it holds, where it is or came from, what it is made of or known for, and what happened in a year a sentence
    opens with: questions encyclopaedic sentences answer."""
    drafts, years = [], []
    for whole in sentences:
        sentence = _without_opening(whole)
        for pattern in _QUESTION_OF:
            match = pattern.match(sentence)
            if not match or re.match(r"\.\w", sentence[match.end() : match.end() + 2]):  # not cut at "U.S."
                continue
            asks_subject = pattern not in _NO_SUBJECT
            subject = ""
            if asks_subject:
                raw = match.group("subject")  # one after "Most of" ("the forest") reads as one opening its sentence
                subject = _subject_phrase(f"The {raw[4:]}" if raw.startswith("the ") else raw, title, text)
                if not subject:
                    continue
            verb = match.groupdict().get("verb") or match.groupdict().get("plural")
            named = asks_subject and _PEOPLE[0].search(match.group("subject"))  # "economist Hoesung Lee": the name
            subject = named.group("name") if named else subject
            person = bool(named or _PERSON_NOUN.fullmatch(subject))
            drafts.append(_QUESTION_OF[pattern](_Found(match, sentence, verb, subject, person)))
        year = _YEAR_OPENING.match(whole)
        if year:
            years.append(f"What happened in {year.group('year')}?")
    return drafts + years[:2]


def _whole_name_at_end(what: str, rest: str) -> str:
    """A complement cut inside a name is given its name whole: "river in Central" + " and Western Europe"."""
    if not what.split()[-1][:1].isupper():
        return what
    more = re.match(r" and [A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*", rest)
    return what + more.group() if more else what


def _made_works(sentences: list[str]) -> list[str]:
    """Who made a work the article names: "Who wrote The Mask of Anarchy?"."""
    return [f"Who {m.group('verb')} {m.group('work')}?" for s in sentences for m in _MADE_WORK.finditer(s)
            if len(m.group("work").split()) >= 2 or m.group("work") not in s[: m.start()]]


def _renamed(sentences: list[str]) -> list[str]:
    """What a named company or body changed its name to."""
    return [f"What did {_in_question(m.group('subject'))} change {m.group('whose')} name to?"
            for s in sentences for m in _RENAMED.finditer(s)]


def _clauses(sentences: list[str]) -> list[str]:
    """Questions asking for the subject of a relative or a copular clause, in the article's own words."""
    drafts = []
    for sentence in sentences:
        # "Who studies ketamine?" fits every expert of a story: a clause of fewer than three words is too vague.
        drafts += [f"Who {m.group('clause')}?" for m in _WHO_CLAUSE.finditer(sentence) if len(m.group("clause").split()) >= 3]
        for m in _COPULA.finditer(sentence):
            if " " not in m.group("subject"):  # "What is the city?": one common noun names nothing in particular
                continue
            head = m.group("head")
            asks = "When" if head is None else "What"
            if head and _PERSON_NOUN.search(_AFTER_HEAD_NOUN.split(head)[0].split()[-1]):
                asks = "Who"
            drafts.append(f"{asks} {m.group('verb')} the {m.group('subject')}?")
    return drafts


def _in_question(name: str) -> str:
    """A name as it reads inside a question: "The Harbour Trust" -> "the Harbour Trust"."""
    return name.replace("The ", "the ", 1)


def _names_a_payer(payer: str) -> bool:
    """A pronoun ("It", "Which") names no payer to ask about."""
    return payer.lower() not in _POINTERS | {"which", "who"}


def _quantities(sentences: list[str]) -> list[str]:
    """How much a priced thing cost; how many of a counted thing did what the sentence says they did."""
    drafts = [f"How much was the {m.group('thing')}?" for s in sentences for m in _PRICED.finditer(s)]
    drafts += [f"How much did the {m.group('thing').lower()} cost?" for s in sentences for m in _COSTING.finditer(s)]
    from_subject = [_without_opening(s) for s in sentences]
    paid = [m for s in from_subject for m in _PAID.finditer(s) if _names_a_payer(m.group("payer"))]
    drafts += [f"How much did {_in_question(m.group('payer'))} {_PAID_BASE[m.group('verb')]} {m.group('purpose')} "
               f"{m.group('what')}?" for m in paid]
    bought = [m for s in from_subject for m in _BOUGHT_FOR.finditer(s) if _names_a_payer(m.group("payer"))]
    drafts += [f"How much did {_in_question(m.group('payer'))} sell {m.group('what')} for?" if m.group("verb") == "sold"
               else f"How much did {_in_question(m.group('payer'))} pay for {m.group('what')}?" for m in bought]
    subjects = [m for m in map(_COUNT_SUBJECT.match, sentences) if m and not _UNITS.search(m.group("things"))]
    return drafts + [f"How many {m.group('things').lower()} {m.group('predicate')}?" for m in subjects]


# Qualifiers that leave a count as vague as none ("How many major types?") or that are not English after "How many".
_VAGUE_QUALIFIER = re.compile(
    r"(?:\w+est|most|more|individual|major|minor|main|different|various|separate|distinct|other|several|new|old|large|"
    r"small|big|total|key|important|basic|primary|general|common|specific|similar|such)\b"
)


def _bare_counts(sentences: list[str]) -> list[str]:
    """'How many shopping trolleys?': natural, but short questions are the hardest to answer with confidence.
    A count needs a qualifier to be specific ("How many students?" is not; "How many richest people?" is not English)."""
    counted = [m.group("things") for s in sentences for m in _COUNTED.finditer(s)]
    return [f"How many {things}?" for things in counted if not _UNITS.search(things)
            and len(things.split()) == 2 and not _VAGUE_QUALIFIER.match(things)]


def _terms(sentences: list[str]) -> list[str]:
    return [f"What is {m.group('term')}?" for s in sentences for p in _TERMS for m in p.finditer(s)]


def _findings(sentences: list[str], people: list[str]) -> list[str]:
    """What the study found, and what named sources reported, when the text reports findings."""
    studies = Counter(m.group("study") for s in sentences for m in _STUDY.finditer(s))
    finding_sentences = [s for s in sentences if _FINDING.search(s)]
    drafts = [f"What did the {studies.most_common(1)[0][0]} find?"] if studies and finding_sentences else []
    drafts += [
        f"What did {m.group('who')} {_BASE_VERB.get(m.group('verb'), m.group('verb'))}?"
        for s in sentences
        for m in _REPORTED.finditer(s)
    ]
    drafts += [f"What did the {m.group('when') or ''}{m.group('kind')} by {m.group('source')} {_BASE_VERB[m.group('verb')]}?"
               for s in sentences for m in _REPORT_BY.finditer(s)]
    return drafts + [f"What did {name} find?" for name in people if any(name in s for s in finding_sentences)]


def draft_questions(article: IndexedArticle) -> list[str]:
    """Candidate questions, one of each kind in turn (clause, person, quantity, term, finding, background),
    bare counts last."""
    sentences = [article.text[start:end] for start, end in article.sentences[:MAX_DRAFT_SENTENCES]]
    text = "\n".join(sentences)  # where names and subjects are looked up again
    people = _people(sentences, text)
    kinds = [
        _clauses(sentences),
        [f"Who is {name}?" for name in people],
        _quantities(sentences),
        _terms(sentences),
        _findings(sentences, people),
        _background(sentences, text, article.title),
        _made_works(sentences) + _renamed(sentences),
    ]
    drafts = [q for q in chain.from_iterable(zip_longest(*kinds)) if q is not None] + _bare_counts(sentences)
    return list(dict.fromkeys(q for q in drafts if recognise(q) is None))


def answered_suggestions(article: IndexedArticle, ask: Callable[[str], Answer]) -> list[str]:
    """Up to MAX_SUGGESTIONS drafts that ``ask`` answers from the article (found, not weak), each with a different
    quote; when fewer than MIN_SUGGESTIONS quotes answer any, a quote may answer a second draft."""
    kept: list[str] = []
    second_asks: dict[str, str] = {}  # quote -> the first draft it answered after its own
    quotes_used: set[str] = set()
    for question in draft_questions(article)[:MAX_DRAFTS_CHECKED]:
        answer = ask(question)
        if not answer.found or answer.weak or not answer.citations:
            continue
        quote = answer.citations[0].quote
        if quote in quotes_used:
            second_asks.setdefault(quote, question)
            continue
        quotes_used.add(quote)
        kept.append(question)
        if len(kept) == MAX_SUGGESTIONS:
            break
    return kept + list(second_asks.values())[: max(0, MIN_SUGGESTIONS - len(kept))]
