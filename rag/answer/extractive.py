"""Extractive answers: the requirement sentences themselves, verbatim, with numbered citations.

No language model: the answer is built from sentences of the top passages. Each query word
is matched (stem, compound parts, abbreviation or English equivalent) and weighted by idf;
a passage whose best sentences cover too little of the question is not evidence, and the
answer is then a refusal with the nearest passages.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass, replace

from wordfreq import zipf_frequency

from prompts import load_prompt, render
from rag.answer.conflicts import find_conflict
from rag.answer.constraints import (
    REGIONS,
    Constraint,
    corpus_regions,
    find_constraints,
    is_paragraph_asked,
    region_in_corpus,
    satisfied,
    source_constraints,
    states,
    statute_titles,
    unknown_name,
    unknown_statute,
)
from rag.answer.meaning import PASSAGES, Nearest, SentenceMeaning
from rag.answer.selector import SentenceSelector
from rag.models import Answer, Chunk, Citation, SearchHit
from rag.store.store import Snapshot
from rag.text.answer_types import (
    ANSWER_TYPES,
    MONEY,
    MONEY_QUESTION,
    NUMBER,
    QUANTITY_QUESTION,
    STATUTE_REFERENCE,
    OnlyAnsweredBy,
    gives_what_is_asked,
    only_kinds_asked,
)
from rag.text.instructions import addresses_reader
from rag.text.language import Language
from rag.text.lexical import (
    analyze,
    glossary_forms,
    name_terms,
    query_words,
    specificity,
    swedish_forms,
    typo_alternatives,
)
from rag.text.sentences import ITEM_PREFIX

CANDIDATE_PASSAGES = 8
RETRIEVED_PASSAGES = 10  # what the chain retrieves at least
UNKNOWN_TOPIC_EVIDENCE = 0.6
# Inflected verbs ("stämmas", "genomfördes") are how a question is phrased, not its topic.
VERB_ENDINGS = ("as", "ats", "ades", "ade", "des", "dde", "tts")
CONTINUATION = ("Maximalt", "Minst", "Högst", "Dock", "Denna", "Detta", "Dessa", "Det ",
                "Undantag", "Om ", "Vid ", "Däremot", "Kallelser", "Samma")
# A sentence whose subject is a pronoun ("De ska göra det enklare …") goes on about the one
# before; "De som …" begins a rule of its own ("Den" and "Det" are as often an article or a
# dummy subject, and CONTINUATION has "Det ").
PRONOUN_SUBJECT = re.compile(r"(De|Han|Hon|Hen)\s(?!som\b)")
# Words that point to what another sentence says: "nämnda specialiteter" (the one before),
# "nedanstående verksamheter" (what follows).
REFERS_BACK = re.compile(r"\b(nämnda|ovannämnda|ovanstående|ovan|dessa|detta|denna|samma)\b",
                         re.IGNORECASE)
REFERS_FORWARD = re.compile(r"\b(nedanstående|nedan|följande)\b", re.IGNORECASE)
@dataclass
class ScoredSentence:
    text: str
    hit_index: int
    position: int
    coverage: float
    score: float
    terms: frozenset[str] = frozenset()
    kind_ok: bool = True  # has the kind of text asked for (a number, an amount, a date …)
    own_coverage: float = 0.0  # without the heading's and the sentence before's words


TYPO_WORDS_PER_QUESTION = 8
# A short English word the documents lack is English, not a Swedish word mistyped; so is a
# common one ("staff" is not "straff").
MIN_ENGLISH_TYPO_CHARS = 5
ENGLISH_WORD_ZIPF = 3.0
# Constraints a near-miss changes that the best passage must meet: another region, a year
# or a month the document does not report, another profession's or national body's rule, a
# rate it does not give, a statute paragraph that is not there, a count of something it does
# not count. In this order, the first unmet is named. (A number or a kind of quantity the
# sentence lacks moved as many dev answers to refusals as near-misses.)
NEAR_MISS_KINDS = ("month", "paragraph", "profession", "share_of", "organisation", "rate",
                   "region", "year", "count", "label", "source")
# A sentence this close to the best, which states what the best lacks, answers instead
# (fitted on dev; lower shares answered near-miss questions).
MEETING_SHARE = 0.8
# Each lower-ranked passage's sentences count this much less (fitted on dev: v2 dev fact
# 0.682 / 0.688 / 0.693 / 0.688 / 0.682 at 0.04 / 0.06 / 0.08 / 0.10 / 0.15).
RANK_DECAY = 0.08
# However deep the passage and whatever RANK_DECAY is set to, its weight stays positive.
MIN_RANK_WEIGHT = 0.05
# A sentence with the only kind of text that answers (an amount, a phone or case number)
# answers instead of a best one without it when it scores this share of the best.
GIVING_SHARE = 0.5


class EvidenceScorer:
    """Idf- and specificity-weighted share of the question's content words a text covers."""

    def __init__(self, question: str, language: Language, snapshot: Snapshot) -> None:
        self.words: list[list[tuple[str, ...]]] = []
        self._weights: list[float] = []
        self.unknown: list[str] = []  # specific words the documents never use, in any form
        corrections = TYPO_WORDS_PER_QUESTION  # each costs a vocabulary scan: bounded
        for surface, alternatives in query_words(question, language,
                                                 snapshot.abbreviations()):
            if all(snapshot.document_frequency.get(alt[0], 0) == 0 for alt in alternatives):
                if corrections > 0:
                    corrections -= 1
                    alternatives = alternatives + _forms_in_documents(surface, alternatives,
                                                                      language, snapshot)
                known = [alt for alt in alternatives
                         if alt[0] in snapshot.document_frequency or (
                             len(alt) > 1 and part_share(alt[1:], snapshot.document_frequency)
                             >= 0.6)]
                if not known and not surface.endswith(VERB_ENDINGS) and \
                        not _unknown_abbreviation(surface, language) and \
                        _is_topic_word(surface, language):
                    self.unknown.append(surface)
            idf = max(snapshot.idf(alt[0]) for alt in alternatives[:1])
            weight = max(idf, 0.5) * specificity(surface, language)
            if language == "en" and len(alternatives) == 1 and \
                    snapshot.document_frequency.get(alternatives[0][0], 0) == 0:
                # An English word the glossary lacks is weak evidence of absence. With the
                # 600-word glossary, 0.8 refuses dev's off-corpus English as before it; 0.3
                # (fitted to the small hand list) and 0.6 answered "Can staff bring a dog …?".
                weight *= 0.8
            self.words.append(alternatives)
            self._weights.append(weight)
        self.total = sum(self._weights) or 1.0

    def coverage(self, terms: frozenset[str] | set[str]) -> float:
        covered = 0.0
        for weight, alternatives in zip(self._weights, self.words, strict=True):
            covered += weight * max(_match(alternative, terms) for alternative in alternatives)
        return covered / self.total


