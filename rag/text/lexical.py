"""Swedish text analysis for BM25: stemming, stop words, compound parts and abbreviations.

Snowball leaves a compound such as "cellprovstagning" whole, so a query for "provtagning"
would not match it. We split compounds against a Swedish word-frequency lexicon (wordfreq),
allowing the linking letters Swedish uses ("prov-s-tagning"), and index the parts and the
compound's tails ("tagning", "provtagning") beside the whole word. Queries go through the
same analyzer, so both sides meet on the parts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import Stemmer
from wordfreq import zipf_frequency

TOKEN = re.compile(r"[0-9]+(?:[.,:][0-9]+)*|[^\W\d_]+", re.UNICODE)
MIN_COMPOUND = 8
# Longer "words" are blobs (base64, ids); real compounds in the corpus stop near 40 letters.
MAX_COMPOUND = 48
MIN_PART = 4
MIN_ZIPF = 2.3
LINKING = ("s", "e", "a", "u", "o", "")
# Bounds on one question's analysis, so its cost grows linearly with a small constant: at
# most this many distinct content words are weighed, and only words up to this long are
# typo-corrected (a typo candidate set is ~60 x the word's length).
MAX_QUERY_WORDS = 32
MAX_TYPO_CHARS = 32

# Snowball's Swedish stop list, plus question words that carry no content.
STOP_WORDS = frozenset("""
och det att i en jag hon som han på den med var sig för så till är men ett om hade de av
icke mig du henne då sin nu har inte hans honom skulle hennes där min man ej vid kunde något
från ut när efter upp vi dem vara vad över än dig kan sina här ha mot alla under någon eller
allt mycket sedan ju denna själv detta åt utan varit hur ingen mitt ni bli blev oss din dessa
några deras blir mina samma vilken er sådan vår blivit dess inom mellan sådant varför varje
vilka ditt vem vilket sitta sådana vart dina vars vårt våra ert era vilkas ska skall finns
gäller få får enligt många stor stort stora fick står bakom tillsammans länge ofta resp
respektive gälla finnas behöver måste krävs kräver vilket ingår omfattas typ ca osv ungefär
what is the of a an and or to in for on how many much does do are be by with which who when
that this these those if its it can could must may might should would will shall has have had
was were been up out into from at as about than then there their they them we our you your
any all each per list name give tell me please according under over between whose whom why
where also only just more most other such same so not no yes
""".split())

# Staff abbreviations and their spelled-out forms; a query with either side gets both.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "bmm": ("barnmorskemottagning", "mödrahälsovård"),
    "bvc": ("barnhälsovård", "barnavårdscentral"),
    "bhv": ("barnhälsovård",),
    "mhv": ("mödrahälsovård",),
    "umm": ("ungdomsmottagning",),
    "säbo": ("särskilt boende", "särskilda boenden"),
    "sip": ("samordnad individuell plan",),
    "mbt": ("medicinskt bedömningsteam",),
    "ivo": ("inspektionen för vård och omsorg",),
    "skl": ("sveriges kommuner och landsting",),
    "skr": ("sveriges kommuner och regioner",),
    "vgr": ("västra götalandsregionen",),
    "vc": ("vårdcentral",),
    "st": ("specialiseringstjänstgöring",),
    "at": ("allmäntjänstgöring",),
    "mla": ("medicinskt ledningsansvarig",),
    "rehab": ("rehabilitering",),
    "pat": ("patient", "patienter"),
    "prim": ("primärvård",),
    "jo": ("jourområde",),
    "dnr": ("diarienummer",),
}

_stemmer = Stemmer.Stemmer("swedish")


def words(text: str) -> list[str]:
    return [match.group(0).lower() for match in TOKEN.finditer(text)]


def analyze(text: str) -> list[str]:
    """Terms for indexing a passage: stems of content words plus compound parts."""
    terms: list[str] = []
    for word in words(text):
        terms.extend(_word_terms(word))
    return terms


def analyze_query(text: str, language: str = "sv",
                  abbreviations: Mapping[str, tuple[str, ...]] = ABBREVIATIONS) -> list[str]:
    """Terms for a query: like `analyze`, plus abbreviation expansions in both directions
    (and Swedish equivalents of English words when the question is in English).
    `abbreviations`: the list here, or it with those the corpus defines (Snapshot)."""
    lowered = " ".join(words(text))
    expansions: list[str] = []
    if language == "en":
        for word in lowered.split():
            expansions.extend(swedish_forms(word))
    typed_as_abbreviation = capitalised(text)
    for abbreviation, spelled in abbreviations.items():
        if abbreviation in STOP_WORDS and abbreviation not in typed_as_abbreviation:
            continue  # "at" is a word ("kom at", "at the centre"); "AT" is allmäntjänstgöring
        if re.search(rf"\b{abbreviation}\b", lowered):
            expansions.extend(spelled)
        elif any(_mentions(lowered, form) for form in spelled):
            expansions.append(abbreviation)
    return analyze(" ".join([text, *expansions]))


def capitalised(text: str) -> set[str]:
    """The words typed in capitals ("AT", "BT"), lower-cased."""
    return {match.group(0).lower() for match in TOKEN.finditer(text)
            if len(match.group(0)) >= 2 and match.group(0).isupper()}


def content_terms(text: str) -> set[str]:
    """Stems of the content words only (no compound parts): used to measure coverage."""
    return {_stem(word) for word in words(text) if _is_content(word)}


def _mentions(lowered_text: str, form: str) -> bool:
    stem = _stem(form.split()[0])
    return any(word.startswith(stem) for word in lowered_text.split())


@lru_cache(maxsize=200_000)
def _word_terms(word: str) -> tuple[str, ...]:
    if not _is_content(word):
        return ()
    terms = [_stem(word)]
    parts = split_compound(word)
    if len(parts) > 1:
        terms.extend(_stem(part) for part in parts)
        # Every tail of the compound ("provtagning" in "cellprovtagning") is a word too.
        for start in range(1, len(parts) - 1):
            terms.append(_stem("".join(parts[start:])))
    return tuple(dict.fromkeys(terms))


def _is_content(word: str) -> bool:
    if word in STOP_WORDS:
        return False
    return word.isdigit() or len(word) > 1 or word in ABBREVIATIONS


# A short rare word that is a function word with two letters swapped ("dne" for "den") is
# that function word mistyped, not a topic the documents lack.
MISTYPED_FUNCTION_WORD_ZIPF = 2.5


@lru_cache(maxsize=20_000)
def is_mistyped_stop_word(word: str) -> bool:
    if not 3 <= len(word) <= 5 or not word.isalpha() or word in STOP_WORDS or \
            word in ABBREVIATIONS or zipf_frequency(word, "sv") >= MISTYPED_FUNCTION_WORD_ZIPF:
        return False
    swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    return bool(swapped & STOP_WORDS)


def _stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


@lru_cache(maxsize=200_000)
def split_compound(word: str) -> tuple[str, ...]:
    """Split a Swedish compound into lexicon words (without linking letters), or keep it whole.

    The split with the best geometric-mean word frequency wins, and only when it beats the
    frequency of the whole word (so common words like "vårdcentral" are split but "barnen"
    is not mistaken for "barn"+"en").
    """
    if not MIN_COMPOUND <= len(word) <= MAX_COMPOUND or not word.isalpha():
        return (word,)
    best = _best_split(word)
    return best if best else (word,)


@lru_cache(maxsize=200_000)
def _best_split(word: str) -> tuple[str, ...] | None:
    """Fewest parts first (over-splitting is the usual failure), then the most frequent parts."""
    whole = zipf_frequency(word, "sv")
    best: tuple[int, float, tuple[str, ...]] | None = None
    for cut in range(MIN_PART, len(word) - MIN_PART + 2):
        head, rest = word[:cut], word[cut:]
        if not _is_word(head):
            continue
        for link in LINKING:
            if link and not rest.startswith(link):
                continue
            tail = rest[len(link):]
            if len(tail) < MIN_PART and not (len(tail) == MIN_PART - 1 and _zipf(tail) >= 4.5):
                continue
            tail_parts = (tail,) if _is_word(tail) else _best_split(tail)
            if not tail_parts:
                continue
            parts = (head, *tail_parts)
            score = _geometric_zipf(parts)
            if score <= whole:
                continue
            candidate = (-len(parts), score, parts)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    return best[2] if best else None


def _is_word(part: str) -> bool:
    """A lexicon word, possibly in its compound form ("hälso-" for "hälsa") or inflected."""
    if len(part) < MIN_PART - 1 or part in STOP_WORDS:
        return False
    return _zipf(part) >= MIN_ZIPF


def _zipf(part: str) -> float:
    candidates = [part, _stem(part)]
    if part[-1] in "eou":
        candidates.append(part[:-1] + "a")
    return max(zipf_frequency(candidate, "sv") for candidate in candidates)


def _geometric_zipf(parts: tuple[str, ...]) -> float:
    product = 1.0
    for part in parts:
        product *= _zipf(part)
    return float(product ** (1.0 / len(parts)))


GLOSSARY_FILE = Path(__file__).with_name("en_sv_glossary.tsv")


def read_glossary(path: Path = GLOSSARY_FILE) -> dict[str, tuple[str, ...]]:
    """English word -> Swedish forms, one `english<TAB>form|form` per line ('#' comments).
    The file ships with the package: a missing one is a broken install, and fails here rather
    than quietly costing English questions their translations."""
    glossary: dict[str, tuple[str, ...]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, _, forms = line.partition("\t")
        glossary[english.strip().lower()] = tuple(
            form.strip() for form in forms.split("|") if form.strip())
    return glossary


# English question words mapped to the Swedish terms the documents use, so an English
# question can be matched (and its evidence measured) against Swedish text. The general
# healthcare glossary (`en_sv_glossary.tsv`) is read first; these hand entries, written
# for the first eval cases, win where both have a word.
EN_TO_SV: dict[str, tuple[str, ...]] = {**read_glossary(), **{
    "doctor": ("läkare", "läkar"), "doctors": ("läkare", "läkar"), "physician": ("läkare",),
    "hours": ("timmar",), "hour": ("timme", "timmar"), "week": ("vecka",), "weekly": ("vecka",),
    "midwife": ("barnmorskemottagning",), "maternity": ("mödrahälsovård", "barnmorskemottagning"),
    "antenatal": ("mödrahälsovård", "barnmorskemottagning"), "pregnant": ("gravida",),
    "child": ("barn",), "children": ("barn",), "youth": ("ungdomsmottagning", "ungdomar"),
    "young": ("ungdomar",), "clinic": ("mottagning",), "nursing": ("särskilt boende",),
    "home": ("hemmet", "boende"), "homes": ("boende",), "residents": ("boende",),
    "penalty": ("vite",), "penalties": ("vite",), "fine": ("vite",), "fines": ("vite",),
    "late": ("försening", "förseningsvite"), "delay": ("försening",),
    "cervical": ("cellprovtagning", "livmoderhalscancer"), "screening": ("cellprovtagning",),
    "age": ("ålder",), "ages": ("ålder",), "women": ("kvinnor",),
    "care": ("vård",), "guarantee": ("vårdgaranti",), "contact": ("kontakt",),
    "same": ("samma",), "day": ("dag",), "days": ("dagar",), "assessment": ("bedömning",),
    "medical": ("medicinsk",), "urgent": ("akut", "akuta"), "emergency": ("akut", "jour"),
    "visit": ("besök",), "visits": ("besök",), "roadmap": ("färdplan",),
    "ways": ("arbetssätt",), "working": ("arbetssätt",), "changed": ("förändrade",),
    "six": ("sex",), "individual": ("individuell",),
    "coordinated": ("samordnad",), "patient": ("patient",), "contract": ("patientkontrakt",),
    "parts": ("delar",), "continuity": ("kontinuitet",), "listed": ("listade",),
    "percent": ("procent",), "share": ("andel",), "january": ("januari",),
    "march": ("mars",), "february": ("februari",), "phone": ("telefon",),
    "telephone": ("telefontillgänglighet",), "chat": ("chatt",), "supervision": ("tillsyn",),
    "billion": ("miljard", "kömiljard"), "queue": ("kömiljard",), "funds": ("medel",),
    "primary": ("primärvård",), "duty": ("jour",), "weekends": ("lördagar", "söndagar"),
    "region": ("region",), "start": ("börja",), "valid": ("gälla",), "apply": ("gälla",),
    "follow": ("uppföljning",), "goals": ("mål",), "training": ("utbildning",),
    "deficiency": ("brist",), "deficiencies": ("brist",), "maximum": ("högst", "maximalt"),
    "submit": ("leverera", "lämna"), "submits": ("leverera", "lämna"),
    "reports": ("rapporter",), "report": ("rapport",), "delivery": ("leverera",),
    "saturdays": ("lördagar",), "sundays": ("söndagar",), "holidays": ("helgdagar",),
    "open": ("finnas", "öppet"), "centre": ("central",), "effect": ("gälla",),
    "reviewed": ("avstämning",), "review": ("avstämning",), "years": ("år",),
    "changes": ("förändrade",), "digitalisation": ("digitalisering",),
    "digital": ("digitalisering", "digitala"), "mobile": ("mobila",), "teams": ("team",),
    "trust": ("tillit",), "collaboration": ("samverkan", "samverkanskultur"),
    "culture": ("samverkanskultur",), "municipalities": ("kommuner",),
    "preventive": ("förebyggande",), "prevention": ("förebyggande",),
    "provider": ("vårdgivaren", "vårdgivare"), "providers": ("vårdgivare",),
    "impose": ("ta ut", "vite"), "specialists": ("specialister",),
    "depth": ("fördjupad",), "planned": ("planeras",), "plan": ("plan", "planeras"),
    "two": ("två",), "three": ("tre",), "four": ("fyra",), "five": ("fem",),
    "password": ("lösenord",), "passwords": ("lösenord",),
    "fee": ("avgift",), "fees": ("avgift",), "cost": ("kostnad",), "costs": ("kostnad",),
}}


def typo_alternatives(word: str) -> list[tuple[str, ...]]:
    corrected = correct_typo(word)
    terms = _word_terms(corrected) if corrected else ()
    return [terms] if terms else []


def query_words(text: str, language: str = "sv",
                abbreviations: Mapping[str, tuple[str, ...]] = ABBREVIATIONS,
                ) -> list[tuple[str, list[tuple[str, ...]]]]:
    """The query's content words, each as alternative term tuples (whole-word stem first,
    then compound parts). Abbreviations and English words bring their Swedish forms along
    as further alternatives. A repeated word counts once; past MAX_QUERY_WORDS words the
    rest are not weighed."""
    result: list[tuple[str, list[tuple[str, ...]]]] = []
    seen: set[str] = set()
    question_words = words(text)
    phrased = _words_of_spelled_phrases(question_words, abbreviations)
    typed_as_abbreviation = capitalised(text) & abbreviations.keys()
    for word in question_words:
        if word in seen or not (_is_content(word) or word in typed_as_abbreviation) or \
                is_mistyped_stop_word(word):
            continue
        if len(seen) >= MAX_QUERY_WORDS:
            break
        seen.add(word)
        alternatives = [_word_terms(word)]
        for form in abbreviations.get(word, ()):
            alternatives.extend(_phrase_terms(form))
        for abbreviation, spelled in abbreviations.items():
            if any(" " not in form and _stem(word) == _stem(form) for form in spelled):
                alternatives.append(_word_terms(abbreviation))
        for abbreviation in phrased.get(word, ()):
            alternatives.append(_word_terms(abbreviation))
        if language == "en":
            alternatives.extend(glossary_forms(word))
        kept = [alternative for alternative in alternatives if alternative]
        if kept:
            result.append((word, kept))
    return result


def _words_of_spelled_phrases(question_words: list[str],
                              abbreviations: Mapping[str, tuple[str, ...]],
                              ) -> dict[str, list[str]]:
    """Each question word that is part of an abbreviation's spelled-out phrase ("samordnad
    individuell plan"), with that abbreviation ("sip"): a passage that writes "SIP" covers
    the phrase's words."""
    stems = [_stem(word) for word in question_words]
    found: dict[str, list[str]] = {}
    for abbreviation, spelled in abbreviations.items():
        for form in spelled:
            phrase = [_stem(word) for word in form.split()]
            if len(phrase) < 2:
                continue
            for start in range(len(stems) - len(phrase) + 1):
                if stems[start:start + len(phrase)] == phrase:
                    for word in question_words[start:start + len(phrase)]:
                        found.setdefault(word, []).append(abbreviation)
    return found


