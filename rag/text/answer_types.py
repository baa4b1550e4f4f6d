"""What kind of text answers a question: an amount, a count of a unit, a date, a share …

The question side ("hur mycket kostar", "hur många år", "när") and the text side (a figure
with "kronor", "tio år", a year) of each kind. The answer step weighs sentences by them, and
retrieval prefers passages that have the kind asked for. The words are closed sets of
Swedish and English function words and units, not this corpus's vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "När …?" and "When …?" ask for a time, but not "När får en ssk …?" (when one may: on what
# conditions) nor "When a parent has …, does the law …?" (a condition, then the question);
# nor does "när" inside the question ("vilka källor används när de följer upp?").
WHEN_ASKED = r"^\W*(när|when)\b(?!\s+(får|may)\b)(?![^,?]*,)"
QUANTITY_QUESTION = re.compile(
    r"\b(hur (mycket|många|länge|ofta|stor|mån)|vilken? (ålder|åldrar|tid|datum|år)|"
    r"vilka åldrar|inom hur|belopp|procent|andel|how (much|many|long|often)|what age|"
    r"which ages|what share|percentage|(sen|sedan|från|till|since|by|until) (när|when))\b|"
    + WHEN_ASKED, re.IGNORECASE)
NUMBER = re.compile(r"\d")
# "12 kap. 1 §", "1 och 2 §§", "(2010:659)": where a rule is, not a figure it gives.
STATUTE_REFERENCE = re.compile(r"\d+\s*[a-z]?\s+kap\.?|"
                               r"\d+\s*[a-z]?(?:\s*(?:,|och|eller)\s*\d+\s*[a-z]?)*\s*§+|"
                               r"\(\s*(?:19|20)\d\d:\d+\s*\)")
# Words that ask what something costs. A compound is a kind of its last part: "vårdavgiften"
# and "maxbeloppet" are sums, "kostnadsansvar" is a responsibility and "avgiftsfri" free.
MONEY_WORDS = (r"kostar|kosta|\w*kostnad(er|en|erna)?|\w*pris(et|er|erna)?|"
               r"\w*avgift(en|er|erna)?|kronor|kr|\w*belopp(et|en)?|cost\w*|price\w*|fee|fees|"
               r"(?<!in )charge[sd]?")
MONEY_QUESTION = re.compile(rf"\b({MONEY_WORDS})\b", re.IGNORECASE)
MONEY_UNIT = r"kr\b|kronor|tkr|miljoner|miljarder|:-"
MONEY = re.compile(rf"\d[\d\s,]*({MONEY_UNIT}|prisbasbelopp)",
                   re.IGNORECASE)
# A year, not the year of a statute's number ("lagen 1982:763", "Lag (2017:378)").
YEAR = r"\b(19|20)\d\d\b(?!:\d)"
YEAR_ASKED = re.compile(r"\b(vilket år|vilka år|vilket årtal|which years?|what years?|"
                        r"in what year)\b", re.I)
FREQUENCY_ASKED = re.compile(r"\b(hur ofta|how often|how frequently)\b", re.I)
# "2-3 gånger per år", "årsvis", "varje månad", "var tredje år", "annually"; not
# "regelbunden", which says that it recurs but not how often, nor "förlängas en gång" (once).
FREQUENCY = re.compile(r"\b(gånger|gång (per|i|om|vart|var|varje)|ggr|"
                       r"per (år|månad|vecka|dag|dygn|kvartal|termin)|"
                       r"(års|halvårs|månads|vecko|kvartals|dags)vis|årligen|dagligen|"
                       r"månatligen|varje|var (annan|annat|tredje|fjärde|femte|sjätte)|"
                       r"löpande|kontinuerligt|every|annually|yearly|monthly|weekly|daily|"
                       r"once a|twice|times a)\b", re.I)
CASE_NUMBER_ASKED = re.compile(r"\b(diarienummer\w*|dnr|ärendenummer\w*|case number|"
                               r"reference number)\b", re.IGNORECASE)
# "3.51-27270/2024", "12/2019"; not a clock time ("08:00-17:00"), a date ("2019-09-24") or a
# range ("0-6 år", "10-12 timmar")
CASE_NUMBER = re.compile(r"(?<![\d:-])(?!(19|20)\d\d-\d\d-\d\d)\d[\d.]*[-/]\d{3,}")


# "en"/"ett" are articles too; after "minst", "högst", "endast" … they are the count.
_NUMBER_WORD = (r"(två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|femton|tjugo|trettio|"
                r"fyrtio|femtio|hundra|tusen|one|two|three|four|five|six|seven|eight|nine|ten|"
                r"(minst|högst|max|maximalt|endast|bara|exakt|precis|cirka|ca|omkring|ungefär|"
                r"drygt|knappt|nästan) (en|ett)|(en|ett) (miljon|miljard)\w*)")


def _count_asked(unit_sv: str, unit_en: str) -> re.Pattern[str]:
    """ "hur många dagar …", "how many days …": a count of this unit."""
    return re.compile(rf"\b(hur många|how many)\s+({unit_sv}|{unit_en})\b", re.I)


def _count_given(unit: str) -> re.Pattern[str]:
    """A figure of the unit asked for ("tio år", "30 kalenderdagar", "3-5 dagar")."""
    return re.compile(rf"(\d|\b{_NUMBER_WORD})[\d\s,.–-]*\s*{unit}", re.I)


@dataclass(frozen=True)
class OnlyAnsweredBy:
    """A question only one kind of text answers; the best sentence without it answers a
    neighbouring question."""

    asked: re.Pattern[str]
    given: re.Pattern[str]
    label_sv: str
    label_en: str
    # An identifier (a phone or case number) answers wherever it stands, so it is looked for
    # in every passage retrieved and weighed without its passage's rank; an amount far down
    # is another rule's.
    anywhere: bool


ONLY_ANSWERED_BY = (
    # what something costs ("vad kostar …?"; a fee's payer need not be an amount)
    OnlyAnsweredBy(re.compile(r"\b(kostar|kosta|cost|costs|hur mycket (pengar|medel)|"
                              r"how much (money|funding))\b", re.I),
                   MONEY, "beloppet", "the amount", anywhere=False),
    OnlyAnsweredBy(re.compile(r"\b(telefonnummer\w*|telefonnr|phone number|telephone number)\b",
                              re.I),
                   # a number one can dial, or one of the national short numbers
                   re.compile(r"(\+46|\b0)\d{1,3}[- ]?\d{2,3}(?:[ ]?\d{2}){1,2}\b|"
                              r"\b(1177|112|114 ?14)\b"),
                   "telefonnumret", "the phone number", anywhere=True),
    OnlyAnsweredBy(CASE_NUMBER_ASKED, CASE_NUMBER, "diarienumret", "the case number",
                   anywhere=True),
    # the year something happened or happens ("vilket år började …?")
    OnlyAnsweredBy(YEAR_ASKED, re.compile(YEAR), "året", "the year", anywhere=False),
    # how often something recurs ("regelbunden SPUR-inspektion" does not say)
    OnlyAnsweredBy(FREQUENCY_ASKED, FREQUENCY, "hur ofta", "how often", anywhere=False),
    # how long something lasts or may take: a span of time, or the date it runs to
    OnlyAnsweredBy(re.compile(r"\b(hur länge|hur lång tid|how long)\b", re.I),
                   re.compile(rf"(\d|\b{_NUMBER_WORD}|\b(en|ett))[\d\s,.–-]*\s*"
                              r"(\w*(år|månad|veck|dag|dygn|timm|minut)|tim\b)|"
                              rf"{YEAR}|\btills vidare\b", re.I),
                   "tiden", "how long", anywhere=False),
    *(OnlyAnsweredBy(_count_asked(unit_sv, unit_en), _count_given(given), label_sv, label_en,
                     anywhere=False) for unit_sv, unit_en, given, label_sv, label_en in (
        (r"år", r"years?", r"\w*års?\b", "antalet år", "the number of years"),
        (r"månad(er)?", r"months?", r"\w*månad", "antalet månader", "the number of months"),
        (r"veck(a|or)", r"weeks?", r"\w*veck", "antalet veckor", "the number of weeks"),
        (r"dag(ar)?", r"days?", r"\w*dag", "antalet dagar", "the number of days"),
        (r"timm(e|ar)", r"hours?", r"(\w*timm|tim\b)", "antalet timmar", "the number of hours"),
        (r"kronor|kr", r"kronor|SEK", rf"({MONEY_UNIT})", "beloppet", "the amount"),
    )),
)
# What kind of text answers the question; a sentence without it is a weaker answer.
ANSWER_TYPES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(r"\b(\w*tid|timm\w*|timme|hours?|time|hur länge|hur lång|how long)\b", re.I),
     re.compile(r"(\d|\b(ett|en|två|tre|fyra|fem|sex|sju|åtta|nio|tio|tolv)\b)\s*"
                r"(timm|tim\b|minut|dag|veck|månad|kl)|\bkl\.? ?\d|"
                # years, but not an age range ("barnen 0–6 år")
                r"(?<![–-])(?<![–-]\s)\b(\d+|ett|en|två|tre|fyra|fem|sex|tio)\s+års?\b", re.I)),
    (re.compile(r"\b(andel\w*|procent|share|percent\w*|hur stor del)\b", re.I),
     re.compile(r"\d\s*(%|procent)", re.I)),
    (re.compile(r"\b(ålder|åldrar|age|ages)\b", re.I), re.compile(r"\d+\D{0,12}\bår", re.I)),
    (re.compile(WHEN_ASKED, re.I),
     re.compile(r"\b(19|20)\d\d\b|\d{1,2} (jan|feb|mar|apr|maj|jun|jul|aug|sep|okt|nov|dec)",
                re.I)),
    (re.compile(r"\b(max\w*|som mest|högst|maximum|at most|upper limit)\b", re.I),
     re.compile(r"\b(max\w*|högst|upp ?till|som mest|maximum|at most)\b", re.I)),
    (re.compile(r"\b(minimi\w*|som minst|lägst|minimum|at least)\b", re.I),
     re.compile(r"\b(minst|minimi\w*|lägst|minimum|inte (färre|mindre) än)\b", re.I)),
    (re.compile(r"\b(deadline|senast|sista dag\w*|vilket datum|sen när|sedan när|by what date|"
                r"what date|since when)\b", re.I),
     re.compile(r"\b(19|20)\d\d\b|\d{1,2} (jan|feb|mar|apr|maj|jun|jul|aug|sep|okt|nov|dec)",
                re.I)),
    (CASE_NUMBER_ASKED, CASE_NUMBER),
    (FREQUENCY_ASKED, FREQUENCY),
    (YEAR_ASKED, re.compile(YEAR)),
    # Only "varför" that asks: "måste de förklara varför?" asks whether, not why.
    (re.compile(r"(^|[,;:–-]\s*)(varför|why)\b", re.I),
     re.compile(r"\b(för att|eftersom|därför|syfte\w*|in order)\b", re.I)),
)


def only_kinds_asked(question: str) -> list[OnlyAnsweredBy]:
    """The kinds of text that alone answer the question (an amount, a count of years …)."""
    return [only for only in ONLY_ANSWERED_BY if only.asked.search(question)]


def gives_what_is_asked(only_kinds: list[OnlyAnsweredBy], text: str) -> bool:
    """The sentence has each kind of text that alone answers the question."""
    return all(only.given.search(text) for only in only_kinds)


def asked_kinds(question: str) -> list[re.Pattern[str]]:
    """The text patterns an answer to the question has: each kind that alone answers it,
    each expected answer type, and an amount for a price question."""
    patterns = [only.given for only in only_kinds_asked(question)]
    patterns += [answers for asks, answers in ANSWER_TYPES if asks.search(question)]
    if MONEY_QUESTION.search(question):
        patterns.append(MONEY)
    return list(dict.fromkeys(patterns))
