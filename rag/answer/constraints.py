"""The question's constraints, and whether a cited sentence satisfies each.

A near-miss changes one constraint of an answerable question: another region, a year or month
the document does not report, another profession or national body ("patientnämnden" where the
rule is IVO's), a number that is not in the rule, another kind of quantity (a fee where the
rule gives hours), a count of something the rule does not count, a numbered thing it numbers
otherwise ("jourområde 7"), or a statute that is not in the documents. Each is read off the
question with patterns over closed sets (Sweden's 21 regions, the licensed care professions,
the national authorities, the months, units of measure, the kinds of statute, Swedish
function words: lists that cannot grow with the corpus) and checked against the
sentence, its passage and its document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Literal

from rag.models import Chunk
from rag.retrieve.statute_refs import Statute, asked_as_source, mentions
from rag.text.answer_types import MONEY_WORDS
from rag.text.fold import fold
from rag.text.lexical import STOP_WORDS, analyze, split_compound, swedish_forms
from rag.text.sentences import ITEM_PREFIX

ConstraintKind = Literal["region", "year", "month", "number", "quantity", "profession",
                         "share_of", "organisation", "rate", "paragraph", "count", "label",
                         "source"]

# Sweden's regions (a closed, national set), folded, with the words that name them.
REGIONS: dict[str, tuple[str, ...]] = {
    "Region Stockholm": ("stockholm",),
    "Region Uppsala": ("uppsala",),
    "Region Sörmland": ("sormland", "sodermanland"),
    "Region Östergötland": ("ostergotland",),
    "Region Jönköpings län": ("jonkoping",),
    "Region Kronoberg": ("kronoberg",),
    "Region Kalmar län": ("kalmar",),
    "Region Gotland": ("gotland",),
    "Region Blekinge": ("blekinge",),
    "Region Skåne": ("skane", "scania"),
    "Region Halland": ("halland",),
    "Västra Götalandsregionen": ("vastra gotaland", "vgr", "vastra gotalandsregionen"),
    "Region Värmland": ("varmland",),
    "Region Örebro län": ("orebro",),
    "Region Västmanland": ("vastmanland",),
    "Region Dalarna": ("dalarna", "dalarnas"),
    "Region Gävleborg": ("gavleborg",),
    "Region Västernorrland": ("vasternorrland",),
    "Region Jämtland Härjedalen": ("jamtland", "harjedalen"),
    "Region Västerbotten": ("vasterbotten",),
    "Region Norrbotten": ("norrbotten",),
}
MONTHS: dict[str, tuple[str, ...]] = {
    "januari": ("januari", "january"), "februari": ("februari", "february"),
    "mars": ("mars", "march"), "april": ("april",), "maj": ("maj", "may"),
    "juni": ("juni", "june"), "juli": ("juli", "july"), "augusti": ("augusti", "august"),
    "september": ("september",), "oktober": ("oktober", "october"),
    "november": ("november",), "december": ("december",),
}
# Care professions (folded stems): the 22 that Patientsäkerhetslagen 4 kap. 4 § licenses,
# and the unlicensed roles every care centre has, with the English names staff use. Like the
# regions, a closed set that does not grow with the corpus.
PROFESSIONS: dict[str, tuple[str, ...]] = {
    "läkare": ("lakar", "doctor", "physician", "gp"),
    "tandläkare": ("tandlakar", "dentist"),
    "sjuksköterska": ("sjukskotersk", "nurse"),
    "distriktssköterska": ("distriktsskotersk", "district nurse"),
    "undersköterska": ("underskotersk", "assistant nurse", "nursing assistant"),
    "barnmorska": ("barnmorsk", "midwi"),
    "kurator": ("kurator", "counsel", "social worker"),
    "psykolog": ("psykolog", "psychologist"),
    "psykoterapeut": ("psykoterapeut", "psychotherapist"),
    "fysioterapeut": ("fysioterapeut", "sjukgymnast", "physiotherapist", "physical therapist"),
    "arbetsterapeut": ("arbetsterapeut", "occupational therapist"),
    "dietist": ("dietist", "dietitian", "dietician", "nutritionist"),
    "logoped": ("logoped", "speech therapist"),
    "fotterapeut": ("fotterapeut", "podiatrist"),
    "apotekare": ("apotekar", "receptari", "pharmacist"),
    "optiker": ("optiker", "optician"),
    "audionom": ("audionom", "audiologist"),
    "tandhygienist": ("tandhygienist", "dental hygienist"),
    "biomedicinsk analytiker": ("biomedicinsk analytiker", "biomedical scientist"),
    "kiropraktor": ("kiropraktor", "chiropractor"),
    "naprapat": ("naprapat", "naprapath"),
    "ortopedingenjör": ("ortopedingenjor", "orthotist"),
    "sjukhusfysiker": ("sjukhusfysiker", "medical physicist"),
}
# Sweden's national bodies that steering documents and statutes name as who acts or who is
# told (folded; Swedish and English names): a closed, national set like the regions. A
# name in capitals ("IVO") is matched as a whole word, a stem ("socialstyrelse") as a prefix.
ORGANISATIONS: dict[str, tuple[str, ...]] = {
    "Inspektionen för vård och omsorg": ("inspektionen for vard och omsorg", "IVO",
                                         "inspectorate"),
    "Socialstyrelsen": ("socialstyrelse", "national board of health and welfare"),
    "Försäkringskassan": ("forsakringskass", "social insurance agency"),
    "Kammarkollegiet": ("kammarkollegi", "legal, financial and administrative services"),
    "patientnämnden": ("patientnamnd", "patient advisory committee",
                       "patients' advisory committee", "patient committee"),
    "Sveriges Kommuner och Regioner": ("sveriges kommuner och", "SKR", "SKL", "SALAR",
                                       "swedish association of local authorities"),
    "Läkemedelsverket": ("lakemedelsverk", "medical products agency"),
    "Folkhälsomyndigheten": ("folkhalsomyndighet", "public health agency"),
    "E-hälsomyndigheten": ("e-halsomyndighet", "ehalsomyndighet", "ehealth agency"),
    "Tandvårds- och läkemedelsförmånsverket": ("lakemedelsformansverk", "TLV",
                                               "dental and pharmaceutical benefits"),
    "Hälso- och sjukvårdens ansvarsnämnd": ("ansvarsnamnd", "HSAN",
                                           "medical responsibility board"),
    "Justitieombudsmannen": ("justitieombudsm", "parliamentary ombudsm"),
    "Arbetsmiljöverket": ("arbetsmiljoverk", "work environment authority"),
    "Integritetsskyddsmyndigheten": ("integritetsskyddsmyndighet", "IMY",
                                     "privacy protection authority"),
    "Skatteverket": ("skatteverk", "tax agency"),
    "Myndigheten för vård- och omsorgsanalys": ("vardanalys", "omsorgsanalys"),
    "Migrationsverket": ("migrationsverk", "migration agency"),
    "Polismyndigheten": ("polismyndighet", "polisen", "police"),
    "Arbetsförmedlingen": ("arbetsformedling", "public employment service"),
}
_ORGANISATION_PATTERNS: dict[str, re.Pattern[str]] = {
    organisation: re.compile("|".join(
        rf"\b{re.escape(key.lower())}\b" if key.isupper() else rf"\b{re.escape(key)}"
        for key in keys))
    for organisation, keys in ORGANISATIONS.items()}
# The roles above that Patientsäkerhetslagen does not license (a protected title at most): a
# rule for "den som har legitimation" is not theirs.
UNLICENSED = frozenset({"undersköterska", "fotterapeut"})
_LICENSED_HOLDERS = re.compile(r"\blegitim(?:ation|erad)")
# A profession's name before these is a place or a service, not who does the work
# ("barnmorskemottagningen" asks about the clinic, whoever staffs it).
_PLACE_TAILS = ("mottagning", "centr", "program")
_EN_PLACES = frozenset({"clinic", "clinics", "centre", "center", "centres", "unit", "service"})
YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
YEAR_RANGE = re.compile(r"\b(19[5-9]\d|20\d\d)\s*(?:–|-|—|till|to)\s*(19[5-9]\d|20\d\d)\b")
NUMBER_TOKEN = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)?(?![\d])")
WORD_NUMBERS = ("två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|femton|tjugo|trettio|fyrtio|"
                "femtio|hundra|tusen|halv|halvår|one|two|three|four|five|six|ten|twelve")
ANY_NUMBER = re.compile(rf"\d|\b({WORD_NUMBERS})\b", re.IGNORECASE)
_N = rf"(?:\d[\d\s,.]*|\b(?:{WORD_NUMBERS})\b)\s*"

# What kind of quantity the question asks for, and what a sentence giving it contains.
QUANTITIES: dict[str, tuple[re.Pattern[str], re.Pattern[str], str, str]] = {
    "money": (
        re.compile(rf"\b({MONEY_WORDS}|how much money|sek)\b", re.I),
        re.compile(rf"{_N}(kr\b|kronor|tkr|mkr|miljon\w*|miljard\w*|:-|sek\b)|\bkronor\b",
                   re.I),
        "ett belopp i kronor", "an amount in kronor"),
    "percent": (
        re.compile(r"(?<!övervägande )(?<!största )(?<!most of )\b(procent\w*|andel\w*|"
                   r"hur stor del|percent\w*|share|proportion)\b|%", re.I),
        re.compile(rf"{_N}(%|procent)", re.I), "en andel i procent", "a percentage"),
    "age": (
        re.compile(r"\b(ålder\w*|åldrar\w*|hur gamla?|age[sd]?|how old)\b", re.I),
        re.compile(rf"{_N}-?(år|års|årig|åring)|\bålder", re.I), "en ålder", "an age"),
    "duration": (
        re.compile(r"\b(hur (länge|lång tid)|timm\w*|timme|minut\w*|hur många (dagar|veckor)|"
                   r"\w+tid(en)?|hours?|minutes?|how long|how many (days|weeks))\b", re.I),
        re.compile(rf"{_N}(timm|tim\b|h\b|minut|min\b|dag|veck|månad|år)|\bkl\.? ?\d|"
                   rf"\b(dygnet|samma dag|direkt|omgående)\b", re.I),
        "en tidsangivelse", "a time or duration"),
}


# "per 1 000 invånare", "per boende och vecka": a rate asked for, and what a sentence giving
# one contains (a rate written any way: "per vecka", "kr/person", "varje månad", "årligen").
RATE_ASKED = re.compile(r"\bper\s+(?:\d[\d\s]*\s*)?[^\W\d_]+(?:\s+och\s+[^\W\d_]+)?",
                        re.IGNORECASE)
RATE_GIVEN = re.compile(r"\bper\b|\w\s*/\s*[^\W\d_]|\bvarje\b|\bi (?:veckan|månaden|timmen)\b|"
                        r"\bom (?:året|dagen|dygnet)\b|\b(?:årligen|dagligen|veckovis|månadsvis)\b",
                        re.IGNORECASE)
# "Hur många patientkontrakt …", "how many hours …": what is counted, and how near a number
# must stand before it in the answer ("fyra delar" counts parts, not contracts).
COUNT_ASKED = re.compile(r"\b(?:hur många|how many)\s+((?:[^\W\d_]+\s*){1,3})", re.IGNORECASE)
COUNTED_WITHIN = 3  # words after the number
_COUNTED_NUMBER = re.compile(rf"\d|^(?:{WORD_NUMBERS}|one)$", re.IGNORECASE)
# "en", "ett" count after a bound or an estimate ("minst en specialist", "cirka en
# miljon"), or before a magnitude; else they are the article ("en del egenkontroller").
_BOUNDS = frozenset({"minst", "högst", "hogst", "max", "maximalt", "endast", "bara", "exakt",
                     "cirka", "ca", "ungefar", "drygt", "knappt", "nastan"})
_MAGNITUDES = ("miljon", "miljard", "tusen", "hundra")
# "jourområde 7", "bilaga 3": a numbered thing asked for by its number.
LABEL_ASKED = re.compile(r"\b([^\W\d_]{4,})\s+(\d{1,3})\b(?![.,]?\d|\s*(?:%|§|kap))",
                         re.IGNORECASE)
_MONTH_NAMES = frozenset(name for names in MONTHS.values() for name in names)
_LABEL_NUMBERS = r"(\d{1,3}(?:\s*(?:[-–]|,|och|eller|samt)\s*\d{1,3})*)"
# A statute paragraph asked for by number ("HSL 17 kap. 15 §").
PARAGRAPH = re.compile(r"\b(\d+)\s*kap\.?\s*(\d+\s*[a-z]?)\s*§", re.IGNORECASE)


@dataclass(frozen=True)
class Constraint:
    kind: ConstraintKind
    value: str
    label_sv: str
    label_en: str

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_sv


def find_constraints(question: str) -> list[Constraint]:
    folded = fold(question)
    found: list[Constraint] = []
    for region, keys in REGIONS.items():
        if any(re.search(rf"\b{key}\w*", folded) for key in keys):
            found.append(Constraint("region", region, f"detta för {region}", f"this for {region}"))
    years = set(YEAR.findall(question))
    for year in sorted(years):
        found.append(Constraint("year", year, f"år {year}", f"the year {year}"))
    for month, names in MONTHS.items():
        if any(re.search(rf"\b{name}\b", folded) for name in names if name != "may") or \
                (re.search(r"\bin may\b|\bmay \d|\d may\b", folded) and month == "maj"):
            found.append(Constraint("month", month, month, month))
    for number in NUMBER_TOKEN.findall(question):
        if number not in years:
            found.append(Constraint("number", number, number, number))
    for profession in professions_named(folded):
        found.append(Constraint("profession", profession, profession, profession))
    for organisation in organisations_named(folded):
        found.append(Constraint("organisation", organisation, f"detta för {organisation}",
                                f"this for {organisation}"))
    for rate in RATE_ASKED.findall(question):
        found.append(Constraint("rate", rate, rate, rate))
    counted, shown = _counted(question)
    if counted and not any(asks.search(shown) for asks, *_ in QUANTITIES.values()):
        # (a count of a unit, "hur många procent / timmar", is the quantity's check)
        found.append(Constraint("count", " ".join(counted), f"antal {shown}",
                                f"the number of {shown}"))
    for name, number in _labels(question):
        found.append(Constraint("label", f"{name} {number}", f"{name} {number}",
                                f"{name} {number}"))
    for cited in _paragraphs_in(question):
        found.append(Constraint("paragraph", cited, cited, cited))
    for kind, (asks, _gives, label_sv, label_en) in QUANTITIES.items():
        if asks.search(question):
            found.append(Constraint("quantity", kind, label_sv, label_en))
    if any(c.kind == "quantity" and c.value == "percent" for c in found):
        # "Hur stor andel fick en bedömning av psykolog?": a share measured for everyone is
        # not the psykolog's share, though a rule for everyone is the psykolog's rule.
        found = [Constraint("share_of", c.value, f"andelen för {c.value}",
                            f"the share for {c.value}") if c.kind == "profession" else c
                 for c in found]
    if len([c for c in found if c.kind == "quantity"]) > 1:
        # "Hur stor andel ... inom tre dagar": the first kind asked for is the answer's.
        first = min((c for c in found if c.kind == "quantity"),
                    key=lambda c: _position(question, c.value))
        found = [c for c in found if c.kind != "quantity" or c is first]
    return found


def professions_named(folded: str) -> list[str]:
    """The professions a folded text names as who does the work (the longest name wins:
    "tandläkare" is no mention of "läkare")."""
    spans: list[tuple[int, int, str]] = []
    for profession, stems in PROFESSIONS.items():
        for stem in stems:
            for match in re.finditer(re.escape(stem), folded):
                if not _names_a_place(folded, match.end()):
                    spans.append((match.start(), match.end(), profession))
    named: list[str] = []
    for start, end, profession in spans:
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans) \
                and profession not in named:
            named.append(profession)
    return named


def organisations_named(folded: str) -> list[str]:
    """The national bodies a folded text names ("ivo", "socialstyrelsen", "the inspectorate")."""
    return [organisation for organisation, pattern in _ORGANISATION_PATTERNS.items()
            if pattern.search(folded)]


def _names_a_place(folded: str, end: int) -> bool:
    """After a profession's stem: "…emottagningen" or "midwife clinic" is a place."""
    rest = re.match(r"[a-z]*", folded[end:])
    word_rest = rest.group(0) if rest else ""
    if word_rest.startswith(_PLACE_TAILS) or word_rest[1:].startswith(_PLACE_TAILS):
        return True
    following = folded[end + len(word_rest):].split()
    return bool(following) and following[0].strip("?.,!") in _EN_PLACES


