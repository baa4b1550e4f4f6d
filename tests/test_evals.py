"""The eval suite: case files, pattern rules, metrics, the gate, reports, and real runs."""

from __future__ import annotations

import hashlib
import json
import textwrap
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from evals.authoring import build_v2, check_sources
from evals.cases import (
    DEFAULT_CASES_DIR,
    GROUPS,
    V2_CASES_DIR,
    Case,
    CaseFileError,
    load_cases,
    matches,
)
from evals.metrics import (
    CaseResult,
    SplitGate,
    Thresholds,
    check_split_gate,
    check_thresholds,
    first_rank,
    load_thresholds,
    number_tokens,
    percentile,
    retrieval_scores,
    score_case,
    summarize,
    unsupported_numbers,
)
from evals.report import markdown, write_reports
from evals.runner import EvalRun, apply_gate, cli_main, resolve_cases, run_eval, split_summaries
from evals.split import case_split, select, split_of
from rag.models import Answer, Chunk, Citation

DOC = "region_riktlinje"


# --- helpers ---------------------------------------------------------------------------------

def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def case(**fields) -> Case:
    base = {"id": "bmm-lakartid", "question": "Hur mycket läkartid ska BMM ha?",
            "kind": "number",
            "expect": {"facts": ["3 timmar|tre timmar", "100 inskrivna gravida"],
                       "source": {"document": DOC, "contains": "per vecka för 100 inskrivna"}}}
    return Case.model_validate({**base, **fields})


def chunk(text: str, document: str = DOC, chunk_id: str = "c1") -> Chunk:
    return Chunk(chunk_id=chunk_id, document=document, title="Riktlinje", text=text,
                 content_hash=chunk_id)


BMM = "Läkare ska finnas 3 timmar per vecka för 100 inskrivna gravida kvinnor."


def answer(text: str, quote: str = BMM, document: str = DOC, refused: bool = False) -> Answer:
    citations = [] if refused else [Citation(
        n=1, document=document, title="Riktlinje", region="", section="2.1", page=None,
        quote=quote, chunk_id="c1", score=0.5)]
    return Answer(question="?", answer=text, refused=refused, citations=citations)


def scored(the_case: Case, the_answer: Answer, rank: int | None = 1,
           texts: dict[str, str] | None = None) -> CaseResult:
    lookup = texts if texts is not None else {"c1": BMM}
    return score_case(the_case, the_answer, rank=rank, ranks={"hybrid": rank},
                      chunk_text=lookup.get, latency_ms=12.0)


# --- case files ------------------------------------------------------------------------------

def test_shipped_cases_are_valid_and_cover_the_issue():
    cases = load_cases(DEFAULT_CASES_DIR)
    assert len(cases) >= 60
    assert len({c.id for c in cases}) == len(cases)
    assert sum(c.kind == "refuse" for c in cases) >= 10
    assert sum(c.language == "en" for c in cases) >= 5
    assert len({c.document for c in cases if c.answerable}) >= 5  # and the statutes


# --- v2: facts, groups and the split ---------------------------------------------------------

@pytest.fixture(scope="module")
def v2_cases() -> list[Case]:
    return load_cases(V2_CASES_DIR)


def test_split_is_the_seeded_formula_by_fact(v2_cases):
    for fact in ("varmland-bvc-lakarinsats", "hsl-avgiftsfritt-85", "x"):
        digest = int(hashlib.sha256(f"styrdok-split-v1:{fact}".encode()).hexdigest(), 16)
        assert split_of(fact) == ("test" if digest % 2 else "dev")
    splits: dict[str, set[str]] = {}
    for c in v2_cases:
        splits.setdefault(c.fact, set()).add(case_split(c))
    assert all(len(found) == 1 for found in splits.values())  # no fact straddles the split
    test_share = sum(found == {"test"} for found in splits.values()) / len(splits)
    assert 0.35 < test_share < 0.65
    assert len(select(v2_cases, "dev")) + len(select(v2_cases, "test")) == len(v2_cases)