def _forms_in_documents(surface: str, alternatives: list[tuple[str, ...]], language: Language,
                        snapshot: Snapshot) -> list[tuple[str, ...]]:
    """Indexed forms of a question word the documents lack: one typo away, the marks or
    letters a typist drops, its English cognate, the ending the stemmer left on."""
    typed = alternatives[0][0]
    found: list[tuple[str, ...]] = []
    if language == "sv" or (len(typed) >= MIN_ENGLISH_TYPO_CHARS and
                            zipf_frequency(surface, "en") < ENGLISH_WORD_ZIPF):
        found += snapshot.near_spellings(typed)
    if language == "sv":
        # Staff borrow English words ("deadline", "feedback") the documents write in Swedish.
        found += glossary_forms(surface) + typo_alternatives(surface)
    else:  # "psychologist" is "psykolog" (as evidence only: in BM25 the cognates moved more
        # English questions' passages down than up)
        found += snapshot.cognates(surface)
    return found + [form for alt in [*alternatives, *found]
                    for form in snapshot.shorter_forms(alt[0])]


# A word the documents never use is a topic they lack when it is this specific (Zipf about
# 3.8 or rarer in Swedish). An English word is measured in English (it was measured in
# Swedish, where every English word is rare): 0.9 there gave dev fact 0.707, 0.8 gave 0.704
# and keeps "What is the Wi-Fi password …?" refused ("password", Zipf 4.1 in English).
SHORTHAND_CHARS = 4
SWEDISH_VOWEL = re.compile(r"[aeiouyåäöé]")
TOPIC_SPECIFICITY = 0.9
ENGLISH_TOPIC_SPECIFICITY = 0.8


def _is_topic_word(surface: str, language: Language) -> bool:
    translations = swedish_forms(surface) if language == "en" else ()
    if translations:
        return max(specificity(form) for form in translations) >= TOPIC_SPECIFICITY
    if language == "en":
        return specificity(surface, "en") >= ENGLISH_TOPIC_SPECIFICITY
    return specificity(surface) >= TOPIC_SPECIFICITY


def _unknown_abbreviation(surface: str, language: Language) -> bool:
    """A short Swedish token without a vowel ("vp", "ssk"): staff shorthand, which the documents
    do not define when it gets here. It weighs in the coverage like any word, but what it
    stands for cannot be known, so it does not count as a topic the documents lack."""
    return language == "sv" and len(surface) <= SHORTHAND_CHARS and surface.isalpha() and \
        not SWEDISH_VOWEL.search(surface)