def _counted(question: str) -> tuple[list[str], str]:
    """What "hur många" counts, as its head noun's folded Swedish forms (an English one through
    the glossary, none without a Swedish form), and the noun phrase as asked. A Swedish
    phrase runs past words with an adjective's ending ("medicinskt ansvariga sjuksköterskor"),
    an English one past nouns to the first function word ("doctor hours per week")."""
    match = COUNT_ASKED.search(question)
    if match is None:
        return [], ""
    english = match.group(0).lower().startswith("how")
    asked: list[str] = []
    for word in match.group(1).split():
        if _ends_noun_phrase(word.lower(), asked, english):
            break
        asked.append(word)
    if not asked:
        return [], ""
    head = asked[-1].lower()
    forms = swedish_forms(head) if english else (head,)
    return [fold(form) for form in forms if len(form) >= 4], " ".join(asked)


def _ends_noun_phrase(word: str, asked: list[str], english: bool) -> bool:
    if word in STOP_WORDS:
        return True
    if english:
        return False  # English nouns run on to a function word: "doctor hours per week"
    return bool(asked) and (not asked[-1].endswith(_ADJECTIVE_ENDINGS) or
                            word.endswith(_VERB_ENDINGS))


_ADJECTIVE_ENDINGS = ("a", "t", "ade", "al")
_VERB_ENDINGS = ("de", "te", "s")  # "… patientkontrakt skrevs", "… kvinnor kallades"


