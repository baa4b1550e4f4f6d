"""Check answerable cases against the document text: the source phrase must occur in the
document, and every fact within the same stretch of text around it (one sentence or list).

    .venv/bin/python -m evals.authoring.check_sources [CASES] [--corpus DIR ...]

Statute Markdown is read as text: HTML tags and link targets are dropped, link text kept.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from evals.cases import V2_CASES_DIR, Case, compile_pattern, load_cases, normalize

WINDOW = 700  # characters either side of the source phrase the facts must fall within
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]+>")
_HEADING = re.compile(r"^#+ ", re.MULTILINE)


def document_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        text = _HEADING.sub("", _TAG.sub(" ", _LINK.sub(r"\1", text)))
    return normalize(text)


def raw_text(path: Path) -> str:
    """The file as it is, whitespace collapsed: a phrase found here spans no link or tag."""
    return normalize(path.read_text(encoding="utf-8"))


def find_document(document: str, corpora: list[Path]) -> Path | None:
    for folder in corpora:
        for suffix in (".txt", ".md"):
            candidate = folder / f"{document}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def problems(case: Case, text: str, raw: str | None = None) -> list[str]:
    """What is wrong with an answerable case against its document's text.

    With `raw` (a Markdown file as it is) every phrase must also occur there, so that it does
    not straddle a link or markup and holds however a reader renders the Markdown.
    """
    source = case.expect.source
    if source is None or source.contains is None:
        return []
    if raw is not None:
        spanning = [p for p in [source.contains, *case.expect.facts]
                    if compile_pattern(p).search(text) and not compile_pattern(p).search(raw)]
        if spanning:
            return [f"phrase {p!r} straddles a link or markup in the Markdown"
                    for p in spanning]
    spots = [match.start() for match in compile_pattern(source.contains).finditer(text)]
    if not spots:
        return [f"source phrase {source.contains!r} not in the document"]
    found: list[str] = []
    for fact in case.expect.facts:
        pattern = compile_pattern(fact)
        if not any(pattern.search(text, max(0, spot - WINDOW), spot + WINDOW)
                   for spot in spots):
            found.append(f"fact {fact!r} is in the document but not within {WINDOW} "
                         "characters of the source phrase" if pattern.search(text)
                         else f"fact {fact!r} is not in the document")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?", type=Path, default=V2_CASES_DIR)
    parser.add_argument("--corpus", type=Path, action="append",
                        default=[Path("corpus"), Path("/work/shared/corpus-national")])
    args = parser.parse_args()
    texts: dict[str, tuple[str, str | None]] = {}
    bad = 0
    for case in load_cases(args.cases):
        if not case.answerable:
            continue
        if case.document not in texts:
            path = find_document(case.document, args.corpus)
            texts[case.document] = ((document_text(path), raw_text(path) if path.suffix == ".md"
                                     else None) if path else ("", None))
        text, raw = texts[case.document]
        if not text:
            print(f"{case.id}: document {case.document} not found", file=sys.stderr)
            bad += 1
            continue
        for problem in problems(case, text, raw):
            print(f"{case.id}: {problem}", file=sys.stderr)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
