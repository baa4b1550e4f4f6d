"""Compare mode: one question answered per region, each from that region's documents alone.

Every cell goes through the same `ask` (retrieve -> evidence -> answer or refusal) as a
normal question, with a region filter, so a cell is the region's own cited verbatim answer
or "not stated" with the region's nearest passage. Regions come from the corpus's own
metadata; nothing here knows which regions exist.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rag.answer.constraints import STATUTE_TYPES
from rag.models import NOT_STATED, Answer, Chunk, Citation, CompareRow, Comparison, Filters
from rag.text.answer_types import QUANTITY_QUESTION
from rag.text.language import detect_language
from rag.text.lexical import ABBREVIATIONS, STOP_WORDS, specificity, words
from rag.text.sentences import ITEM_PREFIX, split_sentences

log = logging.getLogger(__name__)

AskFn = Callable[[str, Filters], Answer]
NATIONAL = "Nationell"
MIN_NAME_PREFIX = 5
WEAK_NAME_SPECIFICITY = 0.65

# "i alla regioner", "i regionerna", "mellan regionerna", "varje region", "across regions"
# ("in Region Halland" names one region: the English form is plural or "each region").
ALL_REGIONS = re.compile(
    r"\b(?:(?:i|inom|mellan|hos|för|bland)\s+(?:(?:alla|samtliga|de\s+olika|olika|våra|"
    r"respektive)\s+)?regioner(?:na|nas)?|(?:jämför|jamfor|compare)\s+(?:alla\s+|de\s+olika\s+"
    r"|the\s+)?regio(?:ner|nerna|nernas|ns)|(?:alla|samtliga|olika|varje|respektive)\s+"
    r"region(?:er|erna)?|regionerna\s+emellan|(?:in|across|between|for|among)\s+(?:all\s+|"
    r"the\s+|different\s+)*regions|(?:each|every|all)\s+regions?)\b",
    re.IGNORECASE)
COMPARE_WORDS = re.compile(
    r"\b(?:jämför\w*|jamfor\w*|skiljer|skilja|skillnad\w*|compare\w*|comparison|differ\w*|"
    r"versus|vs)\b(?:\s+sig)?(?:\s+åt)?(?:\s+(?:med|mot|to|with))?", re.IGNORECASE)
# The national row: "jämfört med lagen", "enligt lagstiftningen", "the law".
NATIONAL_CUE = re.compile(
    r"\b(?:(?:jämfört\s+med|jamfort\s+med|mot|och|enligt|med|compared\s+(?:to|with)|and|"
    r"versus|vs\.?)\s+)?(?:lagen|lagstiftningen|lagkraven|författningarna|nationellt|"
    r"(?:the\s+)?law|(?:the\s+)?statutes?|legislation)\b", re.IGNORECASE)
# Units that make a number a requirement ("3 timmar", "50 000 kr", "10 boende"); a number
# word needs a unit of time, money or share ("inom tre dagar"), or a qualifier ("minst en").
WORD_UNIT = (r"(?:%|procent\w*|timm\w*|minut\w*|dag(?:ar|en)?\b|veck\w*|månad\w*|år\b|"
             r"kr\b|kronor|tkr|miljon\w*|miljard\w*|högskolepoäng|gång(?:er)?\b)")
DIGIT_UNIT = (rf"(?:{WORD_UNIT}|tim\b|års\b|hp\b|boende|patienter\b|personer|invånare|"
              r"läkare|barn\b|ungdomar|inskrivna|listade)")
NUMBER_WORDS = ("en|ett|två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|femton|tjugo|"
                "trettio|hundra")
QUALIFIER = r"(?:(?:minst|högst|maximalt|max|lägst|upptill|upp\s+till|inom|senast|" \
            r"cirka|ca|mer\s+än|mindre\s+än|mellan)\s+)"
CLOCK = r"(?:kl\.?\s*)?\d{1,2}[:.]\d{2}\s*[-–]\s*\d{1,2}[:.]\d{2}"
REQUIREMENT = re.compile(
    rf"{QUALIFIER}*(?:{CLOCK}|\d[\d\u00a0\u202f ]*(?:[.,]\d+)?(?:\s*(?:[-–]|och|till)\s*\d[\d ]*)?"
    rf"\s*{DIGIT_UNIT}|"
    rf"(?<!\w)(?:{NUMBER_WORDS})\s+{WORD_UNIT}|{QUALIFIER}+(?:{NUMBER_WORDS})\s+\w+)",
    re.IGNORECASE)
# A question about rules is answered by a rule: a sentence that requires, offers or allows.
RULE_QUESTION = re.compile(r"\b(?:krav\w*|måste|gäller|regler\w*|require\w*|must|rules?|"
                           r"applies)\b", re.IGNORECASE)
NORMATIVE = re.compile(r"\b(?:ska|skall|måste|bör|får|krävs|kräver|krav\w*|erbjud\w*|"
                       r"ansvar\w*|garanti\w*|rätt\b|shall|must)\b", re.IGNORECASE)
# A question about a measure ("läkartiden", "andelen", "vitet") is answered by a number.
MEASURE = re.compile(
    r"\b(?:\w*tid(?:en)?|\w*timm\w*|antal\w*|andel\w*|vite[tn]?|\w*belopp\w*|\w*gräns\w*|"
    r"procent\w*|ålder\w*|åldrar\w*|amount|share|hours?|time|fine|ages?)\b", re.IGNORECASE)
LEADING_QUESTION_WORDS = re.compile(r"^\s*(?:hur|vad|vilka|vilken|vilket|how|what|which)\b"
                                    r"(?:\s+(?:sig|åt|does|do|is|are))*\s*", re.IGNORECASE)
LEADING_CONNECTIVES = re.compile(r"^(?:\s*(?:och|and|,|i|in)\b)+\s*", re.IGNORECASE)
DANGLING = re.compile(r"(?:\s+(?:i|in|för|hos|mellan|och|and|på|med|,|-|–))+\s*([?.!]|$)",
                      re.IGNORECASE)
REQUIREMENT_WORDS = 9
SHORT_RULE_CHARS = 90
_TRAILING = frozenset({"och", "att", "som", "i", "på", "samt", "eller", "för", "av", "till",
                       "med", "om", "den", "det", "de", "en", "ett"})


@dataclass(frozen=True)
class Region:
    name: str
    national: bool
    terms: frozenset[str]  # folded, distinctive words of the name ("varmland", "jamtland")
    # Common words of a longer name ("västra"): they name the region only beside another term.
    weak: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CompareRequest:
    regions: list[str]
    asked: str
    notice: str | None = None
    # Every region, none named and no comparison word ("ska respektive region senast …"):
    # one rule may answer it for all of them.
    each_region: bool = False


NO_STATUTES = "Inga nationella författningar (region \"Nationell\") är inlästa, så lagen " \
    "saknas i jämförelsen."


def fold(text: str) -> str:
    """Lower case without diacritics: "Jämtland" and "jamtland" are the same name."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def corpus_regions(chunks: Iterable[Chunk]) -> list[Region]:
    """The regions the indexed documents carry, national (statutes) last.

    A name's words shared by most region names ("Region") name none of them.
    """
    types: dict[str, set[str]] = {}
    for chunk in chunks:
        if chunk.region:
            types.setdefault(chunk.region, set()).add(fold(chunk.doc_type))
    names = sorted(types)
    name_words = {name: {fold(word) for word in words(name)} for name in names}
    shared = Counter(word for found in name_words.values() for word in found)
    generic = {word for word, count in shared.items() if len(names) > 1 and
               count > len(names) / 2}
    regions = []
    for name in names:
        national = fold(name) == fold(NATIONAL) or (
            bool(types[name]) and types[name] <= {fold(kind) for kind in STATUTE_TYPES})
        terms = frozenset(word for word in name_words[name] - generic
                          if len(word) >= 3 and word not in {fold(w) for w in STOP_WORDS})
        spelled = {fold(word): word for word in words(name)}
        weak = frozenset(word for word in terms if len(terms) > 1 and
                         specificity(spelled.get(word, word)) < WEAK_NAME_SPECIFICITY)
        regions.append(Region(name, national, terms, weak))
    return sorted(regions, key=lambda region: (region.national, region.name))


