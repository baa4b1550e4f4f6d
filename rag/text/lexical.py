"""Swedish text analysis for BM25: stemming, stop words, compound parts and abbreviations.

Snowball leaves a compound such as "cellprovstagning" whole, so a query for "provtagning"
would not match it. We split compounds against a Swedish word-frequency lexicon (wordfreq),
allowing the linking letters Swedish uses ("prov-s-tagning"), and index the parts and the
compound's tails ("tagning", "provtagning") beside the whole word. Queries go through the
same analyzer, so both sides meet on the parts.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from wordfreq import zipf_frequency

from rag.text.fold import fold, has_marks
from rag.text.vocabulary import Normalized, Vocabulary
from rag.text.vocabulary import within_one_edit as within_one_edit

TOKEN = re.compile(r"[0-9]+(?:[.,:][0-9]+)*|[^\W\d_]+", re.UNICODE)
MIN_COMPOUND = 8
# Longer "words" are blobs (base64, ids); real compounds in the corpus stop near 40 letters.
MAX_COMPOUND = 48
MIN_PART = 4
MIN_ZIPF = 2.3
# Only this much of a question is respelled for the e5 model (the rest is kept as typed).
MAX_RESPELLED_CHARS = 600
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

# Stop words typed without their marks ("ar", "pa", "nar", "for"); a word typed with marks
# ("år") is judged by its own spelling.
_FOLDED_STOP_WORDS = frozenset(fold(word) for word in STOP_WORDS) - STOP_WORDS - {"ar"} | {"ar"}

# Staff abbreviations the documents use without ever defining them. Abbreviations a document
# defines ("barnmorskemottagning (BMM)") are learned from it (`Vocabulary.abbreviations`);
# these few are everyday care-centre shorthand no steering document spells out.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "vc": ("vårdcentral",),
    "bhv": ("barnhälsovård",),
    "mhv": ("mödrahälsovård",),
    "mla": ("medicinskt ledningsansvarig",),
    "rehab": ("rehabilitering",),
    "pat": ("patient", "patienter"),
    "dnr": ("diarienummer",),
}


def abbreviations(vocabulary: Vocabulary | None) -> dict[str, tuple[str, ...]]:
    """The hand-kept abbreviations plus those the documents define."""
    if vocabulary is None or not vocabulary.abbreviations:
        return ABBREVIATIONS
    merged = dict(vocabulary.abbreviations)
    for key, forms in ABBREVIATIONS.items():
        merged[key] = tuple(dict.fromkeys((*merged.get(key, ()), *forms)))
    return merged


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
                  vocabulary: Vocabulary | None = None) -> list[str]:
    """Terms for a query: like `analyze` on the words in the documents' spelling (marks
    restored, typos corrected), plus abbreviation expansions in both directions (and Swedish
    equivalents of English words when the question is in English)."""
    # English words are not respelled against Swedish documents ("visit" is not "visst").
    known = vocabulary if language == "sv" else None
    normalized = [normalize_word(word, known) for word in words(text)[:MAX_QUERY_WORDS]]
    lowered = " ".join(item.word for item in normalized)
    expansions: list[str] = []
    if language == "en":
        for word in lowered.split():
            expansions.extend(EN_TO_SV.get(word, ()))
    for abbreviation, spelled in abbreviations(vocabulary).items():
        if re.search(rf"\b{re.escape(abbreviation)}\b", lowered):
            expansions.extend(spelled)
        elif any(_mentions(lowered, form) for form in spelled):
            expansions.append(abbreviation)
    terms: list[str] = []
    for item in normalized:
        terms.extend(normalized_terms(item))
    return terms + analyze(" ".join(expansions))


_TYPED_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def respelled(text: str, vocabulary: Vocabulary) -> str:
    """The question with each word in the documents' spelling where one is known (marks
    restored, one typo corrected): what the e5 model should see ("hur manga pa sabo" ->
    "hur många på säbo")."""
    def fix(match: re.Match[str]) -> str:
        typed = match.group(0)
        item = normalize_word(typed.lower(), vocabulary)
        if item.how not in ("restored", "typo") or item.parts:
            return typed
        return item.word.upper() if typed.isupper() else item.word
    return _TYPED_WORD.sub(fix, text[:MAX_RESPELLED_CHARS]) + text[MAX_RESPELLED_CHARS:]


def normalize_word(word: str, vocabulary: Vocabulary | None) -> Normalized:
    """The documents' spelling of a query word; failing that, a general-Swedish typo fix."""
    if vocabulary is None:
        return Normalized(word, "as-typed")
    item = vocabulary.normalize(word)
    if item.how == "unknown":
        restored = restore_marks(word)
        if restored:
            fixed = vocabulary.normalize(restored)
            return Normalized(fixed.word, "restored", fixed.parts)
        corrected = correct_typo(word) if len(word) <= MAX_TYPO_LENGTH else None
        if corrected:
            fixed = vocabulary.normalize(corrected)
            return Normalized(fixed.word, "typo", fixed.parts)
    return item


