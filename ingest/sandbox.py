"""Parse a PDF or DOCX in a child process with an address-space limit and a timeout.

A parser that runs out of memory, loops or crashes then takes only the child with it: the
server keeps its memory, and the caller gets a ReadError with a reason a person can act on.
Plain text (TXT, MD) is read in-process: its cost is bounded by the upload size limit.

The child is `python -m ingest.sandbox`; it sets its own limits before importing a parser
(preexec_fn is unsafe in a threaded server) and answers with one JSON object on stdout.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ingest.guards import ParseLimits, check_docx_archive, check_pdf_pages
from ingest.readers import ReadError, SourceLine, read_lines

SANDBOXED_SUFFIXES = (".pdf", ".docx")
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def read_lines_bounded(path: Path, limits: ParseLimits | None = None) -> list[SourceLine]:
    """`read_lines` with every cost bounded; raises ReadError (never anything else)."""
    limits = limits or ParseLimits()
    suffix = path.suffix.lower()
    if suffix not in SANDBOXED_SUFFIXES:
        return read_lines(path)
    if not path.is_file():
        raise ReadError("not a file")
    if suffix == ".docx":
        check_docx_archive(path, limits)
    return _in_child(path, limits)


def _in_child(path: Path, limits: ParseLimits) -> list[SourceLine]:
    kind = path.suffix.lower().lstrip(".").upper()
    command = [sys.executable, "-m", "ingest.sandbox", json.dumps(asdict(limits)),
               str(path.resolve())]
    try:
        done = subprocess.run(command, capture_output=True, timeout=limits.timeout_s,
                              cwd=_PACKAGE_ROOT, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise ReadError(f"{kind} took longer than {limits.timeout_s:.0f} s to read "
                        "(STYRDOK_PARSE_TIMEOUT_S)") from None
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        raise ReadError(f"{kind} could not be read within {limits.memory_mb} MB of memory "
                        "(STYRDOK_PARSE_MEMORY_MB), or the parser crashed") from None
    if not result.get("ok"):
        raise ReadError(str(result.get("error") or f"corrupt or unreadable {kind}"))
    return [SourceLine(text, lineno, page, offset)
            for text, lineno, page, offset in result["lines"]]


def _child_main(limits_json: str, target: str) -> dict[str, Any]:
    limits = ParseLimits(**json.loads(limits_json))
    address_space = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    cpu = int(limits.timeout_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    path = Path(target)
    kind = path.suffix.lower().lstrip(".").upper()
    try:
        if path.suffix.lower() == ".pdf":
            _check_pdf(path, limits)
        lines = read_lines(path)
    except ReadError as error:
        return {"ok": False, "error": str(error)}
    except MemoryError:
        return {"ok": False, "error": f"{kind} needs more than {limits.memory_mb} MB of memory "
                "to read (a compression bomb or far too large)"}
    except RecursionError:
        return {"ok": False, "error": f"corrupt or unreadable {kind} (nested too deeply)"}
    except Exception as error:  # any parser failure is the file's fault, reported as such
        if "memory allocation failed" in str(error).lower():  # libxml2 hit the limit
            return {"ok": False, "error": f"{kind} needs more than {limits.memory_mb} MB of "
                    "memory to read (a compression bomb or far too large)"}
        if type(error).__name__ == "LimitReachedError":  # pypdf's own decompression cap
            return {"ok": False, "error": f"{kind} has a stream that inflates past the "
                    "parser's limit (a compression bomb, not a document)"}
        return {"ok": False, "error": f"corrupt or unreadable {kind} ({type(error).__name__})"}
    return {"ok": True, "lines": [[line.text, line.lineno, line.page, line.offset]
                                  for line in lines]}


def _check_pdf(path: Path, limits: ParseLimits) -> None:
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        pages = 0 if reader.is_encrypted else len(reader.pages)
    except Exception:
        return  # read_lines gives the precise reason (corrupt, encrypted, ...)
    check_pdf_pages(pages, limits)


if __name__ == "__main__":
    try:
        outcome = _child_main(sys.argv[1], sys.argv[2])
    except MemoryError:
        outcome = {"ok": False, "error": "the document needs more memory than allowed to read"}
    sys.stdout.write(json.dumps(outcome, ensure_ascii=False))