def _counts(counted: str, sentence: str) -> bool:
    """A number with one of the counted words (a compound part or a form of it) within
    COUNTED_WITHIN words after it."""
    stems = {part[:max(4, len(part) - 2)] for word in counted.split()
             for part in (word, *split_compound(word)) if len(part) >= 4}
    words = re.findall(r"[\w,.-]+", fold(sentence))
    for index, word in enumerate(words):
        if _COUNTED_NUMBER.search(word) or (word in ("en", "ett") and _counts_as_number(
                words[index - 1] if index else "", words[index + 1:index + 2])):
            following = words[index + 1:index + 1 + COUNTED_WITHIN]
            if any(stem in other for other in following for stem in stems):
                return True
    return False


def _counts_as_number(before: str, after: list[str]) -> bool:
    return before in _BOUNDS or bool(after and after[0].startswith(_MAGNITUDES))


def _labels(question: str) -> list[tuple[str, str]]:
    """(name, number) pairs such as ("jourområde", "7"): not a unit ("8 timmar" is a
    quantity), a bound or another stop word ("minst 71"), or a month's day."""
    labels: list[tuple[str, str]] = []
    for name, number in LABEL_ASKED.findall(question):
        lowered = name.lower()
        if lowered in STOP_WORDS or lowered in _BOUNDS or fold(lowered) in _MONTH_NAMES or \
                any(gives.search(f"{number} {name}") or asks.search(name)
                    for asks, gives, *_ in QUANTITIES.values()):
            continue
        labels.append((name, number))
    return labels


