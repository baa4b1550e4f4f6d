"""Synthetic corpora of N x the real one, for measuring growth.

Copy 0 is the corpus itself. Copies 1..9 ("varied") change every region and place name and
every free-standing number, so nearly every passage is new text that must be embedded.
Copies 10.. ("repeated") reuse the text of copy (i mod 10) under their own document ids and
regions: new chunks for the stores and the indexes, but passages the content-hash embedding
cache has seen. `generate` reports both counts so the benchmark can say what was embedded.

    python -m benchmarks.synthetic 10 /tmp/corpus-10x
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from ingest.manifest import MANIFEST_NAME, load_manifest, metadata_for

VARIED_COPIES = 10
REGIONS = ["Norrfjäll", "Sydkust", "Västerå", "Österbotten", "Mälarslätt", "Skogsmark",
           "Havsbygd", "Fjällby", "Åsdalen", "Ljungheden", "Björkvik", "Granlunda"]
# Names in the real documents and what they become in a copy (a region, a town).
NAMES = {
    r"Värmland(?=s\b|\b)": "{region}",
    r"Halland(?=s\b|\b)": "{region}",
    r"Jämtland Härjedalen": "{region}",
    r"Västra Götaland(?=s\b|\b)": "{region}",
    r"Västra Götalandsregionen": "Region {region}",
    r"\bVGR\b": "R{initial}",
    r"Karlstad": "{town}",
    r"Halmstad": "{town}",
    r"Östersund": "{town}",
    r"Göteborg": "{town}",
}
# A free-standing number: not part of a section number (1.2.3), a date or a decimal.
NUMBER = re.compile(r"(?<![\d.,:/-])\d{1,4}(?![\d.,:/-]\d)")


@dataclass
class SyntheticCorpus:
    folder: Path
    documents: int
    chars: int
    varied_documents: int
    repeated_documents: int


def vary(text: str, copy: int) -> str:
    """The text with other names and shifted numbers (copy 0 is returned unchanged)."""
    if copy == 0:
        return text
    region = REGIONS[copy % len(REGIONS)] + ("" if copy < len(REGIONS) else f" {copy}")
    names = {"region": region, "initial": region[0], "town": f"{region}s stad"}
    for pattern, replacement in NAMES.items():
        text = re.sub(pattern, replacement.format(**names), text)
    return NUMBER.sub(lambda match: _shift(match.group(0), copy), text)


def _shift(number: str, copy: int) -> str:
    value = int(number)
    if 1900 <= value <= 2100:  # a year stays a plausible year
        return str(1990 + (value + copy) % 40)
    return str(value + copy)


def generate(source: Path, target: Path, scale: int) -> SyntheticCorpus:
    """Write `scale` copies of the documents in `source` (with a manifest) into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(source)
    paths = sorted(path for path in source.iterdir()
                   if path.is_file() and path.suffix in {".txt", ".md"})
    entries: dict[str, dict[str, object]] = {}
    chars = 0
    for copy in range(scale):
        base = copy % VARIED_COPIES
        region = "" if copy == 0 else REGIONS[copy % len(REGIONS)] + f" {copy}"
        for path in paths:
            meta = metadata_for(path, manifest)
            document = meta.document if copy == 0 else f"{meta.document}__kopia-{copy:03d}"
            text = vary(path.read_text(encoding="utf-8"), base)
            (target / f"{document}{path.suffix}").write_text(text, encoding="utf-8")
            chars += len(text)
            entries[document] = {
                "title": vary(meta.title, base),  # repeated copies keep their base's title
                "region": f"Region {region}" if region else meta.region,
                "doc_type": meta.doc_type, "year": meta.year,
                "source": f"syntetisk kopia {copy} av {meta.document}" if copy else meta.source,
            }
    with (target / MANIFEST_NAME).open("w", encoding="utf-8") as handle:
        yaml.safe_dump({"documents": entries}, handle, allow_unicode=True, sort_keys=False)
    varied = min(scale, VARIED_COPIES) * len(paths)
    return SyntheticCorpus(target, len(entries), chars, varied, len(entries) - varied)


if __name__ == "__main__":
    corpus = generate(Path("corpus"), Path(sys.argv[2]), int(sys.argv[1]))
    print(corpus)
