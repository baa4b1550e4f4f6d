"""Read a page image with Tesseract (Debian's `tesseract-ocr` + `tesseract-ocr-swe`).

The CLI is called with TSV output: its block/paragraph/line numbers give the paragraph
breaks, its word heights tell headings from body text. `STYRDOK_TESSERACT` names another
binary (tests set a missing one to check that skipped pages are reported).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

OCR_DPI = 300
OCR_TIMEOUT_S = 120
HEADING_HEIGHT_RATIO = 1.3
_MIN_CONFIDENCE = 10.0


class OcrUnavailable(Exception):
    """Tesseract, or its Swedish model, is not installed."""


@dataclass(frozen=True)
class OcrLine:
    text: str
    paragraph: tuple[int, int]  # (block, paragraph) as Tesseract numbers them
    height: float
    top: float


RECENT_PAGES = 64
_recent: OrderedDict[str, list[OcrLine]] = OrderedDict()  # page image hash -> its lines
_recent_lock = threading.Lock()


_deadline: float | None = None  # monotonic time when this process's OCR budget ends


@contextmanager
def ocr_budget(seconds: float) -> Iterator[None]:
    """Within the block, OCR stops (OcrUnavailable) once `seconds` of it have passed."""
    global _deadline
    previous, _deadline = _deadline, time.monotonic() + seconds
    try:
        yield
    finally:
        _deadline = previous


def tesseract_binary() -> str | None:
    return shutil.which(os.environ.get("STYRDOK_TESSERACT", "tesseract"))


def ocr_language(binary: str) -> str:
    """'swe' when its model is installed, else stop: English OCR mangles å, ä and ö."""
    listed = subprocess.run([binary, "--list-langs"], capture_output=True, text=True,
                            timeout=30, check=False)
    languages = set((listed.stdout + listed.stderr).split())
    if "swe" not in languages:
        raise OcrUnavailable("Tesseract has no Swedish model (install tesseract-ocr-swe)")
    return "swe"


def ocr_lines(image: Image) -> list[OcrLine]:
    """The text lines of a page image, in reading order; raises OcrUnavailable."""
    binary = tesseract_binary()
    if binary is None:
        raise OcrUnavailable("Tesseract is not installed (apt-get install tesseract-ocr "
                             "tesseract-ocr-swe)")
    if _deadline is not None and time.monotonic() > _deadline:
        raise OcrUnavailable("the OCR time budget for this document is used up "
                             "(ParseLimits.ocr_budget_s)")
    language = ocr_language(binary)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    key = hashlib.sha256(buffer.getvalue()).hexdigest()
    with _recent_lock:  # an upload is parsed to check it, then ingested: OCR it once
        if key in _recent:
            _recent.move_to_end(key)
            return _recent[key]
    # One OpenMP thread: on a shared 2-core machine Tesseract's threads only wait for each
    # other (a page took 40 s with the default, 13 s with one thread, under load).
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        result = subprocess.run(
            [binary, "stdin", "stdout", "-l", language, "--dpi", str(OCR_DPI), "--psm", "3",
             "tsv"], input=buffer.getvalue(), capture_output=True, timeout=OCR_TIMEOUT_S,
            check=False, env=environment)
    except subprocess.TimeoutExpired as error:
        raise OcrUnavailable(f"Tesseract took over {OCR_TIMEOUT_S} s") from error
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise OcrUnavailable(f"Tesseract failed: {message[-1] if message else result.returncode}")
    lines = _lines_from_tsv(result.stdout.decode("utf-8", errors="replace"))
    with _recent_lock:
        _recent[key] = lines
        while len(_recent) > RECENT_PAGES:
            _recent.popitem(last=False)
    return lines


def _lines_from_tsv(tsv: str) -> list[OcrLine]:
    words: dict[tuple[int, int, int], list[tuple[float, str, float, float]]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        if float(row.get("conf") or -1) < _MIN_CONFIDENCE:
            continue
        key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        words.setdefault(key, []).append(
            (float(row["left"]), text, float(row["height"]), float(row["top"])))
    lines: list[OcrLine] = []
    for (block, paragraph, _line), found in words.items():  # Tesseract's reading order
        found.sort()
        height = statistics.median(word[2] for word in found)
        text = re.sub(r"(\w) -$", r"\1-", " ".join(word[1] for word in found))  # "Vård -⏎"
        lines.append(OcrLine(text, (block, paragraph), height,
                             min(word[3] for word in found)))
    return lines


def is_heading(line: OcrLine, body_height: float) -> bool:
    return line.height >= HEADING_HEIGHT_RATIO * body_height and len(line.text) <= 110