def _labelled(label: str, text: str) -> bool | None:
    """Whether `text` numbers the label's name with its number (ranges and lists read:
    "jourområde 1 - 4 samt … 5"); None when it never numbers the name at all."""
    name, number = label.rsplit(" ", 1)
    stem = fold(name)[:max(4, len(name) - 2)]
    given: set[int] = set()
    for match in re.finditer(rf"\b{re.escape(stem)}\w*\s+{_LABEL_NUMBERS}", fold(text)):
        for start, end in re.findall(r"(\d+)\s*[-–]\s*(\d+)", match.group(1)):
            given.update(range(int(start), int(end) + 1))
        given.update(int(n) for n in re.findall(r"\d+", match.group(1)))
    return int(number) in given if given else None


def _following(chunk: Chunk, sentence: str) -> str:
    sentences = chunk.sentences()
    position = sentences.index(sentence) if sentence in sentences else len(sentences)
    return sentences[position + 1] if position + 1 < len(sentences) else ""


def _position(question: str, kind: str) -> int:
    match = QUANTITIES[kind][0].search(question)
    return match.start() if match else len(question)


def source_constraints(question: str, known: list[Statute],
                       title: Callable[[str], str]) -> list[Constraint]:
    """The statutes `known` that a question asks as its source ("enligt HSL", "vad säger
    patientsäkerhetslagen om …"); a statute it only cites in passing ("det register som förs
    enligt 2 kap. 4 § patientsäkerhetslagen (2010:659)") is not one. `title`: a document's
    title."""
    return [Constraint("source", statute.document, f"detta enligt {title(statute.document)}",
                       f"this under {title(statute.document)}")
            for statute in asked_as_source(mentions(question, known), known)]