_MARKED = {"a": ("a", "å", "ä"), "o": ("o", "ö"), "e": ("e", "é")}
# At most this many spellings are tried when restoring marks (3 a's and 2 o's: 108).
MAX_MARK_VARIANTS = 128
MAX_TYPO_LENGTH = MAX_TYPO_CHARS


@lru_cache(maxsize=20_000)
def restore_marks(word: str) -> str | None:
    """The general-Swedish spelling of a word typed without å/ä/ö ("forsvann" ->
    "försvann"), when one is clearly a word and the typed form is not."""
    if has_marks(word) or not word.isalpha() or len(word) > MAX_TYPO_LENGTH:
        return None
    variants = [""]
    for char in word:
        options = _MARKED.get(char, (char,))
        variants = [prefix + option for prefix in variants for option in options]
        if len(variants) > MAX_MARK_VARIANTS:
            return None
    own = zipf_frequency(word, "sv")
    best = max(variants, key=lambda variant: zipf_frequency(variant, "sv"))
    best_zipf = zipf_frequency(best, "sv")
    return best if best != word and best_zipf >= 2.0 and best_zipf >= own + 1.0 else None


def normalized_terms(item: Normalized) -> tuple[str, ...]:
    """Index terms of a normalised query word (a compound of corpus words brings its parts)."""
    terms = _word_terms(item.word)
    if item.parts:
        extra = tuple(fold(_stem(part)) for part in item.parts)
        terms = tuple(dict.fromkeys((*terms, *extra)))
    return terms


def content_terms(text: str) -> set[str]:
    """Stems of the content words only (no compound parts): used to measure coverage."""
    return {fold(_stem(word)) for word in words(text) if _is_content(word)}


def _mentions(lowered_text: str, form: str) -> bool:
    stem = fold(_stem(form.split()[0]))
    return len(stem) >= 4 and any(fold(word).startswith(stem) for word in lowered_text.split())


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
    # Folded after stemming and splitting (both need the marks): "läkartid" -> "lakartid".
    return tuple(dict.fromkeys(fold(term) for term in terms))


def _is_content(word: str) -> bool:
    if word in STOP_WORDS or word in _FOLDED_STOP_WORDS:
        return False
    return word.isdigit() or len(word) > 1


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


# English question words mapped to the Swedish terms the documents use, so an English
# question can be matched (and its evidence measured) against Swedish text.
EN_TO_SV: dict[str, tuple[str, ...]] = {
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
}


def typo_alternatives(word: str) -> list[tuple[str, ...]]:
    corrected = correct_typo(word)
    terms = _word_terms(corrected) if corrected else ()
    return [terms] if terms else []


def query_words(text: str, language: str = "sv", vocabulary: Vocabulary | None = None
                ) -> list[tuple[str, list[tuple[str, ...]]]]:
    """The query's content words in the documents' spelling, each as alternative term tuples
    (whole-word stem first, then compound parts). Abbreviations and English words bring their
    Swedish forms along as further alternatives. A repeated word counts once; past
    MAX_QUERY_WORDS words the rest are not weighed."""
    known = abbreviations(vocabulary)
    result: list[tuple[str, list[tuple[str, ...]]]] = []
    seen: set[str] = set()
    for typed in words(text):
        if not _is_content(typed) or typed in seen:
            continue
        if len(seen) >= MAX_QUERY_WORDS:
            break
        seen.add(typed)
        item = normalize_word(typed, vocabulary if language == "sv" else None)
        word = item.word
        alternatives = [normalized_terms(item)]
        for form in known.get(word, ()):
            alternatives.extend(_phrase_terms(form))
        for abbreviation, spelled in known.items():
            if any(" " not in form and fold(_stem(word)) == fold(_stem(form)) for form in spelled):
                alternatives.append(_word_terms(abbreviation))
        if language == "en":
            for form in EN_TO_SV.get(typed, ()):
                alternatives.extend(_phrase_terms(form))
        kept = [alternative for alternative in alternatives if alternative]
        if kept:
            result.append((word, kept))
    return result


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
    return frozenset(fold(_stem(word)) for word in words(text)
                     if _is_content(word) and (word in ABBREVIATIONS or specificity(word) >= 0.9
                                               or (word.isupper() and len(word) >= 2)))