def swedish_forms(english: str) -> tuple[str, ...]:
    """An English word's Swedish forms in the glossary, found through its plural or third-person
    "-s" when the glossary lists only the base form ("chats" -> "chat" -> "chatt")."""
    if english in EN_TO_SV:
        return EN_TO_SV[english]
    for ending, base in (("ies", "y"), ("es", ""), ("s", "")):
        if english.endswith(ending) and len(english) > len(ending) + 2 and \
                english[:-len(ending)] + base in EN_TO_SV:
            return EN_TO_SV[english[:-len(ending)] + base]
    return ()


def glossary_forms(word: str) -> list[tuple[str, ...]]:
    """The term tuples of an English word's Swedish forms in the glossary: for an English
    question, and for a loan word in a Swedish one ("deadline" -> "senast", "tidsfrist")."""
    return [terms for form in swedish_forms(word) for terms in _phrase_terms(form)]


def _phrase_terms(phrase: str) -> list[tuple[str, ...]]:
    return [_word_terms(word) for word in words(phrase) if _is_content(word)]


@lru_cache(maxsize=100_000)
def specificity(word: str, language: str = "sv") -> float:
    """How topical a word is: rare in general Swedish (wordfreq) means specific.

    "mammografi" (zipf ~2.5) weighs about four times "fick" (zipf ~5.5), so a question whose
    topic word the documents lack is not answered on the strength of its filler words.
    """
    zipf = zipf_frequency(word, language)
    return min(1.2, max(0.25, (6.5 - zipf) / 3.0))


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (a typo: one letter dropped, added, changed, swapped)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    if len(a) > len(b):
        a, b = b, a
    for i in range(len(a)):
        if a[i] != b[i]:
            if len(a) == len(b):
                return a[i + 1:] == b[i + 1:] or (
                    a[i + 1:i + 2] == b[i:i + 1] and a[i:i + 1] == b[i + 1:i + 2]
                    and a[i + 2:] == b[i + 2:])
            return a[i:] == b[i + 1:]
    return True