def states(constraint: Constraint, sentence: str, chunk: Chunk) -> bool:
    """True when the sentence itself (or, for a region or a source, its document) names the
    asked value: positive evidence, not merely nothing against it."""
    if constraint.kind == "source":
        return chunk.document == constraint.value
    folded = fold(f"{chunk.section_label} {sentence}")
    if constraint.kind in ("profession", "share_of"):
        return constraint.value in professions_named(folded)
    if constraint.kind == "organisation":
        return constraint.value in organisations_named(folded)
    if constraint.kind == "region":
        return _of_region(constraint, chunk)
    if constraint.kind == "year":
        return constraint.value in years_stated(sentence)
    if constraint.kind == "month":
        return constraint.value in _months_named(folded)
    return constraint.kind in ("rate", "paragraph", "count") and \
        satisfied(constraint, sentence, chunk)


def is_paragraph_asked(constraint: Constraint, chunk: Chunk) -> bool:
    """Whether the passage is the paragraph asked for by number (not one that cites it)."""
    return constraint.kind == "paragraph" and constraint.value in _paragraphs_in(chunk.section)


def _paragraphs_in(text: str) -> list[str]:
    return [f"{chapter} kap. {paragraph.replace(' ', '')} §"
            for chapter, paragraph in PARAGRAPH.findall(text)]