def test_v2_cases_cover_the_issue(v2_cases):
    assert len(v2_cases) >= 400
    groups = {c.group for c in v2_cases}
    assert groups >= {"document-wording", "staff-wording", "no-diacritics", "typo", "english",
                      "near-miss"}
    for split in ("dev", "test"):  # every gated group can be judged on both splits
        assert {c.group for c in select(v2_cases, split)} >= groups
    near = [c for c in v2_cases if c.group == "near-miss"]
    assert len(near) >= 80 and all(c.note and c.kind == "refuse" for c in near)
    answerable_facts = {c.fact for c in v2_cases if c.answerable}
    assert {c.fact for c in near} <= answerable_facts  # each tied to the fact it came from
    documents = {c.document for c in v2_cases if c.answerable}
    assert len(documents) == 8  # five regional documents and three statutes
    assert not {c.id for c in v2_cases} & {c.id for c in load_cases(DEFAULT_CASES_DIR)}
    for file in V2_CASES_DIR.glob("*.yaml"):  # v2 cases name their fact and group
        for entry in yaml.safe_load(file.read_text(encoding="utf-8")):
            assert entry.get("fact") and entry.get("group") in GROUPS, entry["id"]


def test_v2_no_diacritics_phrasings_have_none(v2_cases):
    plain = [c for c in v2_cases if c.group == "no-diacritics"]
    assert plain and not any(set(c.question) & set("åäöÅÄÖ") for c in plain)