def _match(alternative: tuple[str, ...], terms: frozenset[str] | set[str]) -> float:
    whole, *parts = alternative
    if whole in terms:
        return 1.0
    if len(whole) >= 6 and any(term.startswith(whole) for term in terms):
        return 0.9  # Snowball leaves some inflections longer: "färdplanena" -> "färdplanen"
    if not parts:
        return 0.0
    share = part_share(tuple(parts), terms)
    # All parts present ("cell" + "provtagning") is nearly the word itself; the specific
    # part alone ("läkar" of "läkartid") is good evidence, a generic one ("ordet" of
    # "lösenordet") is weak.
    return 0.8 if share == 1.0 else 0.7 * share


def part_share(parts: tuple[str, ...], terms: Container[str]) -> float:
    """Specificity-weighted share of a compound's parts found in `terms`."""
    weights = [specificity(part) for part in parts]
    found = sum(weight for part, weight in zip(parts, weights, strict=True) if part in terms)
    return found / (sum(weights) or 1.0)


def build_answer(question: str, language: Language, hits: list[SearchHit], snapshot: Snapshot,
                 *, min_evidence: float, max_chars: int, citations_k: int,
                 meaning: SentenceMeaning | None = None,
                 selector: SentenceSelector | None = None) -> Answer:
    """`meaning`: e5 sentence evidence, consulted before a refusal for too few shared words.
    `selector`: the fitted model that orders the candidate sentences (lexical order without)."""
    scorer = EvidenceScorer(question, language, snapshot)
    # "vad menar hsl med god vård?": the documents the question names, and the words naming them
    naming = snapshot.naming_terms(name_terms(question))
    candidates = hits[:CANDIDATE_PASSAGES]
    sentences = _score_sentences(question, candidates, scorer, naming)
    only_kinds = only_kinds_asked(question)
    if any(only.anywhere and not any(only.given.search(s.text) for s in sentences)
           for only in only_kinds):
        candidates = hits[:RETRIEVED_PASSAGES]
        sentences = _score_sentences(question, candidates, scorer, naming)
    best = _best_evidence(sentences, candidates, scorer, naming)
    # A specific word the documents never use ("mammografi", "lösenordet") needs
    # strong evidence from the rest of the question.
    needed = max(min_evidence, UNKNOWN_TOPIC_EVIDENCE) if scorer.unknown else min_evidence
    constraints = find_constraints(question) + source_constraints(
        question, snapshot.statutes(), snapshot.title)
    regions = corpus_regions(snapshot.document_heads()) if any(
        c.kind == "region" for c in constraints) else []
    unknown_region = next((c for c in constraints if c.kind == "region" and
                           not region_in_corpus(c, regions)), None)
    if unknown_region is not None:
        return unknown_region_refusal(question, language, hits, snapshot, citations_k,
                                      unknown_region)
    statute = unknown_statute(question, snapshot.document_heads(), snapshot.statutes())
    if statute is not None:
        statutes = ", ".join(statute_titles(snapshot.document_heads(), language))
        return _not_in_documents(question, language, hits, citations_k,
                                 render(f"unknown_statute_{language}", asked=statute,
                                        statutes=statutes))
    name = unknown_name(question, snapshot.document_frequency) if language == "sv" else None
    if name is not None and sentences:
        return near_miss(question, language, candidates, sentences[0], citations_k, name)
    rescued = None
    if not scorer.words or best < needed:
        rescued = None if meaning is None or not scorer.words else _by_meaning(
            question, language, candidates, sentences, scorer, best, meaning)
        if rescued is None:
            return refusal(question, language, hits, citations_k)
        sentences = [rescued, *(s for s in sentences if s.text != rescued.text)]
    top = sentences[0]
    for only in only_kinds:
        if not only.given.search(top.text):
            weigh = _unranked if only.anywhere else _ranked
            giving = next((s for s in sentences[1:] if weigh(s) >= GIVING_SHARE * weigh(top)
                           and only.given.search(s.text)), None)
            if giving is None:
                return near_miss(question, language, candidates, top, citations_k,
                                 only.label_en if language == "en" else only.label_sv)
            sentences = [giving, *(s for s in sentences if s is not giving)]
            top = giving
    unmet = _unmet(constraints, top, candidates[top.hit_index].chunk)
    if unmet is not None:
        if unmet.kind == "source":
            meeting = _best_from_source(only_kinds, constraints, sentences, candidates, needed)
        elif unmet.kind == "paragraph":
            meeting = _from_asked_paragraph(constraints, unmet, sentences, candidates) or \
                _meeting_constraints(constraints, unmet, sentences, candidates, only_kinds)
        else:
            meeting = _meeting_constraints(constraints, unmet, sentences, candidates, only_kinds)
        if meeting is None:  # the best passage answers for another region, year or month
            return near_miss(question, language, candidates, top, citations_k,
                             unmet.label(language))
        sentences = [meeting, *(s for s in sentences if s is not meeting)]
    elif selector is not None and rescued is None:
        sentences = _selected(selector, question, sentences, candidates, constraints, only_kinds)
    chosen = _only_from_sources(_choose(sentences, candidates, max_chars, scorer),
                                constraints, candidates)
    if unmet is not None:  # the lead was chosen to meet it: the rest must meet it too
        chosen = _meeting_what_the_lead_meets(chosen, sentences[0], [unmet], candidates)
    conflict = find_conflict(sentences[0], sentences, candidates)
    if conflict is not None and all(c.text != conflict.text for c in chosen):
        chosen = sorted([*chosen, conflict][:4], key=lambda s: (s.hit_index, s.position))
    chosen = _where_they_belong(chosen, candidates, scorer)
    result = _compose(question, language, chosen, candidates, citations_k)
    if conflict is not None:
        result.answer = f"{result.answer}\n{load_prompt(f'conflict_{language}')}"
    return result