def _months_named(folded: str) -> list[str]:
    return [month for month, names in MONTHS.items()
            if any(re.search(rf"\b{name}\b", folded) for name in names)]


def _of_region(constraint: Constraint, chunk: Chunk) -> bool:
    return any(key in fold(f"{chunk.region} {chunk.title}") for key in REGIONS[constraint.value])


def years_stated(text: str) -> set[str]:
    """The years a text names, a range with the years inside it ("2019–2022" states 2020)."""
    stated = set(YEAR.findall(text))
    for first, last in YEAR_RANGE.findall(text):
        stated.update(str(year) for year in range(int(first), int(last) + 1))
    return stated


def satisfied(constraint: Constraint, sentence: str, chunk: Chunk) -> bool:
    """True when the sentence (quantities) or its passage and document (the rest) meet it."""
    if constraint.kind == "quantity":
        return bool(QUANTITIES[constraint.value][1].search(sentence))
    if constraint.kind == "source":
        return chunk.document == constraint.value
    if constraint.kind == "count":  # (not the heading: "1.2.3 Barnhälsovård" counts nothing)
        return _counts(constraint.value, f"{sentence} {_following(chunk, sentence)}")
    if constraint.kind == "label":  # the passage numbers the name, and not with this number
        return _labelled(constraint.value, f"{chunk.section_label} {chunk.text}") is not False
    if constraint.kind == "rate":
        return bool(RATE_GIVEN.search(f"{chunk.section_label} {sentence}"))
    if constraint.kind == "paragraph":  # the paragraph itself ("17 kap. 6 §"), or one citing it
        return constraint.value in _paragraphs_in(f"{chunk.section} {sentence} {chunk.text}")
    if constraint.kind == "profession":
        # A rule for everyone ("den som har legitimation", "vårdcentralen ska") holds for the
        # profession asked about (a licensed one, for the first); one that names other
        # professions is their rule.
        folded = fold(f"{chunk.section_label} {sentence}")
        named = professions_named(folded)
        if not named and constraint.value in UNLICENSED:
            return not _LICENSED_HOLDERS.search(folded)
        return not named or constraint.value in named
    if constraint.kind == "share_of":
        named = professions_named(fold(f"{chunk.section_label} {sentence}"))
        if named:
            return constraint.value in named
        return constraint.value in professions_named(fold(chunk.text))
    context = fold(f"{chunk.title} {chunk.region} {chunk.section_label} {chunk.text}")
    if constraint.kind == "organisation":
        # The passage must be about the body asked about, and the sentence not another's rule
        # ("IVO får avstå …" does not answer what the patient board may do). The heading is
        # not read for another body: it may name the body of an older wording (HSAN). Nor is
        # a list item: the body it names is the object of its lead-in's rule ("informera om
        # • patientnämndernas uppgift"), not the one the rule binds.
        named = [] if sentence.startswith(ITEM_PREFIX) else organisations_named(fold(sentence))
        return constraint.value in organisations_named(context) and \
            (not named or constraint.value in named)
    if constraint.kind == "region":
        return _of_region(constraint, chunk)
    # A sentence that dates its own figure ("april 2025") answers for that date only; one
    # that names no year or month takes its passage's and document's.
    if constraint.kind == "year":
        stated = years_stated(sentence)
        if stated:
            return constraint.value in stated
        return constraint.value in years_stated(context) or \
            chunk.edition == constraint.value or _in_force_during(chunk, int(constraint.value))
    if constraint.kind == "month":
        named = _months_named(fold(sentence))
        if named:
            return constraint.value in named
        return any(re.search(rf"\b{name[:3]}", context) for name in MONTHS[constraint.value])
    return re.search(rf"(?<![\d]){re.escape(constraint.value)}(?![\d])",
                     f"{chunk.section_label} {chunk.text} {chunk.title}") is not None