_ALPHABET = "abcdefghijklmnopqrstuvwxyzåäöé"


@lru_cache(maxsize=20_000)
def correct_typo(word: str) -> str | None:
    """The most frequent Swedish word one edit away ("läkartd" -> "läkartid"), if clearly
    more common than the word itself; None when nothing qualifies."""
    if not 5 <= len(word) <= MAX_TYPO_CHARS or not word.isalpha():
        return None
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    candidates = {left + right[1:] for left, right in splits if right}
    candidates |= {left + right[1] + right[0] + right[2:] for left, right in splits
                   if len(right) > 1}
    candidates |= {left + ch + right[1:] for left, right in splits if right for ch in _ALPHABET}
    candidates |= {left + ch + right for left, right in splits for ch in _ALPHABET}
    candidates.discard(word)
    own = zipf_frequency(word, "sv")
    best = max(candidates, key=lambda candidate: zipf_frequency(candidate, "sv"))
    best_zipf = zipf_frequency(best, "sv")
    return best if best_zipf >= 2.0 and best_zipf >= own + 1.0 else None


def name_terms(text: str) -> frozenset[str]:
    """Stems of the specific whole words in a name ("färdplan", "ivo", "värmland")."""
    return frozenset(_stem(word) for word in words(text)
                     if _is_content(word) and (word in ABBREVIATIONS or specificity(word) >= 0.9))


# English spelling of a Latin or Greek loan as Swedish writes it ("psychologist" ->
# "psykologist", "qualification" -> "kvalifikation"). Swedish also keeps a "c" ("medicin").
_SWEDISH_SPELLING = (("ph", "f"), ("th", "t"), ("ch", "k"), ("ck", "k"), ("qu", "kv"),
                     ("x", "ks"), ("w", "v"), ("z", "s"))
COGNATE_PREFIX = 6


def cognate_prefixes(word: str) -> set[str]:
    """Prefixes a Swedish cognate of an English word starts with (folded), for words long
    enough that a shared prefix is a shared root."""
    if len(word) <= COGNATE_PREFIX or not word.isascii():
        return set()
    swedish = word.lower()
    for english, written in _SWEDISH_SPELLING:
        swedish = swedish.replace(english, written)
    hard_c = re.sub(r"c(?=[eiy])", "s", swedish).replace("c", "k")
    return {form[:COGNATE_PREFIX] for form in (word.lower(), swedish, hard_c)}