def _names(word: str, term: str) -> bool:
    if word == term:
        return True
    # "hallands" / "halland", "götaland" / "götalandsregionen", "värmlands" / "värmland"
    shorter, longer = sorted((word, term), key=len)
    return len(shorter) >= MIN_NAME_PREFIX and longer.startswith(shorter)


def named_regions(question: str, regions: Sequence[Region]) -> tuple[list[str], list[str]]:
    """Regions the question names, in the order it names them, and the words that named
    them. Abbreviations count when their spelled-out form names the region ("VGR")."""
    first_mention: dict[str, int] = {}
    naming_words: list[str] = []
    for region in regions:
        if region.national:
            continue
        hits: list[tuple[int, str, str]] = []  # (position, word, the term it matched)
        for position, raw in enumerate(words(question)):
            spelled = [fold(w) for form in ABBREVIATIONS.get(raw, ()) for w in words(form)]
            for term in region.terms:
                if any(_names(candidate, term) for candidate in [fold(raw), *spelled]):
                    hits.append((position, raw, term))
        if not any(term not in region.weak for _, _, term in hits):
            continue
        first_mention[region.name] = min(position for position, _, _ in hits)
        naming_words.extend(raw for _, raw, _ in hits)
    ordered = sorted(first_mention, key=first_mention.__getitem__)
    return ordered, naming_words