def _in_force_during(chunk: Chunk, year: int) -> bool:
    """An edition with validity dates answers for the years it was in force."""
    if chunk.valid_from is None and chunk.valid_to is None:
        return False
    starts = chunk.valid_from.year if chunk.valid_from else year
    ends = chunk.valid_to.year if chunk.valid_to else year
    return starts <= year and (year < ends or (year == ends and chunk.valid_to is None))


# Swedish statutes are named by their last compound part ("socialtjänstlagen",
# "patientsäkerhetsförordningen", "brottsbalken"); the kinds are closed.
STATUTE_TYPES = frozenset({"lag", "förordning", "föreskrift", "föreskrifter", "författning"})
_STATUTE_HEADS = {"lag": "lag", "lagen": "lag", "förordning": "förordning",
                  "förordningen": "förordning", "balk": "balk", "balken": "balk"}
MIN_STATUTE_SUBJECT = 5  # "förs|lagen" is "förslagen", no statute


# A statute asked as the source ("enligt socialtjänstlagen", "vad säger …lagen"), not one a
# quoted rule mentions ("verksamhet som omfattas av tandvårdslagen").
_STATUTE_AS_SOURCE = re.compile(r"\b(?:enligt|i|vad säger|according to)\s+([^\W\d_]+)",
                                re.IGNORECASE)


