"""Check a generated answer against the numbered sources it was given.

Pure functions, no I/O. An answer passes when
- every `[n]` names a source that was given,
- every sentence that states something carries a citation (a refusal such as
  "Det framgår inte av dokumenten" needs none), and
- every number, date, time, amount and percentage in a sentence appears in a source that sentence
  cites, after normalisation: "tre timmar" = "3 timmar", "50 000" = "50000" = "50 000",
  "23–64" = "23 och 64", "kl 18" = "18.00", "93 %" = "93%" = "93 procent".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

REFUSAL_PHRASES = (
    "det framgår inte av dokumenten",
    "framgår inte av dokumenten",
    "the documents do not say",
    "the documents do not state",
    "not stated in the documents",
)
_CITATION = re.compile(
    r"\[(?:källa|källor|source|sources)?\s*(\d+(?:\s*[,;–-]\s*\d+)*)\]", re.IGNORECASE)
_ABBREVIATIONS = re.compile(
    r"\b(?:kl|t\.ex|bl\.a|m\.fl|m\.m|s\.k|d\.v\.s|dvs|osv|ca|enl|resp|nr|st|jfr|inkl|exkl|"
    r"tel|s|sid|kap|e\.g|i\.e|etc|approx|no|p)\.", re.IGNORECASE)
_PROTECTED_DOT = "\u2024"  # one-dot leader: stands in for an abbreviation's dot while splitting
_SENTENCE_END = re.compile(
    r"[.!?]+[\"”»')]*(?:\s*\[(?:[A-Za-zåäöÅÄÖ]+\s*)?\d+(?:\s*[,;–-]\s*\d+)*\])*"
    r"(?=\s+[A-ZÅÄÖÉ0-9\"“«(]|\s*$)")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•–]+|\d{1,2}[.)]|#+)\s+")
_MARKUP = re.compile(r"\*\*|__|`")
_WORD = re.compile(r"\w+")
_MAX_QUOTE = 80


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    citations: tuple[int, ...]

    @property
    def claim(self) -> str:
        """The sentence without its citation markers."""
        return re.sub(r"\s+([.,;:!?])", r"\1", _CITATION.sub(" ", self.text)).strip()


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    refusal: bool = False


def parse_citations(text: str) -> list[int]:
    """Source numbers in `[1]`, `[1, 2]`, `[1][3]`, `[1–3]` and `[källa 1]`, in order."""
    numbers: list[int] = []
    for match in _CITATION.finditer(text):
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            bounds = re.split(r"\s*[–-]\s*", part)
            if len(bounds) == 2 and int(bounds[0]) <= int(bounds[1]) <= int(bounds[0]) + 10:
                numbers.extend(range(int(bounds[0]), int(bounds[1]) + 1))
            else:
                numbers.extend(int(bound) for bound in bounds)
    return numbers


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with the citations that follow them; a citation after the full stop counts."""
    sentences: list[Sentence] = []
    for raw_line in text.splitlines():
        line = _MARKUP.sub("", _LIST_MARKER.sub("", raw_line)).strip()
        if not line:
            continue
        line = _ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", _PROTECTED_DOT), line)
        start = 0
        pieces = []
        for match in _SENTENCE_END.finditer(line):
            pieces.append(line[start:match.end()])
            start = match.end()
        pieces.append(line[start:])
        for piece in pieces:
            piece = piece.replace(_PROTECTED_DOT, ".").strip()
            if not piece:
                continue
            sentence = Sentence(piece, tuple(parse_citations(piece)))
            if not _WORD.search(sentence.claim) and sentences:
                # A line of bare citations belongs to the sentence before it.
                previous = sentences.pop()
                sentence = Sentence(f"{previous.text} {piece}",
                                    previous.citations + sentence.citations)
            sentences.append(sentence)
    return sentences


def is_refusal(sentence: str) -> bool:
    """A short sentence saying the documents do not answer; it states no fact of its own."""
    lowered = sentence.lower()
    return (any(phrase in lowered for phrase in REFUSAL_PHRASES)
            and not any(char.isdigit() for char in lowered)
            and len(_WORD.findall(lowered)) <= 12)


