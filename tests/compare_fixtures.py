"""A second förfrågningsunderlag for a region the corpus does not have, with the same rules as
Värmland's but different numbers, so a cell answered from the wrong region is caught.

The whole corpus plus this document is ingested once per test module that asks for it.
"""

from __future__ import annotations

from pathlib import Path

from web_fixtures import REPO, make_service

from ingest.manifest import load_manifest
from ingest.service import Styrdok
from rag.models import DocumentMeta

OTHER_REGION = "Region Exempelmark"
OTHER_DOC_ID = "exempelmark_forfragningsunderlag-vardval"
OTHER_META = DocumentMeta(document=OTHER_DOC_ID,
                          title="Förfrågningsunderlag Vårdval vårdcentral – Exempelmark",
                          region=OTHER_REGION, doc_type="förfrågningsunderlag", year=2025,
                          source="skrivet för testerna")
# Värmland's rules, reworded little, with other numbers: 3 -> 5 hours for BMM, 1 -> 2 hours
# for SÄBO, 10 -> 12 hours for UMM; no rule at all about vite.
OTHER_DOC = """Förfrågningsunderlag Vårdval vårdcentral – Exempelmark

1.2.3 Barnhälsovård (BVC) och barnmorskemottagning (BMM)

Vårdcentralen ansvarar också för läkarinsatser på barnmorskemottagningen. Läkaren på BMM arbetar
med graviditetshälsovård. Behovet av läkarinsats för den basala mödrahälsovården beräknas till
5 timmar per vecka för 100 inskrivna gravida kvinnor.

1.2.4 Ungdomsmottagning (UMM)

Kravet på läkarbemanning på ungdomsmottagningen är satt till 12 timmar per 3 500 ungdomar.

1.2.9 Läkarmedverkan i den kommunala hälso- och sjukvården

Tidsåtgång läkarmedverkan SÄBO. Målet är att den totala tidresurs som avsätts för läkarinsats ska
motsvara minst 2 timmar för 10 boende per vecka.

1.4 Tillgänglighet

Vårdcentralen ska vara tillgänglig på internt kontaktnummer via telefon kl 07:30-16:30.
"""
STATUTE_DOC_ID = "testlag-fast-lakarkontakt"
STATUTE_META = DocumentMeta(document=STATUTE_DOC_ID, title="Lag om fast läkarkontakt (testlag)",
                            region="Nationell", doc_type="lag", year=2024,
                            source="skriven för testerna")
STATUTE_DOC = """Lag om fast läkarkontakt (testlag)

3 kap. Fast läkarkontakt

1 § Patienten ska få möjlighet att välja en fast läkarkontakt inom primärvården. Regionen ska
erbjuda en fast läkarkontakt senast inom 30 dagar från begäran.
"""
VARMLAND_DOC_ID = "varmland_forfragningsunderlag-vardval-vardcentral-del2"
BMM_QUESTION = "Hur mycket läkartid ska finnas på BMM i regionerna?"


def corpus_and_other_region(data_dir: Path, with_statute: bool = False) -> Styrdok:
    """The real corpus (with its manifest) plus the Exempelmark document, one service; with
    `with_statute` also a small statute filed as region "Nationell"."""
    service = make_service(data_dir)
    corpus = REPO / "corpus"
    report = service.ingest([corpus])
    assert report.ok and len(report.added) == len(load_manifest(corpus)), report
    path = data_dir.parent / f"{OTHER_DOC_ID}.txt"
    path.write_text(OTHER_DOC, encoding="utf-8")
    report = service.ingest([path], metadata=OTHER_META)
    assert report.ok and report.added == [OTHER_DOC_ID], report
    if with_statute:
        statute = data_dir.parent / f"{STATUTE_DOC_ID}.txt"
        statute.write_text(STATUTE_DOC, encoding="utf-8")
        assert service.ingest([statute], metadata=STATUTE_META).ok
    return service