def _best_evidence(sentences: list[ScoredSentence], hits: list[SearchHit],
                   scorer: EvidenceScorer, naming: Mapping[str, frozenset[str]]) -> float:
    """The best sentence's share of the question, where a document the question names
    ("… utanför vårdval", Värmland's "Vårdval vårdcentral") covers its name words in all its
    sentences. Only the decision to answer counts them: in the ranking, where every sentence
    of the document would gain alike, they pulled its weaker sentences into the answer."""
    best = 0.0
    for sentence in sentences:
        named = naming.get(hits[sentence.hit_index].chunk.document)
        coverage = sentence.coverage if named is None else max(
            sentence.coverage, scorer.coverage(sentence.terms | named))
        best = max(best, coverage)
    return best


def _selected(selector: SentenceSelector, question: str, sentences: list[ScoredSentence],
              hits: list[SearchHit], constraints: list[Constraint],
              only_kinds: list[OnlyAnsweredBy]) -> list[ScoredSentence]:
    """The sentences in the fitted order, led by the first that passes every check the
    lexical best passed (each constraint met, the only kind of text that answers given): the
    selector chooses among answers, it never turns a refusal into one."""
    ordered = selector.order(question, hits, sentences)
    lead = next((s for s in ordered if gives_what_is_asked(only_kinds, s.text) and
                 _unmet(constraints, s, hits[s.hit_index].chunk) is None), sentences[0])
    return [lead, *(s for s in ordered if s is not lead)]


def _ranked(sentence: ScoredSentence) -> float:
    return sentence.score


def _unranked(sentence: ScoredSentence) -> float:
    """The sentence's score without its passage's rank: what it says, not where it was found."""
    return sentence.score / rank_weight(sentence.hit_index)


def rank_weight(hit_index: int) -> float:
    """How much a sentence of the passage at this rank counts (1 for the first)."""
    return max(MIN_RANK_WEIGHT, 1.0 - RANK_DECAY * hit_index)


# A sentence chosen by meaning leads the answer; lexical runners-up join it only by the
# list and continuation rules, never by a score relative to its own.
RESCUED_SCORE = 10.0


def _by_meaning(question: str, language: Language, hits: list[SearchHit],
                sentences: list[ScoredSentence], scorer: EvidenceScorer, best: float,
                meaning: SentenceMeaning) -> ScoredSentence | None:
    """The sentence nearest the question in meaning, when the fitted model says it answers."""
    # The scored sentences are those that may be evidence (no orders to the reader).
    scored_at = {(s.hit_index, s.position): s for s in sentences if s.hit_index < PASSAGES}
    nearest = meaning.nearest(question, hits, scored_at)
    if nearest is None:
        return None
    scored = scored_at[(nearest.hit_index, nearest.position)]
    if not scored.kind_ok:
        return None  # asked for an amount, a date or a share, it must have one
    gain = _unknown_gain(question, scorer.unknown, nearest, meaning)
    # A Swedish word the documents never use is a topic they lack ("lösenordet"); an English
    # one is mostly a gap in the glossary ("piloted"), which the model weighs by its features.
    if scorer.unknown and gain <= 0.0 and language == "sv":
        return None
    values = {"cosine": nearest.cosine, "margin": nearest.margin, "lexical": scored.coverage,
              "best_lexical": best, "rank": float(nearest.hit_index),
              "unknown": float(len(scorer.unknown)), "unknown_gain": gain,
              "english": float(language == "en")}
    return replace(scored, score=RESCUED_SCORE) if meaning.answers(values) else None