def verify_answer(answer: str, sources: Mapping[int, str]) -> Verification:
    """Check `answer` against `sources` (source number -> the text that source showed)."""
    problems: list[str] = []
    sentences = split_sentences(answer)
    cited = list(dict.fromkeys(parse_citations(answer)))
    for n in cited:
        if n not in sources:
            problems.append(f"citation [{n}] refers to no given source")
    valid_cited = [n for n in cited if n in sources]
    forms = {n: source_forms(text) for n, text in sources.items()}

    claims = [s for s in sentences if _WORD.search(s.claim) and not is_refusal(s.claim)]
    refusal = bool(sentences) and not claims
    if not sentences:
        problems.append("empty answer")
    for sentence in claims:
        if _is_lead_in(sentence):
            continue
        if not sentence.citations:
            problems.append(f"sentence without citation: {_quote(sentence.claim)}")
        own = [n for n in sentence.citations if n in sources] or valid_cited
        allowed = set().union(*(forms[n] for n in own)) if own else set()
        for mention in mentions(sentence.claim):
            if not mention.forms & allowed:
                where = ", ".join(f"[{n}]" for n in own) or "no cited source"
                problems.append(f"{mention.text!r} not found in {where}: {_quote(sentence.claim)}")
    return Verification(ok=not problems, problems=problems, cited=valid_cited, refusal=refusal)


def _is_lead_in(sentence: Sentence) -> bool:
    """'Enligt källorna gäller följande:' introduces a list and states nothing by itself."""
    return sentence.claim.endswith(":") and not mentions(sentence.claim)


def _quote(text: str) -> str:
    return repr(text if len(text) <= _MAX_QUOTE else text[: _MAX_QUOTE - 1] + "…")


# --- Numbers -------------------------------------------------------------------------------------
# A mention in the answer has a few canonical forms ("t18:00" for a time, "93%" for a percentage,
# "m1" for January, "50000" for an amount); it is supported when one of them is among the forms of
# the cited source. A source contributes extra, looser forms too (a percentage's bare number, each
# group of "50 000"), so "93" in an answer matches "93 %" in a source but not the other way round.

_SP = r"[ \u00a0\u2009\u202f]"
_NUMBER = re.compile(
    rf"""
      (?P<iso>(?<!\d)\d{{4}}-\d{{2}}-\d{{2}}(?!\d))
    | (?P<kl>\bkl\.?{_SP}*\d{{1,2}}(?:[.:]\d{{2}})?(?!\d))
    | (?P<dotted>(?<!\d)\d+(?:\.\d+){{2,}})
    | (?P<time>(?<!\d)\d{{1,2}}[.:]\d{{2}}(?!\d|[.,:]\d))
    | (?P<grouped>(?<!\d)\d{{1,3}}(?:{_SP}\d{{3}})+(?:,\d+)?(?!\d|[.,]\d))
    | (?P<decimal>(?<!\d)\d+[.,]\d+)
    | (?P<int>\d+)
    | (?P<word>\b[^\W\d_]+(?:-[^\W\d_]+)*\b)
    """, re.VERBOSE | re.IGNORECASE)
_UNIT = re.compile(
    rf"""{_SP}*(?P<pct>%|procent\w*\b|percent\b)
    | {_SP}+(?P<k>tusen|tkr|thousand)\b
    | {_SP}+(?P<m>miljon\w*|mnkr|mkr|millions?)\b
    | {_SP}+(?P<g>miljard\w*|mdkr|billions?)\b""", re.VERBOSE | re.IGNORECASE)
_MULTIPLIERS = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


def _numbered(words: str, values: Iterable[int]) -> dict[str, int]:
    return dict(zip(words.split(), values, strict=True))


_MONTHS = _numbered(
    "januari februari mars april maj juni juli augusti september oktober november december",
    range(1, 13)) | _numbered(
    "january february march april may june july august september october november december",
    range(1, 13))
_SV_UNITS = _numbered(
    "noll en ett två tre fyra fem sex sju åtta nio tio elva tolv tretton fjorton femton sexton "
    "sjutton arton nitton aderton", [0, 1, *range(1, 20), 18])
