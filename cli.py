"""The `styrdok` command: ingest, reindex, remove, docs, search, ask, eval, serve (thin over
the service)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from pydantic import BaseModel, Field

from rag.models import Answer, Filters, HistoryTurn
from rag.settings import Settings

if TYPE_CHECKING:
    from ingest.service import Styrdok

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Styrdok: answers from Swedish healthcare steering documents.")

RegionOption = Annotated[str | None, typer.Option("--region", help="Only this region.")]
TypeOption = Annotated[str | None, typer.Option("--type", help="Only this document type.")]
DocOption = Annotated[str | None, typer.Option("--document", help="Only this document id.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", help="Answer as of this date (YYYY-MM-DD); default: today, or a date the "
    "question names.")]


def _as_of(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {value}",
                                 param_hint="--as-of") from error


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
    for document, pages in report.ocr_pages.items():
        typer.echo(f"OCR: {document} s. {', '.join(map(str, pages))}")
    for note in report.notes:
        if "not read" in note:
            typer.echo(f"Sidor som inte kunde läsas: {note}", err=True)
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
def remove(document: Annotated[str, typer.Argument(help="Document id (see `styrdok docs`).")],
           edition: Annotated[str | None, typer.Option(
               "--edition", help="Remove only this edition (see `styrdok editions`).")] = None
           ) -> None:
    """Remove one document and all its passages (or only one of its editions)."""
    if not _service().remove(document, edition):
        what = f"{document} (utgåva {edition!r})" if edition is not None else document
        typer.echo(f"Okänt dokument: {what}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Borttaget: {document}" + (f", utgåva {edition}" if edition is not None else ""))


@app.command()
def editions(document: Annotated[str | None, typer.Argument(help="Document id.")] = None,
             as_json: JsonOption = False) -> None:
    """List editions with giltig från/till (a superseded edition ends where the next begins)."""
    found = _service().editions(document)
    if as_json:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in found], ensure_ascii=False,
                              indent=2))
        return
    for edition in found:
        span = f"{edition.valid_from or '…'} – {edition.valid_to or '…'}"
        typer.echo(f"{edition.document}\t{edition.edition or '(första)'}\t{span}\t"
                   f"{edition.chunks} avsnitt")


@app.command()
def diff(document: Annotated[str, typer.Argument(help="Document id.")],
         from_edition: Annotated[str | None, typer.Option("--from", help="Older edition.")]
         = None,
         to_edition: Annotated[str | None, typer.Option("--to", help="Newer edition.")] = None,
         on: Annotated[str | None, typer.Option(
             "--date", help="A statute: only paragraphs changed on this date.")] = None,
         as_json: JsonOption = False) -> None:
    """What changed: per section, requirements added, removed and changed (words marked)."""
    from rag.answer.changes import UnknownEdition
    from web.changes import changes_text

    try:
        changes = _service().changes(document, from_edition, to_edition, _as_of(on))
    except UnknownEdition as error:
        typer.echo(f"Okänt: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(changes.model_dump_json(indent=2) if as_json else changes_text(changes))


@app.command()
def docs(as_json: JsonOption = False) -> None:
    """List ingested documents and their chunk counts."""
    documents = _service().documents()
    if as_json:
        typer.echo(json.dumps([d.model_dump() for d in documents], ensure_ascii=False, indent=2))
        return
    service = _service()
    flagged = service.flagged_sentences()
    for doc in documents:
        typer.echo(f"{doc.document}\t{doc.chunks:>4} avsnitt\t{doc.region}\t{doc.doc_type}\t"
                   f"{doc.title}")
        for chunk, sentence in flagged.get(doc.document, []):
            typer.echo(f"    ! instruktionsliknande mening (aldrig belägg), avsnitt "
                       f"{chunk.section_label}: {sentence}")


@app.command()
def search(query: str, k: Annotated[int, typer.Option(min=1, max=50)] = 5,
           region: RegionOption = None, doc_type: TypeOption = None,
           document: DocOption = None, as_json: JsonOption = False,
           as_of: AsOfOption = None) -> None:
    """Ranked passages for a query (hybrid BM25 + dense), in force on the as-of date."""
    hits = _service().search(query, k, Filters(region=region, doc_type=doc_type,
                                                document=document, as_of=_as_of(as_of)))
    if as_json:
        typer.echo(json.dumps([hit.model_dump(mode="json") for hit in hits], ensure_ascii=False,
                              indent=2))
        return
    for rank, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        where = f"s. {chunk.page}" if chunk.page else f"rad {chunk.line_start}–{chunk.line_end}"
        typer.echo(f"{rank}. [{hit.score:.4f}] {chunk.title} – {chunk.section_label} ({where})")
        typer.echo(f"   {chunk.text[:300].replace(chr(10), ' ')}")


@app.command()
def ask(question: Annotated[str | None, typer.Argument()] = None,
        jsonl: Annotated[Path | None, typer.Option(
            "--jsonl", help="File with one question a line, or one JSON object a line "
            '({"question", "history"?}: a follow-up with its conversation), "-" for standard '
            "input; prints one JSON answer a line, each as soon as it is answered.")] = None,
        region: RegionOption = None, doc_type: TypeOption = None,
        document: DocOption = None, as_json: JsonOption = False,
        as_of: AsOfOption = None,
        history_file: Annotated[Path | None, typer.Option(
            "--history", help="JSON file with the conversation so far: a list of "
            '{"question", "answer"} (a follow-up is answered from it).')] = None) -> None:
    """Answer a question with verbatim, cited requirement text (or refuse)."""
    if jsonl is not None and str(jsonl) != "-" and not jsonl.is_file():
        typer.echo(f"Frågefilen finns inte: {jsonl}", err=True)
        raise typer.Exit(2)
    service = _service()
    filters = Filters(region=region, doc_type=doc_type, document=document, as_of=_as_of(as_of))
    history = _read_history(history_file) if history_file else None
    if jsonl is not None:
        for line in _question_lines(jsonl):
            typer.echo(json.dumps(_ask_line(service, line, filters, history),
                                  ensure_ascii=False))
            sys.stdout.flush()  # a caller reading a pipe gets each answer as it is made
        return
    if not question:
        _interactive(service, filters)
        return
    try:
        answer = service.ask(question, filters, history=history)
    except ValueError as error:
        typer.echo(f"Ogiltig fråga: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(answer.model_dump_json(indent=2) if as_json else format_answer(answer))


def _question_lines(path: Path) -> Iterator[str]:
    """The non-blank lines of a `--jsonl` file ("-": standard input), read as they come."""
    if str(path) == "-":
        yield from (line.strip() for line in sys.stdin if line.strip())
        return
    try:
        with path.open(encoding="utf-8") as lines:
            yield from (line.strip() for line in lines if line.strip())
    except (OSError, UnicodeDecodeError) as error:
        typer.echo(f"Kan inte läsa frågefilen {path}: {error}", err=True)
        raise typer.Exit(2) from error


def _read_history(path: Path) -> list[HistoryTurn]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [HistoryTurn.model_validate(turn) for turn in raw]
    except (OSError, ValueError, TypeError) as error:
        typer.echo(f"Ogiltig historik i {path}: {error}", err=True)
        raise typer.Exit(2) from error


class JsonlQuestion(BaseModel):
    """A `--jsonl` line given as JSON; what it leaves out comes from the command line."""

    question: str
    history: list[HistoryTurn] | None = Field(None, max_length=20)
    filters: Filters | None = None
    as_of: date | None = None


def _ask_line(service: Styrdok, line: str, filters: Filters,
              history: list[HistoryTurn] | None) -> dict[str, object]:
    """One line of `--jsonl`: a plain question, or a JSON object with "question" and
    optional "history" (the line's own conversation, instead of `--history`), "filters" and
    "as_of" (instead of the command line's)."""
    if not line.startswith("{"):  # no question starts with "{": a broken JSON line is one
        return _ask_or_error(service, line, filters, history)
    try:
        request = JsonlQuestion.model_validate_json(line)
    except ValueError as error:
        return {"question": line, "error": f"invalid JSON line: {error}"}
    own = request.history if request.history is not None else history
    chosen = request.filters if request.filters is not None else filters
    if request.as_of is not None:
        chosen = chosen.model_copy(update={"as_of": request.as_of})
    return _ask_or_error(service, request.question, chosen, own)


def _ask_or_error(service: Styrdok, question: str, filters: Filters,
                  history: list[HistoryTurn] | None = None) -> dict[str, object]:
    try:
        return dict(service.ask(question, filters, history=history).model_dump(mode="json"))
    except ValueError as error:
        return {"question": question, "error": str(error)}


def _interactive(service: Styrdok, filters: Filters) -> None:
    typer.echo("Ställ en fråga (tom rad avslutar).")
    turns: list[HistoryTurn] = []
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            return
        if not question:
            return
        answer = service.ask(question, filters, history=turns)
        turns.append(HistoryTurn(question=answer.interpreted_as or question,
                                 answer=answer.answer))
        typer.echo(format_answer(answer) + "\n")


def format_answer(answer: Answer) -> str:
    if answer.comparison is not None:  # routed to compare mode: the table says it all
        from rag.answer.compare_table import to_markdown

        return to_markdown(answer.comparison).rstrip("\n")
    lines = [f"(Tolkat som: {answer.interpreted_as})"] if answer.interpreted_as else []
    lines += [answer.answer, ""]
    for citation in answer.citations or answer.nearest:
        where = (f"s. {citation.page}{', OCR' if citation.ocr else ''}" if citation.page
                 else f"stycke {citation.paragraph}" if citation.paragraph
                 else f"rad {citation.lines}")
        section = " ".join(part for part in (citation.section, citation.heading) if part)
        place = f"avsnitt {section}, {where}" if section else where
        lines.append(f"[{citation.n}] {citation.reference or citation.title} "
                     f"({citation.region}), {place}"
                     + (f", utgåva {citation.edition}" if citation.edition else "")
                     + (f" [{citation.validity}]" if citation.validity else ""))
        lines.append(f"    ”{citation.quote}”")
    if answer.notice:
        lines.append(answer.notice)
    return "\n".join(lines)


@app.command()
def compare(question: str,
            regions: Annotated[list[str] | None, typer.Option(
                "--regions", "--region",
                help="Only these regions (repeat, or separate with commas); default: the "
                "regions the question names, else all.")] = None,
            output: Annotated[str, typer.Option(
                "--format", help="md (a Markdown table, default) or csv.")] = "md",
            as_json: JsonOption = False, as_of: AsOfOption = None) -> None:
    """The same question per region, each cell cited from that region's documents alone."""
    from rag.answer.compare_table import to_csv, to_markdown

    if output not in {"md", "csv"}:
        typer.echo("--format ska vara md eller csv", err=True)
        raise typer.Exit(2)
    wanted = [name for value in regions or [] for name in value.split(",") if name.strip()]
    try:
        comparison = _service().compare(question, wanted or None, _as_of(as_of))
    except ValueError as error:
        typer.echo(f"Ogiltig jämförelse: {error}", err=True)
        raise typer.Exit(2) from error
    if as_json:
        typer.echo(comparison.model_dump_json(indent=2))
    else:
        typer.echo(to_csv(comparison) if output == "csv" else to_markdown(comparison),
                   nl=False)


@app.command("eval")
def evaluate(cases: Annotated[str, typer.Option(
                 help="'legacy' (evals/cases/*.yaml), 'v2' (evals/cases/v2/, judged by the "
                 "test-split gate) or a case file or folder.")] = "legacy",
             report: Annotated[Path, typer.Option(help="Report folder.")] = Path("reports/eval"),
             baseline: Annotated[bool, typer.Option(
                 help="Also run the plain LangChain baseline.")] = False,
             split: Annotated[str, typer.Option(
                 help="dev, test or all (cases are split by fact).")] = "all",
             compare_cases: Annotated[bool, typer.Option(
                 "--compare", help="Run the compare cases (evals/compare) instead: scored "
                 "per region cell, gated on the test split.")] = False) -> None:
    """Run the evaluation suite; exits non-zero below the thresholds."""
    if compare_cases:
        from evals.compare import compare_cli_main

        compare_dir = None if cases == "legacy" else Path(cases)
        raise typer.Exit(compare_cli_main(_service(), compare_dir, report))
    from evals.runner import cli_main
    from evals.split import SplitChoice

    if split not in ("dev", "test", "all"):
        raise typer.BadParameter("--split must be dev, test or all")
    raise typer.Exit(cli_main(_settings(), cases, report, baseline,
                              split=cast("SplitChoice", split)))


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