def _unknown_gain(question: str, unknown: list[str], nearest: Nearest,
                  meaning: SentenceMeaning) -> float:
    """How much the words the documents never use bring the question nearer the sentence: a
    synonym ("doktorn" for "läkaren") does, a topic the sentence lacks ("lösenordet") does not
    (without it the question is as near, or nearer)."""
    if not unknown:
        return 0.0
    pattern = r"\b(" + "|".join(re.escape(word) for word in unknown) + r")\b"
    without = re.sub(pattern, " ", question, flags=re.IGNORECASE)
    return nearest.cosine - meaning.cosine(without, nearest.embedded)


def _where_they_belong(chosen: list[ScoredSentence], hits: list[SearchHit],
                       scorer: EvidenceScorer) -> list[ScoredSentence]:
    """Each chosen sentence cited from the candidate passage it belongs to most when several
    have it word for word: the one covering more of the question, then the shortest. A
    paragraph repeated whole inside a longer one (PSF 2 kap. 4 § in 8 kap. 10 §) is cited as
    itself unless the question also asks what only the longer one says."""
    coverage: dict[int, float] = {}

    def key(hit_index: int) -> tuple[float, int, int]:
        if hit_index not in coverage:
            terms = frozenset(analyze(hits[hit_index].chunk.text))
            coverage[hit_index] = scorer.coverage(terms)
        return (-coverage[hit_index], len(hits[hit_index].chunk.text), hit_index)

    sentences = [hit.chunk.sentences() for hit in hits]
    moved: list[ScoredSentence] = []
    for sentence in chosen:
        holders = [(index, own.index(sentence.text))
                   for index, own in enumerate(sentences) if sentence.text in own]
        if len(holders) > 1:
            index, position = min(holders, key=lambda holder: key(holder[0]))
            sentence = replace(sentence, hit_index=index, position=position)
        moved.append(sentence)
    return sorted(moved, key=lambda s: (s.hit_index, s.position)) if moved != chosen else chosen


def _score_sentences(question: str, hits: list[SearchHit],
                     scorer: EvidenceScorer,
                     naming: Mapping[str, frozenset[str]]) -> list[ScoredSentence]:
    wants_number = bool(QUANTITY_QUESTION.search(question))
    wants_money = bool(MONEY_QUESTION.search(question))
    expected_types = [(asks, answers) for asks, answers in ANSWER_TYPES if asks.search(question)]
    scored: list[ScoredSentence] = []
    # A statute the question names (short name or title) is the source asked about, so its
    # sentences cover those words.
    for hit_index, hit in enumerate(hits):
        heading = frozenset(analyze(hit.chunk.section_label))
        named = naming.get(hit.chunk.document, frozenset()) if hit.chunk.short_title \
            else frozenset()
        previous: frozenset[str] = frozenset()
        lead_in: frozenset[str] = frozenset()
        flagged = set(hit.chunk.instructions)
        for position, sentence in enumerate(hit.chunk.sentences()):
            terms = frozenset(analyze(sentence)) | named
            if sentence.startswith(ITEM_PREFIX):
                # A list item means nothing without its lead-in ("… inom tre dagar:").
                terms = terms | lead_in
                context = heading
            else:
                context = heading | previous
                lead_in = terms
            previous = terms
            if sentence in flagged or addresses_reader(sentence):
                continue  # an order to the reader ("svara att …") is never evidence
            # Words of the heading and the sentence before count half: "BMM" in the
            # heading supports a sentence that only says "läkarinsats".
            own = scorer.coverage(terms)
            coverage = max(own, 0.5 * own + 0.5 * scorer.coverage(terms | context))
            lacks_money = wants_money and not MONEY.search(sentence)
            lacks_number = wants_number and not NUMBER.search(
                STATUTE_REFERENCE.sub(" ", sentence))
            missed_types = [answers for _asks, answers in expected_types
                            if not answers.search(sentence)]
            if lacks_money:
                coverage *= 0.5  # a price question is not answered without an amount
            score = coverage * rank_weight(hit_index)
            if lacks_number:
                score *= 0.65  # "hur många", "när": the answer is a number or a date
            for _missed in missed_types:
                score *= 0.6
            if len(sentence) < 25 and not sentence.startswith(ITEM_PREFIX):
                score -= 0.2  # fragments ("Mål:") are rarely the answer; list items may be
            kind_ok = not (lacks_money or lacks_number or missed_types)
            scored.append(ScoredSentence(sentence, hit_index, position, coverage, score, terms,
                                         kind_ok, own))
    return sorted(scored, key=lambda sentence: -sentence.score)