_SV_TENS = _numbered("tjugo trettio fyrtio femtio sextio sjuttio åttio nittio", range(20, 100, 10))
_EN_UNITS = _numbered(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen", range(20))
_EN_TENS = _numbered("twenty thirty forty fifty sixty seventy eighty ninety", range(20, 100, 10))
# "en", "ett" and "one" are articles and pronouns far more often than numbers: in an answer they
# are never read as 1; in a source only before a word that counts something.
_AMBIGUOUS = {"en", "ett", "one"}
_COUNTED = re.compile(
    r"\s+(?:gång|timm|tim|veck|dag|dygn|månad|år|minut|kvart|tillfälle|besök|läkar|person|"
    r"patient|sjuksköt|barnmorsk|time|hour|week|day|month|year|minute|visit)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Mention:
    text: str
    forms: frozenset[str]


def mentions(text: str) -> list[Mention]:
    """Numbers, dates, times, amounts and percentages stated in `text` (strict forms)."""
    return [Mention(surface, strict) for surface, strict, _ in _scan(text, generous=False)]


def source_forms(text: str) -> set[str]:
    """Every form under which `text` supports a number."""
    forms: set[str] = set()
    for _, strict, loose in _scan(text, generous=True):
        forms |= strict | loose
    return forms


def _scan(text: str, generous: bool) -> list[tuple[str, frozenset[str], frozenset[str]]]:
    found: list[tuple[str, frozenset[str], frozenset[str]]] = []
    position = 0
    while match := _NUMBER.search(text, position):
        position = match.end()
        kind = match.lastgroup or ""
        surface = match.group(0)
        if kind == "word":
            parsed = _word_mention(text, match, generous)
            if parsed is None:
                continue
            strict, loose = parsed
        else:
            strict, loose = _numeric_forms(kind, surface)
        if kind not in ("iso", "kl", "time", "dotted") and (unit := _UNIT.match(text, position)):
            position = unit.end()
            surface = text[match.start():position].strip()
            strict, loose = _apply_unit(unit, strict, loose)
        if kind == "iso":
            # A date is checked part by part, so "2024-01-15" = "15 januari 2024".
            year, month, day = (int(d) for d in re.findall(r"\d+", surface))
            found += [(surface, frozenset({str(year)}), frozenset()),
                      (surface, frozenset({f"m{month}"}), frozenset({str(month)})),
                      (surface, frozenset({str(day)}), frozenset())]
        else:
            found.append((surface, frozenset(strict), frozenset(loose)))
    return found


def _numeric_forms(kind: str, surface: str) -> tuple[set[str], set[str]]:
    digits = re.findall(r"\d+", surface)
    match kind:
        case "kl" | "time":
            hour, minute = int(digits[0]), int(digits[1]) if len(digits) > 1 else 0
            strict = {f"t{hour}:{minute:02d}"} if hour <= 24 and minute <= 59 else set()
            if kind == "time":  # "18.00" might also be an amount, so it reads as 18 too
                strict.add(_canonical(surface.replace(":", ".")))
            return strict, {str(hour)}
        case "dotted":
            return {surface}, {_canonical(d) for d in digits}
        case "grouped":
            return {_canonical(re.sub(_SP, "", surface))}, {_canonical(d) for d in digits}
        case _:
            return {_canonical(surface)}, set()


def _apply_unit(unit: re.Match[str], strict: set[str],
                loose: set[str]) -> tuple[set[str], set[str]]:
    if unit.group("pct"):
        return {f"{form}%" for form in strict}, loose | strict
    factor = next(_MULTIPLIERS[name] for name in _MULTIPLIERS if unit.group(name))
    scaled = {_canonical(str(Decimal(form) * factor)) for form in strict if _is_number(form)}
    return scaled or strict, loose | strict


def _word_mention(text: str, match: re.Match[str],
                  generous: bool) -> tuple[set[str], set[str]] | None:
    word = match.group(0).lower()
    if word in _MONTHS:
        before = text[max(0, match.start() - 4):match.start()]
        after = text[match.end():match.end() + 6]
        if re.search(r"\d\s+$", before) or re.match(r"\s+\d{4}", after):
            return {f"m{_MONTHS[word]}"}, set()
        return None
    value = _parse_number_word(word)
    if value is None:
        return None
    if word in _AMBIGUOUS and not (generous and _COUNTED.match(text, match.end())):
        return None
    return {str(value)}, set()


def _parse_number_word(word: str) -> int | None:
    """'tre' -> 3, 'tjugofem' -> 25, 'tvåhundra' -> 200, 'twenty-five' -> 25."""
    if "-" in word:
        tens, _, unit = word.partition("-")
        if tens in _EN_TENS and _EN_UNITS.get(unit, 0) in range(1, 10):
            return _EN_TENS[tens] + _EN_UNITS[unit]
        return None
    english = _EN_UNITS.get(word, _EN_TENS.get(word))
    if english is not None:
        return english
    return _parse_swedish(word)


def _parse_swedish(word: str) -> int | None:
    for marker, scale in (("tusen", 1000), ("hundra", 100)):
        head, found, tail = word.partition(marker)
        if found:
            count = 1 if head in ("", "en", "ett") else _parse_swedish(head)
            rest = 0 if tail == "" else _parse_swedish(tail)
            if count is None or rest is None or count == 0 or rest >= scale:
                return None
            return count * scale + rest
    if word in _SV_UNITS:
        return _SV_UNITS[word]
    for tens, value in _SV_TENS.items():
        if word.startswith(tens):
            unit = word[len(tens):]
            if unit == "":
                return value
            if unit in _SV_UNITS and 1 <= _SV_UNITS[unit] <= 9:
                return value + _SV_UNITS[unit]
    return None


def _canonical(number: str) -> str:
    try:
        value = Decimal(number.replace(",", "."))
    except InvalidOperation:
        return number
    text = format(value.normalize(), "f")
    return text


def _is_number(form: str) -> bool:
    try:
        Decimal(form)
    except InvalidOperation:
        return False
    return True
