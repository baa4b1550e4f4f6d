"""The document owners' own eval cases, kept in the data dir.

- `owner_cases.yaml`: confirmed cases, in the same format as `evals/cases/*.yaml` (so
  `styrdok eval --cases data/owner_cases.yaml` runs them too).
- `owner_case_drafts.yaml`: cases made from a refused question or a down-voted answer
  ("Gör till testfall"), waiting for the owner to check and confirm them.

Every write is validated by `evals.cases` (the CLI's loader, with its messages) and written
atomically, so a bad edit is reported and changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from evals.cases import Case, CaseFileError, load_case_file
from web.owner_view import OwnerItem

DRAFTS_NAME = "owner_case_drafts.yaml"
CASES_NAME = "owner_cases.yaml"
CLI_ERROR_PREFIX = "Fel i utvärderingsfallen: "  # what `styrdok eval` prints for a bad file
_lock = threading.Lock()
_HEADER = ("# Dokumentägarnas egna testfall (samma format som evals/cases/*.yaml).\n"
           "# Skrivs av Styrdoks Utvärdering-flik; kan också redigeras för hand.\n")


class OwnerCases:
    def __init__(self, data_dir: Path) -> None:
        self.cases_path = data_dir / CASES_NAME
        self.drafts_path = data_dir / DRAFTS_NAME

    # --- reading ------------------------------------------------------------------------

    def cases(self) -> list[Case]:
        return load_case_file(self.cases_path) if self.cases_path.is_file() else []

    def cases_text(self) -> str:
        return self.cases_path.read_text(encoding="utf-8") if self.cases_path.is_file() else ""

    def drafts(self) -> list[dict[str, Any]]:
        if not self.drafts_path.is_file():
            return []
        raw = yaml.safe_load(self.drafts_path.read_text(encoding="utf-8"))
        return [entry for entry in raw or [] if isinstance(entry, dict)]

    # --- drafts ---------------------------------------------------------------------------

    def make_draft(self, item: OwnerItem) -> dict[str, Any]:
        """A draft case for `item` (kept in the drafts file, replacing an earlier draft of
        the same item): a refused question becomes 'must refuse', a down-voted answer an
        answerable case about the document it cited, whose fact the owner fills in."""
        draft = draft_case(item, taken=self._ids())
        with _lock:
            drafts = [d for d in self.drafts() if d.get("from") != item.key]
            drafts.insert(0, draft)
            _write_yaml(self.drafts_path, drafts, header="# Utkast till testfall; bekräfta "
                        "dem i Styrdok (Återkoppling) innan de används.\n")
        return draft

    def confirm(self, yaml_text: str, source_key: str | None = None) -> list[Case]:
        """Validate one or more cases (YAML, a list or a single mapping) and append them to
        the owners' case file; the matching draft is removed. Raises CaseFileError."""
        entries = parse_entries(yaml_text)
        with _lock:
            current = self._raw_cases()
            cases = self._validated([*current, *entries])
            _write_yaml(self.cases_path, [*current, *entries], header=_HEADER)
            if source_key:
                drafts = [d for d in self.drafts() if d.get("from") != source_key]
                _write_yaml(self.drafts_path, drafts)
        return cases[len(current):]

    def save_all(self, yaml_text: str) -> list[Case]:
        """Replace the owners' case file with `yaml_text` (validated first)."""
        entries = parse_entries(yaml_text) if yaml_text.strip() else []
        with _lock:
            cases = self._validated(entries) if entries else []
            _write_yaml(self.cases_path, entries, header=_HEADER)
        return cases

    def _raw_cases(self) -> list[dict[str, Any]]:
        if not self.cases_path.is_file():
            return []
        raw = yaml.safe_load(self.cases_path.read_text(encoding="utf-8"))
        return [entry for entry in raw or [] if isinstance(entry, dict)]

    def _ids(self) -> set[str]:
        ids = {str(entry.get("id")) for entry in self._raw_cases()}
        return ids | {str(entry.get("id")) for entry in self.drafts()}

    def _validated(self, entries: list[dict[str, Any]]) -> list[Case]:
        """Cases as `evals.cases` loads them from a file named like ours (so its messages
        name `owner_cases.yaml`, not a temporary path)."""
        entries = [{k: v for k, v in entry.items() if k != "from"} for entry in entries]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / CASES_NAME
            path.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False),
                            encoding="utf-8")
            try:
                cases = load_case_file(path)
            except CaseFileError as error:
                raise CaseFileError(str(error).replace(str(path), CASES_NAME)) from error
        seen: set[str] = set()
        for case in cases:
            if case.id in seen:
                raise CaseFileError(f"{CASES_NAME}: case '{case.id}': field 'id': "
                                    "duplicate id")
            seen.add(case.id)
        return cases