def test_generated_v2_files_are_current():
    for name, text in build_v2.outputs().items():
        assert (V2_CASES_DIR / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run python -m evals.authoring.build_v2")


def test_v2_sources_and_facts_are_in_the_documents(v2_cases):
    corpora = [Path("corpus"), Path("/work/shared/corpus-national")]
    texts: dict[str, tuple[str, str | None]] = {}
    checked = 0
    for c in v2_cases:
        if not c.answerable:
            continue
        if c.document not in texts:
            path = check_sources.find_document(c.document, corpora)
            raw = check_sources.raw_text(path) if path and path.suffix == ".md" else None
            texts[c.document] = (check_sources.document_text(path) if path else "", raw)
        text, raw = texts[c.document]
        if text:
            assert check_sources.problems(c, text, raw) == [], c.id
            checked += 1
    assert checked >= 300  # at least the regional documents are always in corpus/
    broken = c.model_copy(update={"expect": c.expect.model_copy(update={"facts": ["9 999 kr"]})})
    assert check_sources.problems(broken, *texts[c.document])


def test_legacy_cases_get_fact_and_group_from_id_kind_language_and_tags():
    legacy = {c.id: c for c in load_cases(DEFAULT_CASES_DIR)}
    # The as-of cases (evals/cases/versions.yaml) and the statute case that shares a v2 fact
    # (evals/cases/statutes.yaml) name their facts; the rest default to the id.
    named = {"hsl-hogkostnadsskydd-oppenvard": "hsl-hogkostnadsskydd"}
    assert all(c.fact == named.get(c.id, c.id) for c in legacy.values() if c.group != "as-of")
    assert legacy["refuse-parkering"].group == "unanswerable"
    assert legacy["varmland-bmm-lakartid-en"].group == "english"
    assert legacy["varmland-bmm-lakartid-typo"].group == "typo"
    assert legacy["varmland-bvc-lakartid-staff"].group == "staff-wording"
    assert legacy["varmland-bmm-lakartid"].group == "document-wording"


@pytest.mark.parametrize(("fields", "expected"), [
    ({"group": "slang"}, "field 'group'"),
    ({"group": "near-miss"}, "must have kind 'refuse'"),
    ({"kind": "refuse", "expect": {}, "group": "near-miss"}, "field 'note'"),
    ({"kind": "refuse", "expect": {}, "group": "english"}, "cannot be in group 'english'"),
    ({"fact": "Not A Slug"}, "field 'fact'"),
])
def test_bad_fact_or_group_is_named(tmp_path, fields, expected):
    entry = {"id": "x-case", "question": "Fråga?", "kind": "fact",
             "expect": {"facts": ["a"], "source": {"document": "d"}}, **fields}
    write(tmp_path / "c.yaml", yaml.safe_dump([entry], allow_unicode=True))
    with pytest.raises(CaseFileError, match="case 'x-case'") as raised:
        load_cases(tmp_path)
    assert expected in str(raised.value)


def test_case_sets_resolve_and_pick_their_gate(tmp_path):
    assert resolve_cases(None) == (DEFAULT_CASES_DIR, "legacy")
    assert resolve_cases("v2") == (V2_CASES_DIR, "v2")
    assert resolve_cases(V2_CASES_DIR / "vgr.yaml")[1] == "v2"
    assert resolve_cases(tmp_path)[1] == str(tmp_path)


@pytest.mark.parametrize(("body", "expected"), [
    ("""\
     - id: ok-case
       question: Fråga?
       kind: refuse
       expect: {}
     - id: no-question
       kind: fact
       expect: {facts: [x], source: {document: d}}
     """, ["case 'no-question'", "field 'question'"]),
    ("""\
     - id: bad-kind
       question: Fråga?
       kind: guess
     """, ["case 'bad-kind'", "field 'kind'"]),
    ("""\
     - id: bad-regex
       question: Fråga?
       kind: fact
       expect: {facts: ["re:(3 timmar"], source: {document: d}}
     """, ["case 'bad-regex'", "field 'expect.facts", "invalid regular expression"]),
    ("""\
     - question: Fråga utan id?
       kind: refuse
     """, ["case #1", "field 'id'"]),
    ("""\
     - id: refuse-with-facts
       question: Fråga?
       kind: refuse
       expect: {facts: [x]}
     """, ["case 'refuse-with-facts'", "field 'expect'"]),
    ("""\
     - id: no-source
       question: Fråga?
       kind: number
       expect: {facts: ["3 timmar"]}
     """, ["case 'no-source'", "field 'expect.source'"]),
    ("""\
     - id: typo-field
       question: Fråga?
       kind: fact
       expect: {facts: [x], source: {documnet: d}}
     """, ["case 'typo-field'", "field 'expect.source.documnet'"]),
])
def test_broken_case_names_file_case_and_field(tmp_path, body, expected):
    path = write(tmp_path / "broken.yaml", body)
    with pytest.raises(CaseFileError) as raised:
        load_cases(tmp_path)
    message = str(raised.value)
    assert str(path) in message
    for part in expected:
        assert part in message
    assert "\n" not in message


def test_yaml_syntax_error_and_duplicate_ids_name_the_files(tmp_path):
    bad = write(tmp_path / "a.yaml", "- id: x\n  question: a: b\n")
    with pytest.raises(CaseFileError, match="invalid YAML at line 2") as raised:
        load_cases(bad)
    assert str(bad) in str(raised.value) and "\n" not in str(raised.value)

    one = "- {id: same-id, question: Varför, kind: refuse, expect: {}}\n"
    first = write(tmp_path / "a.yaml", one)
    second = write(tmp_path / "b.yaml", one)
    with pytest.raises(CaseFileError, match="duplicate id") as raised:
        load_cases(tmp_path)
    assert str(first) in str(raised.value) and str(second) in str(raised.value)


# --- patterns and numbers ---------------------------------------------------------------------

def test_pattern_rules():
    assert matches("3 timmar|tre timmar", "Läkare finns TRE TIMMAR per vecka")
    assert not matches("3 timmar|tre timmar", "Läkare finns 4 timmar per vecka")
    # whitespace in the text (line breaks, NBSP) is collapsed before matching
    assert matches("50 000 kr/brist", "högst 50\u00a0000\n kr/brist")
    # literals are literal: "." is not a wildcard, "/" and "-" need no escaping
    assert matches("3.51-27270/2024", "dnr 3.51-27270/2024")
    assert not matches("3.51-27270/2024", "dnr 3x51-27270/2024")
    assert matches(r"re:\b23\s*(–|-|och)\s*64\b", "kvinnor mellan 23 och 64 års ålder")
    assert not matches(r"re:^64", "23–64")


def test_number_extraction_normalises_and_ignores_markers():
    text = "Vite högst 50 000 kr/brist [1], 94,7 % och 2023-01-01 [2, 3]; år 2019 100 000"
    assert number_tokens(text) == ["50000", "94.7", "2023-01-01", "2019", "100000"]


def test_unsupported_numbers():
    assert unsupported_numbers("3 timmar [1]", ["Läkare ska finnas tre timmar."]) == ["3"]
    assert unsupported_numbers("3 timmar [1]", ["Läkare ska finnas 3 timmar."]) == []
    assert unsupported_numbers("högst 50 000 kr", ["högst 50000 kr"]) == []
    assert unsupported_numbers("gäller från 2023", ["gäller 2023-01-01"]) == []
    assert unsupported_numbers("95,4 % och 96 %", ["mars 95, 4 %", "95,4 %"]) == ["96"]


# --- per-case scoring -------------------------------------------------------------------------

def test_correct_answer_passes():
    result = scored(case(), answer(f"{BMM} [1]"))
    assert result.passed, result.failures
    assert result.facts_ok and result.citation_ok and result.unsupported == []


def test_unsupported_number_fails_a_case_with_right_facts():
    result = scored(case(expect={"facts": ["timmar"], "source": {"document": DOC}}),
                    answer("Läkare ska finnas 3 timmar per vecka [1]", quote="tre timmar"),
                    texts={"c1": "Läkare ska finnas tre timmar per vecka."})
    assert result.unsupported == ["3"]
    assert not result.passed


def test_long_answer_fails_facts_but_counts_as_present():
    result = scored(case(), answer(f"{BMM} [1] " + "Utfyllnad. " * 80))
    assert result.facts_any_length and not result.facts_ok and not result.passed


def test_citation_must_come_from_expected_document_and_passage():
    wrong_doc = scored(case(), answer(f"{BMM} [1]", document="annat_dokument"))
    assert not wrong_doc.citation_ok
    # the quote lacks the phrase but the cited chunk's full text has it
    via_chunk = scored(case(), answer(f"{BMM} [1]", quote="Läkare ska finnas 3 timmar"))
    assert via_chunk.citation_ok
    neither = scored(case(), answer(f"{BMM} [1]", quote="Läkare ska finnas 3 timmar"),
                     texts={})
    assert not neither.citation_ok


def test_refusals():
    refuse_case = case(id="refuse-parkering", kind="refuse", expect={})
    assert scored(refuse_case, answer("Det framgår inte.", refused=True), rank=None).passed
    wrong = scored(refuse_case, answer(f"{BMM} [1]"), rank=None)
    assert not wrong.passed and "vägrade inte" in wrong.failures[0]
    false_refusal = scored(case(), answer("Det framgår inte.", refused=True))
    assert not false_refusal.passed and "vägrade felaktigt" in false_refusal.failures


def test_first_rank_needs_document_and_phrase():
    ranked = [chunk("3 timmar per vecka för 100 inskrivna", document="other", chunk_id="a"),
              chunk("Något annat", chunk_id="b"),
              chunk("Läkare 3 timmar per\nvecka för 100 inskrivna gravida", chunk_id="c")]
    assert first_rank(ranked, case()) == 3
    assert first_rank(ranked[:2], case()) is None


def test_retrieval_math():
    scores = retrieval_scores([1, 2, None, 5, 6])
    assert scores.hit_at_1 == 0.2
    assert scores.hit_at_5 == 0.6
    assert scores.mrr == pytest.approx((1 + 1 / 2 + 1 / 5 + 1 / 6) / 5, abs=1e-4)
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([float(v) for v in range(1, 101)], 95) == pytest.approx(95.05, abs=0.1)


def test_summary_rates():
    refuse_case = case(id="refuse-x", kind="refuse", expect={})
    results = [scored(case(), answer(f"{BMM} [1]"), rank=1),
               scored(case(id="b"), answer("Det framgår inte.", refused=True), rank=7),
               scored(refuse_case, answer("Det framgår inte.", refused=True), rank=None),
               scored(refuse_case.model_copy(update={"id": "refuse-y"}), answer("Svar 9"),
                      rank=None)]
    summary = summarize(results)
    assert (summary.cases, summary.answerable, summary.passed) == (4, 2, 2)
    assert summary.fact_accuracy == 0.5
    assert summary.false_refusal_rate == 0.5
    assert summary.refusal_accuracy == 0.5
    assert summary.unsupported_numbers == 1  # "9" in an answer citing no such number
    assert summary.retrieval["hybrid"].hit_at_5 == 0.5


# --- the gate ---------------------------------------------------------------------------------

def test_shipped_thresholds_are_the_issue_figures():
    thresholds = load_thresholds()
    assert thresholds.minimum == {"fact_accuracy": 0.90, "hit_at_5": 0.95, "mrr": 0.85,
                                  "citation_accuracy": 0.95, "refusal_accuracy": 1.0}
    assert thresholds.maximum == {"false_refusal_rate": 0.05, "unsupported_numbers": 0}


def test_check_thresholds():
    thresholds = Thresholds.model_validate({"min": {"fact_accuracy": 0.9, "refusal_accuracy": 1},
                                            "max": {"unsupported_numbers": 0}})
    summary = summarize([scored(case(), answer(f"{BMM} [1]"))])
    assert check_thresholds(summary, thresholds) == []  # refusal_accuracy: no cases, not judged
    failing = summary.model_copy(update={"fact_accuracy": 0.89, "unsupported_numbers": 2})
    failures = check_thresholds(failing, thresholds)
    assert len(failures) == 2
    assert failures[0].startswith("fact_accuracy 0.89 < 0.9")
    assert failures[1].startswith("unsupported_numbers 2 > 0")
    with pytest.raises(ValueError, match="unknown metric"):
        Thresholds.model_validate({"min": {"fact_acuracy": 0.9}})


# --- reports ----------------------------------------------------------------------------------

class TagChecker(HTMLParser):
    VOID = frozenset({"meta", "br", "link", "img", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.extend(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def grouped_result(fact: str, group: str, good: bool) -> CaseResult:
    if group == "near-miss":
        the_case = case(id=f"{fact}-{group}", fact=fact, group=group, kind="refuse",
                        expect={}, note="profession changed")
        return scored(the_case, answer("Det framgår inte.", refused=good), rank=None)
    the_case = case(id=f"{fact}-{group}", fact=fact, group=group)
    return scored(the_case, answer(f"{BMM} [1]" if good else "Fel svar 7 [1]"))


def test_split_gate_judges_only_its_split_and_each_group():
    test_fact = next(f"fact-{n}" for n in range(100) if split_of(f"fact-{n}") == "test")
    dev_fact = next(f"fact-{n}" for n in range(100) if split_of(f"fact-{n}") == "dev")
    results = [grouped_result(test_fact, "document-wording", True),
               grouped_result(test_fact, "staff-wording", True),
               grouped_result(test_fact, "typo", False),
               grouped_result(test_fact, "no-diacritics", True),
               grouped_result(test_fact, "english", True),
               grouped_result(test_fact, "near-miss", True),
               grouped_result(dev_fact, "english", False)]  # dev: never judged
    gate = load_thresholds().v2
    assert gate is not None and gate.split == "test"
    failures = check_split_gate(results, gate)
    # typo fails, no-diacritics passes: their union is 1/2 < 0.80
    assert any(f.startswith("test/no-diacritics+typo: fact_accuracy 0.5 <") for f in failures)
    assert any(f.startswith("test: fact_accuracy") for f in failures)  # 4/5 < 0.85
    assert not any("english" in f or "near-miss" in f for f in failures)
    # a gate that reads nothing fails instead of passing
    assert check_split_gate([r for r in results if r.split == "dev"], gate) == [
        "test: no cases of this split were run"]
    missing = check_split_gate([r for r in results if r.group != "english"], gate)
    assert "test/english: no cases" in missing
    with pytest.raises(ValueError, match="unknown group"):
        SplitGate.model_validate({"groups": {"engelska": {"min": {"fact_accuracy": 0.8}}}})

    splits, groups = split_summaries(results, scopes=["english", "no-diacritics+typo"])
    assert set(splits) == {"dev", "test"} and splits["dev"].cases == 1
    assert groups["test"]["no-diacritics+typo"].fact_accuracy == 0.5
    assert groups["all"]["english"].cases == 2


def test_shipped_v2_gate_is_the_issue_figures():
    gate = load_thresholds().v2
    assert gate is not None and gate.split == "test"
    assert gate.minimum == {"fact_accuracy": 0.85, "citation_accuracy": 0.90}
    assert gate.maximum == {"false_refusal_rate": 0.05, "unsupported_numbers": 0}
    assert {scope: limits.minimum for scope, limits in gate.groups.items()} == {
        "near-miss": {"refusal_accuracy": 0.90}, "staff-wording": {"fact_accuracy": 0.80},
        "no-diacritics+typo": {"fact_accuracy": 0.80}, "english": {"fact_accuracy": 0.80}}


def test_report_shows_dev_and_test_side_by_side_per_group():
    results = [grouped_result(f"fact-{n}", group, n % 3 != 0)
               for n in range(6) for group in ("staff-wording", "english", "near-miss")]
    splits, groups = split_summaries(results)
    run = EvalRun(created="2025-01-01T00:00:00+00:00", embedder="test", llm_provider="none",
                  seconds=1.0, summary=summarize(results), results=results, splits=splits,
                  groups=groups, case_set="v2")
    run = apply_gate(run, load_thresholds(), "v2")
    text = markdown(run)
    assert "### Dev och test sida vid sida" in text and "### Per grupp" in text
    assert f"dev ({splits['dev'].cases} fall)" in text
    assert f"test ({splits['test'].cases} fall)" in text
    assert "| near-miss |" in text and "v2-grinden (test-delen)" in text
    assert "Under tröskel" in text  # english and staff-wording miss 0.80 on some split


def hostile_run() -> EvalRun:
    nasty = "<script>alert('x')</script> a|b & \"c\""
    results = [scored(case(question=nasty), answer(f"{BMM} [1] {nasty}", quote=BMM)),
               scored(case(id="missing", question=nasty), answer("Inget här [1]"), rank=None)]
    run = EvalRun(created="2025-01-01T00:00:00+00:00", embedder="test", llm_provider="none",
                  seconds=1.0, summary=summarize(results), results=results,
                  documents={DOC: summarize(results)})
    return apply_gate(run, load_thresholds())


def test_reports_are_valid_and_escape_text(tmp_path):
    run = hostile_run()
    paths = write_reports(run, tmp_path / "eval")
    assert sorted(path.name for path in paths) == ["junit.xml", "report.html", "report.json",
                                                    "report.md"]
    page = (tmp_path / "eval" / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    assert not checker.tags & {"script", "link", "img", "iframe"}
    assert not any(name in {"src", "href"} for name, _ in checker.attributes)

    suites = ET.parse(tmp_path / "eval" / "junit.xml").getroot()
    cases = suites.findall("./testsuite[@name='styrdok-eval']/testcase")
    assert [c.get("name") for c in cases] == ["bmm-lakartid", "missing"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and "fakta saknas" in failure.get("message", "")
    gate = suites.find("./testsuite[@name='styrdok-eval-gate']/testcase/failure")
    assert gate is not None and "fact_accuracy" in gate.get("message", "")

    data = json.loads((tmp_path / "eval" / "report.json").read_text(encoding="utf-8"))
    assert data["summary"]["cases"] == 2 and data["thresholds"]["min"]["hit_at_5"] == 0.95
    assert EvalRun.model_validate(data).results[0].question.startswith("<script>")

    text = markdown(run)
    assert "<script>" not in text and "a\\|b" in text
    assert "ej bland topp 10" in text  # the failed case's rank


# --- real runs through the service ------------------------------------------------------------

GUIDE = """\
1 Läkarinsatser på barnmorskemottagning

Barnmorskemottagningen (BMM) ska ha tillgång till läkare 3 timmar per vecka för 100
inskrivna gravida kvinnor. Läkaren ska vara specialist i obstetrik och gynekologi.

2 Jourcentral

Jourcentral ska finnas 8 timmar under lördagar, söndagar och helgdagar. Jourcentralen
tar emot patienter med akuta besvär som inte kan vänta till vardag.
"""

CASES = f"""\
- id: guide-bmm
  question: Hur mycket läkartid ska BMM ha per vecka?
  kind: number
  expect:
    facts: ["3 timmar|tre timmar", "100 inskrivna gravida"]
    source: {{document: {DOC}, contains: "3 timmar per vecka för 100"}}
- id: guide-jourcentral
  question: Hur många timmar ska jourcentral finnas under lördagar och söndagar?
  kind: number
  expect:
    facts: ["8 timmar"]
    source: {{document: {DOC}, contains: "Jourcentral ska finnas 8 timmar"}}
- id: guide-refuse
  question: Vad kostar det att parkera vid sjukhuset i Göteborg?
  kind: refuse
  expect: {{}}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("evals")
    corpus = root / "corpus"
    corpus.mkdir()
    write(corpus / f"{DOC}.txt", GUIDE)
    cases = write(root / "cases.yaml", CASES)
    from rag.settings import Settings

    return Settings(data_dir=root / "data", corpus_dir=corpus), cases


@pytest.mark.slow
def test_cli_main_ingests_runs_and_gates(tiny, tmp_path, capsys):
    settings, cases_path = tiny
    report_dir = tmp_path / "reports"
    code = cli_main(settings, cases_path, report_dir, baseline=False)
    out = capsys.readouterr().out
    data = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    results = {result["id"]: result for result in data["results"]}
    assert results["guide-bmm"]["ranks"]["hybrid"] == 1
    assert results["guide-bmm"]["passed"], results["guide-bmm"]["failures"]
    assert results["guide-refuse"]["answer"]["refused"]
    assert code == 0, out  # every case passes, so the gate passes
    assert "hit@5" in out and "BM25" in out

    # a case whose fact is not in the document drops fact accuracy below the gate
    broken = write(tmp_path / "broken.yaml", CASES.replace('["8 timmar"]', '["9 timmar"]'))
    assert cli_main(settings, broken, tmp_path / "again", baseline=False) == 1
    # and a broken case file is reported, not run
    invalid = write(tmp_path / "invalid.yaml", "- id: x\n  kind: fact\n")
    assert cli_main(settings, invalid, tmp_path / "never", baseline=False) == 2
    assert "field 'question'" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()


@pytest.mark.slow
def test_run_eval_and_baseline_on_real_components(tiny):
    from evals.baseline import run_baseline
    from ingest.service import Styrdok

    settings, cases_path = tiny
    cases = load_cases(cases_path)
    service = Styrdok(settings)
    service.ingest([settings.corpus_dir])
    run = run_eval(service, cases, progress=False)
    assert run.summary.cases == 3 and run.summary.answerable == 2
    assert set(run.summary.retrieval) == {"hybrid", "bm25", "dense"}
    assert run.results[0].expected_passage is not None
    assert "3 timmar per vecka" in " ".join(run.results[0].expected_passage.split())

    baseline = run_baseline(cases, settings.corpus_dir, progress=False)
    assert baseline.chunks >= 1
    assert baseline.summary.false_refusal_rate == 0.0  # never refuses
    assert baseline.summary.refusal_accuracy == 0.0
    assert baseline.summary.hit_at_5 == 1.0  # the whole guide fits in two chunks
    for result in baseline.results:
        assert result.answer.answer == result.answer.citations[0].quote