def comparison_request(question: str, regions: Sequence[Region]) -> CompareRequest | None:
    """The regions to compare when the question asks for a comparison, else None.

    "i alla regioner" / "i regionerna": every region (the statutes too). Two or more named
    regions: those. One named region "jämfört med lagen": it and the national row.
    """
    named, naming_words = named_regions(question, regions)
    national = [region.name for region in regions if region.national]
    wants_law = bool(NATIONAL_CUE.search(question)) and bool(
        COMPARE_WORDS.search(question) or re.search(r"\bjämfört\s+med|\bjamfort\s+med|"
                                                     r"\bcompared\s+(to|with)", question,
                                                     re.IGNORECASE) or len(named) >= 2)
    if ALL_REGIONS.search(question):
        chosen = [region.name for region in regions]
    elif len(named) >= 2 or (named and wants_law):
        chosen = named + (national if wants_law else [])
    else:
        return None
    asked = asked_question(question, naming_words)
    if not asked:
        return None  # names and comparison words only: nothing to compare
    notice = NO_STATUTES if wants_law and not national else None
    each_region = not named and not COMPARE_WORDS.search(question)
    return CompareRequest(chosen, asked, notice, each_region)


def asked_question(question: str, naming_words: Sequence[str]) -> str:
    """The question without its region names and comparison words: what each region is
    asked (its own name would count against every other region's passages)."""
    compared = bool(COMPARE_WORDS.search(question))
    text = ALL_REGIONS.sub(" ", question)
    text = NATIONAL_CUE.sub(" ", text)
    text = COMPARE_WORDS.sub(" ", text)
    for word in sorted(set(naming_words), key=len, reverse=True):
        text = re.sub(rf"(?<!\w)(?:region\s+)?{re.escape(word)}(?!\w)", " ", text,
                      flags=re.IGNORECASE)
    # What the names leave behind: "mellan  och", "i ?", a leading "och".
    text = re.sub(r"\b(?:mellan|between)\s+(?:och|and)\b", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"(?:\s*,)*\s+(?:och|and)(?:\s+(?:och|and))*\s+(?=(?:och|and)\b)", " ", text,
                  flags=re.IGNORECASE)
    text = DANGLING.sub(r"\1", text)
    cleaned = re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s+", " ", text)).strip(" ,")
    rest = LEADING_CONNECTIVES.sub("", LEADING_QUESTION_WORDS.sub("", cleaned))
    if not any(char.isalnum() for char in rest):
        return ""  # nothing but names and comparison words
    if compared:
        # "Hur skiljer sig läkartiden …" asks what each region requires: said as a question.
        english = detect_language(question) == "en"
        if expects_number(rest):
            lead = "How much" if english else "Hur mycket"
        else:
            lead = "What applies to" if english else "Vad gäller för"
        cleaned = f"{lead} {rest}"
    return cleaned


def expects_number(question: str) -> bool:
    """The question asks for an amount, a time, a share or an age."""
    return bool(QUANTITY_QUESTION.search(question) or MEASURE.search(question))


