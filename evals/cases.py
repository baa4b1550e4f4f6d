"""Eval cases as YAML files: loading, validation and the pattern language of `expect`.

A pattern is either literal alternatives separated by "|" ("3 timmar|tre timmar") or, with
the prefix "re:", a Python regular expression. Matching is case-insensitive and runs on text
whose whitespace (including no-break spaces) is collapsed to single spaces.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CASES_DIR = Path(__file__).parent / "cases"
V2_CASES_DIR = DEFAULT_CASES_DIR / "v2"
# Every case belongs to one of these groups (BRIEF.md, eval-case convention).
GROUPS = ("document-wording", "staff-wording", "no-diacritics", "typo", "english", "near-miss",
          "unanswerable", "follow-up", "as-of", "compare")
Group = Literal["document-wording", "staff-wording", "no-diacritics", "typo", "english",
                "near-miss", "unanswerable", "follow-up", "as-of", "compare"]
UNANSWERABLE_GROUPS = frozenset({"near-miss", "unanswerable"})
_WHITESPACE = re.compile(r"\s+")


class CaseFileError(Exception):
    """A case file that cannot be used; the message names the file, the case and the field."""


def normalize(text: str) -> str:
    """Collapse every run of whitespace (NBSP and narrow NBSP too) to one space."""
    return _WHITESPACE.sub(" ", text.replace("\u00ad", "")).strip()


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The regex a case pattern stands for; raises ValueError for an empty or bad pattern."""
    if pattern.startswith("re:"):
        source = pattern[3:]
        if not source.strip():
            raise ValueError("empty regular expression after 're:'")
        try:
            return re.compile(source, re.IGNORECASE)
        except re.error as error:
            raise ValueError(f"invalid regular expression {source!r}: {error}") from error
    alternatives = [normalize(part) for part in pattern.split("|")]
    if not all(alternatives):
        raise ValueError(f"empty alternative in {pattern!r}")
    return re.compile("|".join(re.escape(part) for part in alternatives), re.IGNORECASE)


def matches(pattern: str, text: str) -> bool:
    """True when the pattern occurs in the text (case-insensitive, whitespace-normalised)."""
    return compile_pattern(pattern).search(normalize(text)) is not None


def _check_pattern(value: str) -> str:
    compile_pattern(value)
    return value


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: str | None = Field(default=None, description="Document id (file name, no suffix).")
    contains: str | None = Field(default=None, description="Pattern the passage must contain.")

    @field_validator("contains")
    @classmethod
    def _valid_contains(cls, value: str | None) -> str | None:
        return None if value is None else _check_pattern(value)

    @model_validator(mode="after")
    def _not_empty(self) -> Source:
        if not (self.document or self.contains):
            raise ValueError("needs 'document' and/or 'contains'")
        return self


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    facts: list[str] = Field(default_factory=list)
    source: Source | None = None

    @field_validator("facts")
    @classmethod
    def _valid_facts(cls, value: list[str]) -> list[str]:
        return [_check_pattern(fact) for fact in value]


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    question: str = Field(min_length=1)
    language: Literal["sv", "en"] = "sv"
    kind: Literal["fact", "number", "list", "refuse"]
    expect: Expect = Field(default_factory=Expect)
    tags: list[str] = Field(default_factory=list)
    fact: str = Field(default="", pattern=r"^$|^[a-z0-9][a-z0-9-]*$",
                      description="The fact all phrasings share; decides the split. "
                      "Defaults to the case id.")
    group: Group | None = Field(default=None, description="Phrasing group; derived from kind, "
                                "language and tags when missing (legacy cases).")
    note: str = Field(default="", description="Near-miss: which constraint was changed.")
    as_of: date | None = Field(None, description="Ask as of this date (default: today).")
    file: str = Field(default="", exclude=True, description="Case file (set by the loader).")

    @model_validator(mode="after")
    def _defaults_for_fact_and_group(self) -> Case:
        if not self.fact:
            self.fact = self.id
        if self.group is None:
            self.group = derived_group(self.kind, self.language, self.tags)
        return self

    @model_validator(mode="after")
    def _group_fits_kind(self) -> Case:
        refusing = self.group in UNANSWERABLE_GROUPS
        if refusing and self.kind != "refuse":
            raise ValueError(f"group: a '{self.group}' case must have kind 'refuse'")
        if self.kind == "refuse" and self.group not in UNANSWERABLE_GROUPS | {"follow-up",
                                                                               "as-of",
                                                                               "compare"}:
            raise ValueError(f"group: a refuse case cannot be in group '{self.group}' "
                             "(use 'near-miss' or 'unanswerable')")
        if self.group == "near-miss" and not self.note:
            raise ValueError("note: a near-miss case must say which constraint was changed")
        return self

    @model_validator(mode="after")
    def _expect_fits_kind(self) -> Case:
        if self.kind == "refuse":
            if self.expect.facts or self.expect.source:
                raise ValueError("expect: a refuse case must have 'expect: {}'")
        elif not self.expect.facts:
            raise ValueError(f"expect.facts: a '{self.kind}' case needs at least one fact")
        elif self.expect.source is None:
            raise ValueError(f"expect.source: a '{self.kind}' case needs a source")
        return self

    @property
    def answerable(self) -> bool:
        return self.kind != "refuse"

    @property
    def group_name(self) -> str:
        return self.group or derived_group(self.kind, self.language, self.tags)

    @property
    def document(self) -> str:
        """The document the case is about ('' for refuse cases or source without a document)."""
        source = self.expect.source
        return (source.document or "") if source else ""


def derived_group(kind: str, language: str, tags: list[str]) -> Group:
    """The group of a case written before groups existed, from its kind, language and tags."""
    if kind == "refuse":
        return "unanswerable"
    if language == "en":
        return "english"
    if "typo" in tags:
        return "typo"
    if "staff-phrasing" in tags:
        return "staff-wording"
    return "document-wording"


def case_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if path.is_file():
        return [path]
    raise CaseFileError(f"{path}: no such case file or folder")


def load_cases(path: Path = DEFAULT_CASES_DIR) -> list[Case]:
    """All cases in a file or a folder of *.yaml files; ids must be unique across files."""
    cases: list[Case] = []
    seen: dict[str, Path] = {}
    for file in case_files(path):
        for case in load_case_file(file):
            if case.id in seen:
                raise CaseFileError(f"{file}: case '{case.id}': field 'id': duplicate id, "
                                    f"also used in {seen[case.id]}")
            seen[case.id] = file
            cases.append(case)
    if not cases:
        raise CaseFileError(f"{path}: no cases found")
    return cases


def load_case_file(file: Path) -> list[Case]:
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CaseFileError(f"{file}: invalid YAML{_yaml_where(error)}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise CaseFileError(f"{file}: cannot read: {error}") from error
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise CaseFileError(f"{file}: expected a list of cases (each starting with '- id:')")
    return [_parse_case(file, index, entry) for index, entry in enumerate(raw, start=1)]


def _yaml_where(error: yaml.YAMLError) -> str:
    """' at line 3, column 12: <problem>' on one line (PyYAML's own message spans several)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"{where}: {problem}"


def _parse_case(file: Path, index: int, entry: object) -> Case:
    label = f"case #{index}"
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        label = f"case '{entry['id']}'"
    if not isinstance(entry, dict):
        raise CaseFileError(f"{file}: {label}: expected a mapping with id, question, kind, …")
    try:
        return Case.model_validate({**entry, "file": str(file)})
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        if not where:  # a whole-case rule names its field at the start of the message
            where, _, message = message.partition(": ")
        raise CaseFileError(f"{file}: {label}: field '{where}': {message}") from error