def _choose(sentences: list[ScoredSentence], hits: list[SearchHit],
            max_chars: int, scorer: EvidenceScorer) -> list[ScoredSentence]:
    best = sentences[0]
    chunk_sentences = hits[best.hit_index].chunk.sentences()
    following = _next_sentence(chunk_sentences, best)
    if best.text.startswith(ITEM_PREFIX) or best.text.endswith((":", ";")) or (
            following is not None and following.startswith(ITEM_PREFIX)):
        listed = _list_around(chunk_sentences, best, max_chars)
        if listed:
            return listed
    chosen = [best]
    size = len(best.text)
    previous = chunk_sentences[best.position - 1] if best.position > 0 else None
    if previous is not None and REFERS_BACK.search(best.text) and \
            not previous.startswith(ITEM_PREFIX) and not previous.endswith(":") and \
            len(previous) >= 25 and size + len(previous) + 6 <= max_chars:
        # "… inom nämnda specialiteter": what it names stands in the sentence before.
        chosen.insert(0, ScoredSentence(previous, best.hit_index, best.position - 1,
                                        best.coverage, best.score))
        size += len(previous) + 6
    current = best
    while following is not None and _continues_answer(following, current, sentences):
        continued = ScoredSentence(following, best.hit_index, current.position + 1,
                                   best.coverage, best.score)
        after = _next_sentence(chunk_sentences, continued)
        if after is not None and after.startswith(ITEM_PREFIX):
            # "… kraven på en god vård uppfylls. Det innebär att vården särskilt ska" + items
            listed = _list_around(chunk_sentences, continued, max_chars - size - 6)
            if listed:
                return [*chosen, *listed]
        if size + len(following) + 6 > max_chars:
            break
        chosen.append(continued)
        size += len(following) + 6
        # Only what the continuation points to ("nedanstående …", "… är:") follows it.
        if not _points_ahead(following):
            break
        current, following = continued, after
    covered = frozenset().union(*(c.terms for c in chosen))
    base = scorer.coverage(covered)
    best_is_row = hits[best.hit_index].chunk.passage == "table-row"
    for sentence in sentences[1:8]:
        if sentence.text in {c.text for c in chosen} or size + len(sentence.text) + 6 > max_chars:
            continue
        if best_is_row and hits[sentence.hit_index].chunk.passage == "table-row":
            continue  # another row's numbers never join the answer a row gives
        # Close runners-up, or a sentence answering another part of the question.
        gain = scorer.coverage(covered | sentence.terms) - base
        if sentence.score >= 0.8 * best.score or (gain >= 0.15 and sentence.score >= 0.5 *
                                                    best.score):
            joining = [sentence]
            if sentence.text.startswith(ITEM_PREFIX) or sentence.text.endswith((":", ";")):
                # A list item means nothing without its lead-in: it joins with the lead-in and
                # the items that fit, or not at all. A lead-in says something by itself.
                held = {(c.hit_index, c.position) for c in chosen}
                joining = [s for s in _list_around(hits[sentence.hit_index].chunk.sentences(),
                                                   sentence, max_chars - size)
                           if (s.hit_index, s.position) not in held]
                if not joining and sentence.text.startswith(ITEM_PREFIX):
                    continue
                joining = joining or [sentence]
            chosen += joining
            size += sum(len(s.text) + 6 for s in joining)
            covered = covered.union(*(s.terms for s in joining))
            base = scorer.coverage(covered)
        if len(chosen) >= 3:
            break
    return sorted(chosen, key=lambda sentence: (sentence.hit_index, sentence.position))



def _next_sentence(chunk_sentences: list[str], sentence: ScoredSentence) -> str | None:
    position = sentence.position + 1
    return chunk_sentences[position] if position < len(chunk_sentences) else None


def _points_ahead(sentence: str) -> bool:
    """What the sentence says follows it: "… är:", "… nedanstående verksamheter"."""
    return sentence.endswith(":") or REFERS_FORWARD.search(sentence) is not None


def _continues_answer(following: str, best: ScoredSentence,
                      sentences: list[ScoredSentence]) -> bool:
    """The next sentence finishes the rule ("Maximalt utgår …", "Denna hänvisning …")."""
    if following.startswith(CONTINUATION) or _points_ahead(best.text) or \
            PRONOUN_SUBJECT.match(following):
        return True
    own = next((s for s in sentences if s.hit_index == best.hit_index
                and s.position == best.position + 1), None)
    return own is not None and own.coverage >= 0.6 * best.coverage