def statutes_named(question: str) -> list[str]:
    """The statutes a question asks as its source, in their indefinite form
    ("enligt socialtjänstlagen" -> "socialtjänstlag")."""
    named: list[str] = []
    for word in (found.lower() for found in _STATUTE_AS_SOURCE.findall(question)):
        *subject, head = split_compound(word)
        if head in _STATUTE_HEADS and subject and len(subject[0]) >= MIN_STATUTE_SUBJECT:
            named.append(word[:len(word) - len(head)] + _STATUTE_HEADS[head])
    return named


# "the Social Services Act", "the Patient Data Act": capitalised words before the kind.
_ENGLISH_STATUTE_NAME = re.compile(
    r"\b((?:[A-Z][\w-]*\s+(?:(?:and|of|on|for|in)\s+)?)+(?:Act|Ordinance))\b")
# Words that open a name-like run without being part of the name ("Which Act applies?").
_NOT_A_NAME = frozenset({"the", "a", "an", "this", "that", "which", "what", "any", "each",
                         "every", "such", "under", "does", "is"})


def english_statutes_named(question: str) -> list[str]:
    """The statutes an English question names by title ("the Social Services Act")."""
    named: list[str] = []
    for name in _ENGLISH_STATUTE_NAME.findall(question):
        words = name.split()
        while words and words[0].lower() in _NOT_A_NAME:
            words = words[1:]
        if len(words) >= 2:
            named.append("the " + " ".join(words))
    return named


def statute_titles(heads: list[Chunk], language: str = "sv") -> list[str]:
    """The statutes among the documents, by title ("Patientsäkerhetslag (2010:659)"; in
    English with its English title beside it)."""
    return sorted({f"{head.title} ({head.title_en})" if language == "en" and head.title_en
                   else head.title for head in heads if head.doc_type in STATUTE_TYPES})


def unknown_statute(question: str, heads: list[Chunk], known: list[Statute]) -> str | None:
    """A statute the question names that no document is (a question "enligt
    socialtjänstlagen", or "under the Social Services Act", when only HSL, PSL and PSF are in
    the documents). English titles are checked only when every statute has one; `known`
    (the snapshot's statutes) names each by its English title too."""
    statutes = [head for head in heads if head.doc_type in STATUTE_TYPES]
    titles = [fold(head.title) for head in statutes]
    swedish = next((name for name in statutes_named(question)
                    if not any(fold(name) in title for title in titles)), None)
    if swedish is not None or not statutes or not all(head.title_en for head in statutes):
        return swedish
    return next((name for name in english_statutes_named(question)
                 if not any(statute.name.search(fold(name)) for statute in known)), None)


# A name typed with a capital inside a Swedish question ("legitimation i Norge", "vårdcentralen
# i Arvika"); the word after a full stop or a colon begins a sentence, and one in capitals is
# an abbreviation.
TYPED_NAME = re.compile(r"(?<=\s)(?<![.!?:]\s)([A-ZÅÄÖ][a-zåäöéü]{2,})\b")


def unknown_name(question: str, known_terms: Container[str]) -> str | None:
    """A name the question types that the documents never use in any form (stem or compound
    part): they do not speak of that place or body, so a rule found for the rest of the
    question is a neighbouring one. The name is looked up as typed, before the evidence
    step's typo correction could read it as a word ("Arvika" as "avvik")."""
    for match in TYPED_NAME.finditer(question):
        terms = analyze(match.group(1))
        if terms and not any(term in known_terms for term in terms):
            return match.group(1)
    return None


def corpus_regions(chunks: list[Chunk]) -> list[str]:
    return sorted({chunk.region for chunk in chunks if chunk.region})


def region_in_corpus(constraint: Constraint, regions: list[str]) -> bool:
    keys = REGIONS[constraint.value]
    return any(key in fold(region) for region in regions for key in keys)