def resolve_regions(requested: Sequence[str], regions: Sequence[Region]) -> list[str]:
    """Region names as the corpus spells them, for names a person typed ("jamtland").

    Raises ValueError naming the known regions when one matches none or several."""
    resolved: list[str] = []
    for wanted in requested:
        wanted = wanted.strip()
        if not wanted:
            continue
        exact = [region.name for region in regions if fold(region.name) == fold(wanted)]
        matching = exact or [
            region.name for region in regions
            if any(_names(fold(word), term) for word in words(wanted) for term in region.terms)
            or (region.national and fold(wanted) in {fold(NATIONAL), "lagen", "law"})]
        if len(matching) != 1:
            known = ", ".join(region.name for region in regions) or "inga"
            problem = "ingen" if not matching else "flera"
            raise ValueError(f"region '{wanted}' matchar {problem} av regionerna i "
                             f"dokumenten ({known})")
        if matching[0] not in resolved:
            resolved.append(matching[0])
    return resolved


def compare(ask: AskFn, question: str, asked: str, regions: Sequence[str],
            coverage: CoverageFn | None = None, notice: str | None = None,
            base: Filters | None = None) -> Comparison:
    """Ask `asked` once per region, filtered to that region's documents; `coverage` scores
    how much of `asked` a text covers (the answer step's evidence measure). `base` carries
    any other filter (its region is replaced by each row's)."""
    started = time.perf_counter()
    needs = Needs.of(question, coverage)
    base = base or Filters()
    rows = [_row(region, ask(asked, base.model_copy(update={"region": region})), needs)
            for region in regions]
    return Comparison(question=question, asked=asked, regions=list(regions), rows=rows,
                      notice=notice,
                      timings_ms={"total": round((time.perf_counter() - started) * 1000, 2)})


# The kind of number a question asks for, and what a quote must say to give one of that kind.
UNIT_KINDS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(r"\b(?:\w*tid(?:en)?|\w*timm\w*|timme|minut\w*|hours?|time)\b", re.I),
     re.compile(r"timm|tim\b|minut|\bkl\b|\d[:.]\d\d", re.I)),
    (re.compile(r"\b(?:dag(?:ar|en)?|days?)\b", re.I), re.compile(r"\bdag", re.I)),
    (re.compile(r"\b(?:andel\w*|procent\w*|share|percent\w*|proportion)\b", re.I),
     re.compile(r"%|procent", re.I)),
    (re.compile(r"\b(?:vite\w*|kronor|kr|belopp\w*|kost\w*|avgift\w*|fines?|fees?|cost\w*)\b",
                re.I), re.compile(r"\bkr\b|kronor|tkr|:-", re.I)),
    (re.compile(r"\b(?:ålder|åldrar|alder|aldrar|ages?)\b", re.I),
     re.compile(r"\bårs?\b", re.I)),
    (re.compile(r"\b(?:högskolepoäng|hogskolepoang|credits)\b", re.I),
     re.compile(r"högskolepoäng|\bhp\b", re.I)),
)
# Share of the question's weighted words a cell's own quote and heading must cover.
CELL_MIN_COVERAGE = 0.5
CoverageFn = Callable[[str], float]


@dataclass(frozen=True)
class Needs:
    """What a cell's quote must contain to answer the question at all: a number of the kind
    asked for, a rule if rules were asked for, and enough of the question's words in the
    quote and its heading themselves (the answer step also counts the passage around it).
    Stricter than a single answer, because a table invites reading every cell as an
    answer to the same question."""

    number: bool
    rule: bool
    kinds: tuple[re.Pattern[str], ...]
    coverage: CoverageFn | None = None

    @classmethod
    def of(cls, question: str, coverage: CoverageFn | None = None) -> Needs:
        return cls(number=expects_number(question), rule=bool(RULE_QUESTION.search(question)),
                   kinds=tuple(answers for asks, answers in UNIT_KINDS if asks.search(question)),
                   coverage=coverage)

    def met_by(self, citation: Citation) -> bool:
        quote = citation.quote
        amounts = [match.group(0) for match in REQUIREMENT.finditer(quote)]
        if self.number and not any(all(kind.search(amount) for kind in self.kinds)
                                   for amount in amounts):
            return False
        if self.rule and not NORMATIVE.search(quote):
            return False
        return self.coverage is None or self.coverage(
            f"{citation.section} {citation.heading}\n{quote}") >= CELL_MIN_COVERAGE