def _list_around(chunk_sentences: list[str], best: ScoredSentence,
                 max_chars: int) -> list[ScoredSentence]:
    """A list answer: the lead-in and its items, as far as they fit."""
    start = best.position
    while start > 0 and chunk_sentences[start].startswith(ITEM_PREFIX):
        start -= 1
    if chunk_sentences[start].startswith(ITEM_PREFIX):
        return []
    chosen: list[ScoredSentence] = []
    size = 0
    for position in range(start, len(chunk_sentences)):
        text = chunk_sentences[position]
        if position > start and not text.startswith(ITEM_PREFIX):
            break
        if size + len(text) + 6 > max_chars:
            break
        chosen.append(ScoredSentence(text, best.hit_index, position, best.coverage, best.score))
        size += len(text) + 6
    return chosen if len(chosen) > 1 else []


def _compose(question: str, language: Language, chosen: list[ScoredSentence],
             hits: list[SearchHit], citations_k: int) -> Answer:
    numbers: dict[int, int] = {}
    quotes: dict[int, list[str]] = {}
    for sentence in chosen:
        if sentence.hit_index not in numbers and len(numbers) >= citations_k:
            continue
        numbers.setdefault(sentence.hit_index, len(numbers) + 1)
        quotes.setdefault(sentence.hit_index, []).append(sentence.text)
    lines: list[str] = []
    kept = [sentence for sentence in chosen if sentence.hit_index in numbers]
    for position, sentence in enumerate(kept):
        following = kept[position + 1] if position + 1 < len(kept) else None
        # One marker per run of sentences from the same passage, after its last sentence.
        same_run = following is not None and following.hit_index == sentence.hit_index
        marker = "" if same_run else f" [{numbers[sentence.hit_index]}]"
        lines.append(f"{sentence.text}{marker}")
    body = _join_lines(lines)
    text = f"{load_prompt('answer_lead_en')}\n{body}" if language == "en" else body
    citations = [citation(number, hits[index], verbatim_span(hits[index].chunk.text,
                                                              quotes[index]))
                 for index, number in sorted(numbers.items(), key=lambda item: item[1])]
    return Answer(question=question, answer=text, refused=False, language=language,
                  citations=citations)


def verbatim_span(text: str, sentences: list[str]) -> str:
    """The passage text from the first quoted sentence to the end of the last, exactly as it
    stands in the document (so it can be found and highlighted there)."""
    starts = [(text.find(sentence), sentence) for sentence in sentences]
    found = [(start, sentence) for start, sentence in starts if start >= 0]
    if not found:
        return " ".join(sentences)
    first = min(start for start, _ in found)
    last = max(start + len(sentence) for start, sentence in found)
    return text[first:last]


def _join_lines(lines: list[str]) -> str:
    joined = ""
    for line in lines:
        separator = "\n" if line.startswith(ITEM_PREFIX) or joined.endswith(":") else " "
        joined = f"{joined}{separator}{line}" if joined else line
    return joined


def is_plain_refusal(answer: Answer) -> bool:
    """Refused for want of evidence, not as a near-miss or a region or statute not there."""
    return answer.refused and answer.answer == load_prompt(f"refusal_{answer.language}")


def refusal(question: str, language: Language, hits: list[SearchHit],
            citations_k: int) -> Answer:
    nearest = [citation(n, hit, preview(hit.chunk))
               for n, hit in enumerate(hits[:citations_k], start=1)]
    return Answer(question=question, answer=load_prompt(f"refusal_{language}"), refused=True,
                  language=language, nearest=nearest)


def _unmet(constraints: list[Constraint], sentence: ScoredSentence,
           chunk: Chunk) -> Constraint | None:
    """The first kind of constraint (region, year, month …) none of whose asked values the
    sentence, its passage or its document meets; "januari–mars" is met by a January figure."""
    for kind in NEAR_MISS_KINDS:
        asked = [c for c in constraints if c.kind == kind]
        if asked and not any(satisfied(c, sentence.text, chunk) for c in asked):
            return asked[0]
    return None


def _only_from_sources(chosen: list[ScoredSentence], constraints: list[Constraint],
                       hits: list[SearchHit]) -> list[ScoredSentence]:
    """Only the statutes asked as the source answer: "enligt HSL" is not answered with a
    region's rule beside the law's (the first sentence already meets the constraint)."""
    sources = {c.value for c in constraints if c.kind == "source"}
    if not sources:
        return chosen
    return [s for s in chosen if hits[s.hit_index].chunk.document in sources] or chosen


def _meeting_what_the_lead_meets(chosen: list[ScoredSentence], lead: ScoredSentence,
                                 constraints: list[Constraint],
                                 hits: list[SearchHit]) -> list[ScoredSentence]:
    """The sentences of other passages than the lead's only where they meet the question's
    constraints too: asked what the patient board may decline, the answer that leads with
    the board's rule does not go on with IVO's ("IVO får avstå … två år"). The lead's own
    passage stays whole (its list items name nothing by themselves)."""
    return [s for s in chosen if s.hit_index == lead.hit_index or
            _unmet(constraints, s, hits[s.hit_index].chunk) is None]