def parse_entries(yaml_text: str) -> list[dict[str, Any]]:
    """YAML text as a list of case mappings; a syntax error is reported like the CLI's."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / CASES_NAME
        path.write_text(yaml_text, encoding="utf-8")
        try:
            raw = yaml.safe_load(yaml_text)
        except yaml.YAMLError:
            try:
                load_case_file(path)
            except CaseFileError as error:
                raise CaseFileError(str(error).replace(str(path), CASES_NAME)) from error
            raise
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise CaseFileError(f"{CASES_NAME}: expected a list of cases (each starting with "
                            "'- id:')")
    for index, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise CaseFileError(f"{CASES_NAME}: case #{index}: expected a mapping with id, "
                                "question, kind, …")
    return raw


def _write_yaml(path: Path, entries: list[dict[str, Any]], header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = header + (yaml.safe_dump(entries, allow_unicode=True, sort_keys=False)
                     if entries else "[]\n")
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def slug(text: str, limit: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = "-".join(words)[:limit].strip("-")
    return out or "fraga"


def _supports(field: str) -> bool:
    return field in Case.model_fields


def draft_case(item: OwnerItem, taken: set[str]) -> dict[str, Any]:
    """The eval case an owner item suggests, following the shared convention: a `fact` (all
    phrasings of one fact share it) and a `group`. Where this installation's case loader does
    not know those fields yet, they go into `tags` as `fact:…` and `group:…`."""
    base = f"agare-{slug(item.question)}"
    digest = hashlib.sha256(item.question.encode()).hexdigest()[:6]
    case_id = base if base not in taken else f"{base}-{digest}"
    fact = f"agare-{slug(item.question, 30)}-{digest}"
    tags = ["dokumentagare", "från-avböjd-fråga" if item.kind == "refused" else
            "från-nedröstat-svar"]
    entry: dict[str, Any] = {"id": case_id, "question": item.question,
                             "language": "en" if _looks_english(item) else "sv"}
    if item.kind == "refused":
        entry |= {"kind": "refuse", "expect": {}}
        group = "unanswerable"
    else:
        document = item.document
        entry |= {"kind": "fact", "expect": {
            "facts": [], "source": {"document": document} if document else {}}}
        group = "staff-wording"
    if _supports("fact") and _supports("group"):
        entry |= {"fact": fact, "group": group}
    else:
        tags += [f"fact:{fact}", f"group:{group}"]
    entry["tags"] = tags
    entry["from"] = item.key
    return entry


def _looks_english(item: OwnerItem) -> bool:
    words = set(re.findall(r"[a-z]+", item.question.lower()))
    return len(words & {"what", "how", "the", "is", "are", "does", "which", "when"}) >= 2


def draft_yaml(draft: dict[str, Any]) -> str:
    """A draft as the YAML the owner edits (without the internal `from` key), with a hint
    where an answerable case still needs its fact."""
    shown = {k: v for k, v in draft.items() if k != "from"}
    text = yaml.safe_dump([shown], allow_unicode=True, sort_keys=False)
    if shown.get("kind") != "refuse":
        text = text.replace("    facts: []\n", "    facts:\n    - SKRIV EN FRAS SOM SVARET "
                            "SKA INNEHÅLLA\n", 1)
        text += ("# Skriv under facts en fras ur dokumentet som svaret ska innehålla, och gärna"
                 "\n# source.contains: en fras ur rätt stycke.\n")
    return text