def _row(region: str, answer: Answer, needs: Needs) -> CompareRow:
    foreign = [c for c in [*answer.citations, *answer.nearest] if c.region != region]
    if foreign:
        # The filter makes this impossible; if it ever happens the cell must not show it.
        log.error("compare: %s answered from another region's document %s", region,
                  foreign[0].document)
        return CompareRow(region=region, stated=False, answer=NOT_STATED,
                          notice="Svaret kom från en annan regions dokument och visas inte.")
    if answer.refused or not answer.citations:
        return CompareRow(region=region, stated=False, answer=NOT_STATED,
                          nearest=answer.nearest[:1], notice=answer.notice)
    primary = next((c for c in answer.citations if needs.met_by(c)), None)
    if primary is None:
        # An amount asked for and none named, or a rule asked for and only a description
        # given: the region does not state it (its passage is shown as the nearest).
        return CompareRow(region=region, stated=False, answer=NOT_STATED,
                          nearest=answer.citations[:1], notice=answer.notice)
    # The cell's own citation first; the answer's other sources stay, renumbered after it.
    ordered = [primary, *(c for c in answer.citations if c is not primary)]
    numbers = {c.n: position for position, c in enumerate(ordered, start=1)}
    text = re.sub(r"\[(\d+)\]", lambda m: f"[{numbers.get(int(m.group(1)), m.group(1))}]",
                  answer.answer)
    citations = [c.model_copy(update={"n": numbers[c.n]}) for c in ordered]
    return CompareRow(region=region, stated=True,
                      requirement=requirement_phrase(primary.quote, needs.kinds),
                      answer=text, quote=primary.quote, citations=citations,
                      notice=answer.notice)


def requirement_phrase(quote: str, kinds: Sequence[re.Pattern[str]] = ()) -> str:
    """The rule in a few words, cut verbatim from the quote: the first number with a unit
    (of the kind asked for) and what follows it ("3 timmar per vecka för 100 inskrivna
    gravida kvinnor"), else the sentence itself when it is a short rule; "" when neither."""
    for sentence in split_sentences(quote):
        for match in REQUIREMENT.finditer(sentence):
            if all(kind.search(match.group(0)) for kind in kinds):
                return _words_from(sentence, match.start())
    first = quote.strip()
    if len(first) <= SHORT_RULE_CHARS and "\n" not in first and first[:1].isupper():
        return first.removeprefix(ITEM_PREFIX).strip()
    return ""


def _words_from(sentence: str, start: int) -> str:
    """Up to REQUIREMENT_WORDS words from `start`, stopping at a clause break."""
    rest = sentence[start:]
    # A clause ends at punctuation followed by space; "0,1" and "08:00" are numbers.
    clause = re.split(r"[,;:.](?:\s|$)|[()]|(?<!\d) [–-] (?!\d)", rest, maxsplit=1)[0]
    tokens = clause.split()
    kept = tokens[:REQUIREMENT_WORDS]
    while len(kept) > 2 and kept[-1].lower() in _TRAILING:
        kept.pop()
    return " ".join(kept).rstrip(".")


def comparison_answer(comparison: Comparison, language: str) -> Answer:
    """The comparison as an ordinary Answer (for /api/ask and `styrdok ask`): one line per
    region with its citations renumbered in table order; the table itself in `comparison`."""
    lines: list[str] = []
    citations: list[Citation] = []
    nearest: list[Citation] = []
    for row in comparison.rows:
        if not row.stated:
            lines.append(f"{row.region}: {NOT_STATED}.")
            nearest.extend(c.model_copy(update={"n": len(nearest) + 1}) for c in row.nearest)
            continue
        offset = len(citations)
        citations.extend(c.model_copy(update={"n": c.n + offset}) for c in row.citations)
        text = _renumbered(row.answer, offset)
        lines.append(f"{row.region}: {text}")
    refused = not citations
    return Answer(question=comparison.question, answer="\n".join(lines), refused=refused,
                  language="en" if language == "en" else "sv", citations=citations,
                  nearest=nearest if refused else [], notice=comparison.notice,
                  timings_ms=dict(comparison.timings_ms), comparison=comparison)


def _renumbered(text: str, offset: int) -> str:
    return re.sub(r"\[(\d+)\]", lambda match: f"[{int(match.group(1)) + offset}]", text)