def _best_from_source(only_kinds: list[OnlyAnsweredBy], constraints: list[Constraint],
                      sentences: list[ScoredSentence], hits: list[SearchHit],
                      needed: float) -> ScoredSentence | None:
    """The best sentence of a statute the question asks as its source ("enligt HSL" limits
    the question to HSL, wherever its passage ranks), when it is evidence on its own."""
    for sentence in sentences:
        chunk = hits[sentence.hit_index].chunk
        if sentence.coverage >= needed and _unmet(constraints, sentence, chunk) is None and \
                gives_what_is_asked(only_kinds, sentence.text):
            return sentence
    return None


def _from_asked_paragraph(constraints: list[Constraint], unmet: Constraint,
                          sentences: list[ScoredSentence],
                          hits: list[SearchHit]) -> ScoredSentence | None:
    """"Vad säger 2 kap. 2 § PSL?": the paragraph asked for by number answers from its own
    best sentence, however few of the question's words it shares ("säger" matches the
    "som sägs i" of any paragraph citing another)."""
    return next((sentence for sentence in sentences
                 if is_paragraph_asked(unmet, hits[sentence.hit_index].chunk)
                 and sentence.kind_ok
                 and _unmet(constraints, sentence, hits[sentence.hit_index].chunk) is None),
                None)


def _meeting_constraints(constraints: list[Constraint], unmet: Constraint,
                         sentences: list[ScoredSentence], hits: list[SearchHit],
                         only_kinds: list[OnlyAnsweredBy]) -> ScoredSentence | None:
    """A sentence scoring nearly as well as the best that itself states what the best lacks
    (the January figure when the best gives April's), meets every other constraint, and
    gives what only answers the question (an amount, when the amount is asked)."""
    top = sentences[0]
    for sentence in sentences[1:]:
        if sentence.score < MEETING_SHARE * top.score:
            return None
        chunk = hits[sentence.hit_index].chunk
        if sentence.kind_ok and gives_what_is_asked(only_kinds, sentence.text) and \
                states(unmet, sentence.text, chunk) and \
                _unmet(constraints, sentence, chunk) is None:
            return sentence
    return None


def near_miss(question: str, language: Language, hits: list[SearchHit], best: ScoredSentence,
              citations_k: int, missing: str) -> Answer:
    """The documents answer a neighbouring question: say what is missing, show what is there,
    and refuse (the passage is the nearest, never a citation)."""
    hit = hits[best.hit_index]
    lead = render(f"near_miss_{language}", missing=missing)
    others = [h for n, h in enumerate(hits[:citations_k]) if n != best.hit_index]
    nearest = [citation(1, hit, best.text)] + [
        citation(n, other, preview(other.chunk))
        for n, other in enumerate(others[:max(0, citations_k - 1)], start=2)]
    return Answer(question=question, answer=f"{lead} {best.text} [1]", refused=True,
                  language=language, nearest=nearest)


def unknown_region_refusal(question: str, language: Language, hits: list[SearchHit],
                           snapshot: Snapshot, citations_k: int, asked: Constraint) -> Answer:
    """A region the documents do not cover: say so, and which regions they do cover."""
    regions = ", ".join(region for region in corpus_regions(snapshot.document_heads())
                        if region in REGIONS)  # the statutes' "Nationell" is no region
    text = render(f"unknown_region_{language}", asked=asked.value, regions=regions)
    return _not_in_documents(question, language, hits, citations_k, text)


def _not_in_documents(question: str, language: Language, hits: list[SearchHit],
                      citations_k: int, text: str) -> Answer:
    nearest = [citation(n, hit, preview(hit.chunk))
               for n, hit in enumerate(hits[:citations_k], start=1)]
    return Answer(question=question, answer=text, refused=True, language=language,
                  nearest=nearest)


def citation(n: int, hit: SearchHit, quote: str) -> Citation:
    """The citation of `quote`: the page (and Word paragraph) where the quote begins."""
    chunk = hit.chunk
    offset = max(chunk.text.find(quote), 0)
    page = chunk.page_at(offset)
    lines = f"{chunk.line_start}–{chunk.line_end}" if chunk.line_start and \
        not chunk.paragraph_spans else ""
    return Citation(n=n, document=chunk.document, title=chunk.title, region=chunk.region,
                    section=chunk.section, heading=chunk.heading, page=page, lines=lines,
                    quote=quote, chunk_id=chunk.chunk_id, score=hit.score,
                    ocr=page is not None and page in chunk.ocr_pages,
                    paragraph=chunk.paragraph_at(offset))


def preview(chunk: Chunk, limit: int = 240) -> str:
    text = chunk.text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
