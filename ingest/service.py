"""Styrdok as one object: what the CLI, the API, the UI and the evals all call.

The question side lives in `rag.service.Assistant`; this adds the document side (ingest),
which belongs above `rag` because it reads files.
"""

from __future__ import annotations

from pathlib import Path

from ingest import pipeline
from rag.models import DocumentMeta, IngestReport
from rag.service import Assistant


class Styrdok(Assistant):
    def ingest(self, paths: list[Path], progress: bool = False,
               metadata: DocumentMeta | None = None) -> IngestReport:
        with self._write_lock:
            return pipeline.ingest(self.store, paths, progress=progress, metadata=metadata)
