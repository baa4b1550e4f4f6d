"""The `styrdok` command: ingest, reindex, remove, docs, search, ask, eval, serve (thin over
the service)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rag.models import Answer, Filters
from rag.settings import Settings

if TYPE_CHECKING:
    from ingest.service import Styrdok

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Styrdok: answers from Swedish healthcare steering documents.")

RegionOption = Annotated[str | None, typer.Option("--region", help="Only this region.")]
TypeOption = Annotated[str | None, typer.Option("--type", help="Only this document type.")]
DocOption = Annotated[str | None, typer.Option("--document", help="Only this document id.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format='{"level": "%(levelname)s", "logger": "%(name)s", '
                               '"message": "%(message)s"}')
    for handler in logging.root.handlers:  # bm25s sets its own logger to DEBUG
        handler.setLevel(settings.log_level.upper())
    return settings


def _service(settings: Settings | None = None) -> Styrdok:
    from ingest.service import Styrdok

    return Styrdok(settings or _settings())


@app.command()
def ingest(paths: Annotated[list[Path] | None, typer.Argument(
        help="Files or folders (default: the corpus folder).")] = None,
           quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Ingest documents; unchanged files are skipped, changed ones replaced."""
    settings = _settings()
    service = _service(settings)
    report = service.ingest(paths or [settings.corpus_dir], progress=not quiet)
    for failure in report.failed:
        typer.echo(f"Hoppade över {failure.path}: {failure.reason}", err=True)
    typer.echo(f"Nya: {len(report.added)}, uppdaterade: {len(report.updated)}, "
               f"oförändrade: {len(report.unchanged)}, misslyckade: {len(report.failed)} "
               f"({report.chunks_written} avsnitt, {report.embedded} nyinbäddade, "
               f"{report.seconds:.1f} s)")
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def reindex(quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Rewrite all vectors from the catalog (after restoring it, or onto a new Chroma server)."""
    written, embedded = _service().reindex(progress=not quiet)
    typer.echo(f"Omindexerade: {written} avsnitt ({embedded} nyinbäddade)")


@app.command()
def remove(document: Annotated[str, typer.Argument(help="Document id (see `styrdok docs`).")]
           ) -> None:
    """Remove one document and all its passages."""
    if not _service().remove(document):
        typer.echo(f"Okänt dokument: {document}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Borttaget: {document}")


@app.command()
def docs(as_json: JsonOption = False) -> None:
    """List ingested documents and their chunk counts."""
    documents = _service().documents()
    if as_json:
        typer.echo(json.dumps([d.model_dump() for d in documents], ensure_ascii=False, indent=2))
        return
    for doc in documents:
        typer.echo(f"{doc.document}\t{doc.chunks:>4} avsnitt\t{doc.region}\t{doc.doc_type}\t"
                   f"{doc.title}")


@app.command()
def search(query: str, k: Annotated[int, typer.Option(min=1, max=50)] = 5,
           region: RegionOption = None, doc_type: TypeOption = None,
           document: DocOption = None, as_json: JsonOption = False) -> None:
    """Ranked passages for a query (hybrid BM25 + dense)."""
    hits = _service().search(query, k, Filters(region=region, doc_type=doc_type,
                                                document=document))
    if as_json:
        typer.echo(json.dumps([hit.model_dump() for hit in hits], ensure_ascii=False, indent=2))
        return
    for rank, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        where = f"s. {chunk.page}" if chunk.page else f"rad {chunk.line_start}–{chunk.line_end}"
        typer.echo(f"{rank}. [{hit.score:.4f}] {chunk.title} – {chunk.section_label} ({where})")
        typer.echo(f"   {chunk.text[:300].replace(chr(10), ' ')}")


@app.command()
def ask(question: Annotated[str | None, typer.Argument()] = None,
        jsonl: Annotated[Path | None, typer.Option(
            "--jsonl", help="File with one question a line; prints one JSON object a line.")
        ] = None,
        region: RegionOption = None, doc_type: TypeOption = None,
        document: DocOption = None, as_json: JsonOption = False) -> None:
    """Answer a question with verbatim, cited requirement text (or refuse)."""
    service = _service()
    filters = Filters(region=region, doc_type=doc_type, document=document)
    if jsonl is not None:
        for line in jsonl.read_text(encoding="utf-8").splitlines():
            if line.strip():
                typer.echo(json.dumps(_ask_or_error(service, line.strip(), filters),
                                      ensure_ascii=False))
        return
    if not question:
        _interactive(service, filters)
        return
    try:
        answer = service.ask(question, filters)
    except ValueError as error:
        typer.echo(f"Ogiltig fråga: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(answer.model_dump_json(indent=2) if as_json else format_answer(answer))


def _ask_or_error(service: Styrdok, question: str, filters: Filters) -> dict[str, object]:
    try:
        return dict(service.ask(question, filters).model_dump())
    except ValueError as error:
        return {"question": question, "error": str(error)}


def _interactive(service: Styrdok, filters: Filters) -> None:
    typer.echo("Ställ en fråga (tom rad avslutar).")
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            return
        if not question:
            return
        typer.echo(format_answer(service.ask(question, filters)) + "\n")


def format_answer(answer: Answer) -> str:
    lines = [answer.answer, ""]
    for citation in answer.citations or answer.nearest:
        where = f"s. {citation.page}" if citation.page else f"rad {citation.lines}"
        section = " ".join(part for part in (citation.section, citation.heading) if part)
        place = f"avsnitt {section}, {where}" if section else where
        lines.append(f"[{citation.n}] {citation.title} ({citation.region}), {place}")
        lines.append(f"    ”{citation.quote}”")
    if answer.notice:
        lines.append(answer.notice)
    return "\n".join(lines)


@app.command("eval")
def evaluate(cases: Annotated[Path, typer.Option(help="Case file or folder.")] = Path(
                 "evals/cases"),
             report: Annotated[Path, typer.Option(help="Report folder.")] = Path("reports/eval"),
             baseline: Annotated[bool, typer.Option(
                 help="Also run the plain LangChain baseline.")] = False) -> None:
    """Run the evaluation suite; exits non-zero below the thresholds."""
    from evals.runner import cli_main

    raise typer.Exit(cli_main(_settings(), cases, report, baseline))


@app.command()
def serve(host: Annotated[str | None, typer.Option(
              "--host", help="Address to listen on (default STYRDOK_HOST, 127.0.0.1).")] = None,
          port: Annotated[int | None, typer.Option(
              "--port", min=1, max=65535,
              help="Port to listen on (default STYRDOK_PORT, 7860).")] = None) -> None:
    """Serve the chat UI (/) and the API (/api) on the configured host and port."""
    from app import serve as serve_app

    settings = _settings()
    changes = {name: value for name, value in (("host", host), ("port", port))
               if value is not None}
    serve_app(settings.model_copy(update=changes) if changes else settings)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
