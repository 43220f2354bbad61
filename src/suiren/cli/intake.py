"""File intake at the command line: ``suiren contribute --file`` and ``suiren worker enrol --file``.

Each chunk of the file is one unit of work, committed before the next is read (a re-run after
a kill replays what was posted and posts the rest); ``--all-or-nothing`` takes the whole file
in one unit of work and commits it only if no row was refused. A progress bar on standard
error shows rows per second and the time left; the summary (rows read, posted, replayed,
refused, money by region) goes to standard output, the refused rows to ``--errors FILE``
(.csv or .json). Exit status: 0 all rows taken, 1 some rows refused (the rest posted), 2 the
file or an option refused (nothing written).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from suiren.cli.context import Context, emit, named, said, warning_lines
from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message
from suiren.domain.money import fen_to_yuan_str
from suiren.services.intake import REPORT_COLUMNS, IntakeSummary, RowError, refused_row
from suiren.services.output_files import OutputFile, distinct_files

if TYPE_CHECKING:  # imported where used: the history import's modules for that command only
    from suiren.services.history import HistorySummary

ERRORS_SHOWN = 10
PROGRESS_WORDS = ("intake.progress-rows", "intake.progress-rate", "intake.progress-left")


class _Rolledback(Exception):
    """Raised inside the unit of work of an --all-or-nothing file to roll it back."""


def pay_file(path: Path, all_or_nothing: bool, errors_out: Path | None, as_json: bool) -> None:
    from suiren.services.intake import (
        PAYMENT_COLUMNS,
        PAYMENT_REQUIRED,
        Chunk,
        FileRows,
        file_rows,
        post_payments,
        read_chunks,
    )

    distinct_files({"--file": path}, {"--errors": errors_out})
    ctx = Context.build()
    total = file_rows(path)
    summary = IntakeSummary()
    needs_ids = _has_resident_ids(path)
    vault = ctx.vault() if needs_ids else None
    earlier = FileRows()  # a row repeating one of an earlier chunk: a duplicate in the file

    def post(connection: Any, chunk: Chunk) -> IntakeSummary:
        return post_payments(connection, ctx.policy, vault, chunk, ctx.now(), earlier)

    chunks = read_chunks(path, PAYMENT_COLUMNS, PAYMENT_REQUIRED, ctx.settings.intake_chunk_rows)
    with _progress(total, "intake.progress-payments") as advance, _ErrorSink(errors_out) as sink:

        def take(part: IntakeSummary, rows: int) -> None:
            sink.write(part.errors)  # every refused row, chunk by chunk, in row order
            summary.add(part)
            advance(rows)

        if all_or_nothing:
            try:
                with ctx.transaction() as connection:
                    for chunk in chunks:
                        take(post(connection, chunk), chunk.table.num_rows)
                    if summary.errors:
                        raise _Rolledback
            except _Rolledback:
                summary.posted = summary.replayed = 0
                summary.due_fen_by_region = {}
                summary.provisional = {}
        else:
            for chunk in chunks:
                part = ctx.run(lambda connection, chunk=chunk: post(connection, chunk))
                take(part, chunk.table.num_rows)
    _report(summary, as_json, all_or_nothing, errors_written=errors_out is not None)


def _has_resident_ids(path: Path) -> bool:
    from suiren.services.intake import PAYMENT_COLUMNS, PAYMENT_REQUIRED, file_columns

    return "resident_id" in file_columns(path, PAYMENT_COLUMNS, PAYMENT_REQUIRED)


class _progress:
    """The transient progress bar on standard error (only on a terminal): a Chinese line,
    then its English line, as every result the CLI prints (``context.said``): the file,
    the bar, rows done of all, rows a second, time taken and time left."""

    def __init__(self, total: int | None, label: str, console: Console | None = None) -> None:
        console = console or Console(stderr=True)
        self.bar = Progress(
            TextColumn("{task.fields[label]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rows]}"),
            TextColumn("{task.fields[rate]} {task.fields[per_second]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[left]}"),
            TimeRemainingColumn(),
            transient=True,
            disable=not console.is_terminal,
            console=console,
        )
        self.total, self.label = total, label

    def __enter__(self) -> Callable[[int], None]:
        texts = (message(self.label), *map(message, PROGRESS_WORDS))
        tasks = [
            self.bar.add_task(
                "rows",
                total=self.total,
                rate="–",
                **dict(zip(("label", "rows", "per_second", "left"), language, strict=True)),
            )
            for language in ([t.zh for t in texts], [t.en for t in texts])
        ]
        self.bar.start()  # both lines there from the first frame

        def advance(rows: int) -> None:
            first = self.bar.tasks[0]
            self.bar.advance(tasks[0], rows)
            elapsed, done = first.elapsed or 0, first.completed
            rate = f"{done / elapsed:,.0f}" if elapsed else "–"
            self.bar.update(tasks[0], rate=rate)
            self.bar.update(tasks[1], completed=done, rate=rate)

        return advance

    def __exit__(self, *_: object) -> None:
        self.bar.stop()


def _report(
    summary: IntakeSummary, as_json: bool, all_or_nothing: bool, errors_written: bool
) -> None:
    money = ", ".join(
        f"{r} {fen_to_yuan_str(f)}" for r, f in sorted(summary.due_fen_by_region.items())
    )
    counts = (summary.rows, summary.posted, summary.replayed, summary.refused)
    lines = [
        "读取 {} 行：入账 {}，重放 {}，拒绝 {}".format(*counts)
        + (f"；各地区应缴：{money}" if money else ""),
        "read {} rows: posted {}, replayed {}, refused {}".format(*counts)
        + (f"; due by region: {money}" if money else ""),
    ]
    note = summary.replay_said()
    if note is not None:
        lines += [note.zh, note.en]
    if summary.errors and all_or_nothing:
        lines.append(
            said(
                "--all-or-nothing：有行被拒绝，全部未入账",
                "--all-or-nothing: nothing was posted, because rows were refused",
            )
        )
    lines += _row_lines(summary.errors)
    if summary.refused > ERRORS_SHOWN and not errors_written:
        lines.append(_more_line(summary.refused - ERRORS_SHOWN))
    warnings = summary.to_json()["warnings"]
    assert isinstance(warnings, list)
    lines += warning_lines(warnings[:ERRORS_SHOWN])
    if len(summary.provisional) > ERRORS_SHOWN:
        more = len(summary.provisional) - ERRORS_SHOWN
        lines.append(
            said(f"  … 另有 {more} 条，--json 全部列出", f"  … {more} more; --json lists them")
        )
    emit(summary.to_json() | {"all_or_nothing": all_or_nothing}, as_json, "\n".join(lines))
    if summary.errors:
        raise typer.Exit(2 if all_or_nothing else 1)


def _row_lines(errors: list[RowError]) -> list[str]:
    """The first refused rows, each ``第 N 行，FIELD：原因`` then ``row N, FIELD: reason``."""
    return [
        said(
            f"  第 {e.row} 行，{e.field}：{e.said.zh or e.said.en}",
            f"  row {e.row}, {e.field}: {e.said.en}",
        )
        for e in errors[:ERRORS_SHOWN]
    ]


def _more_line(more: int) -> str:
    return said(
        f"  … 另有 {more} 行，--errors FILE 全部写出",
        f"  … {more} more; --errors FILE writes them all",
    )


class _ErrorSink:
    """``--errors FILE`` written as the chunks come (CSV rows, or the items of one JSON
    array), so that the refused rows of a file of any size are never all in memory; put in
    place of FILE when the command ends, and thrown away if it fails (an earlier report
    stays whole: ``services.output_files``)."""

    def __init__(self, path: Path | None) -> None:
        if path is not None and path.suffix.lower() not in (".csv", ".json"):
            raise InvalidInput(message("intake.errors-kind"), field="--errors")
        self.path = path
        self.json = path is not None and path.suffix.lower() == ".json"
        self.out: OutputFile | None = None
        self.first = True

    def __enter__(self) -> _ErrorSink:
        if self.path is not None:
            self.out = OutputFile(self.path, "--errors")
            self.out.open()
            self.out.write("[" if self.json else ",".join(REPORT_COLUMNS) + "\n")
        return self

    def write(self, errors: list[RowError]) -> None:
        if self.out is None or not errors:
            return
        if self.json:
            for e in errors:
                separator = "\n  " if self.first else ",\n  "
                self.out.write(separator + json.dumps(e.to_json(), ensure_ascii=False))
                self.first = False
            return
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(e.as_csv() for e in errors)
        self.out.write(text.getvalue())

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self.out is None:
            return
        if kind is not None:  # the command failed: no report of half a run
            self.out.discard()
            return
        if self.json:
            self.out.write("]\n" if self.first else "\n]\n")
        self.out.commit()


class _Outputs:
    """``--out`` (resident id → worker id, CSV: it names people; each person once, by the
    id as the service stores it: ``cli.ledger.MAP_HELP``) and ``--errors`` of a
    command that has them at the end: both made before the work starts, so that a path no
    file can be made at is refused before anything is posted, and put in place only when
    the work is done (``finish``); thrown away if it fails."""

    def __init__(self, out: Path | None, errors_out: Path | None) -> None:
        self.map = None if out is None else OutputFile(out, "--out")
        self.errors = _ErrorSink(errors_out)

    def __enter__(self) -> _Outputs:
        self.errors.__enter__()
        if self.map is not None:
            try:
                self.map.open()
            except BaseException:
                self.errors.__exit__(InvalidInput)
                raise
        return self

    def finish(self, mapping: list[tuple[str, str]], errors: list[RowError]) -> None:
        if self.map is not None:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["resident_id", "worker_id"])
            writer.writerows(dict.fromkeys(mapping))  # a person once, at their first row
            self.map.write(buffer.getvalue())
        self.errors.write(errors)

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            self.errors.__exit__(kind)
        finally:
            if self.map is not None:
                if kind is None:
                    self.map.commit()
                else:
                    self.map.discard()


def enrol_file(path: Path, out: Path | None, errors_out: Path | None, as_json: bool) -> None:
    """``suiren worker enrol --file``: each chunk one unit of work; ``--out`` maps resident
    ids to worker ids for the caller's own records (a file of resident ids: mode 0600), one
    line a person whatever the rows' spellings of their id."""
    from suiren.services.intake import (
        WORKER_COLUMNS,
        WORKER_REQUIRED,
        EnrolSummary,
        enrol_workers,
        file_rows,
        read_chunks,
    )

    distinct_files({"--file": path}, {"--out": out, "--errors": errors_out})
    ctx = Context.build()
    vault = ctx.vault()
    summary = EnrolSummary()
    chunks = read_chunks(path, WORKER_COLUMNS, WORKER_REQUIRED, ctx.settings.intake_chunk_rows)
    with (
        _Outputs(out, errors_out) as outputs,
        _progress(file_rows(path), "intake.progress-workers") as advance,
    ):
        for chunk in chunks:
            summary.add(
                ctx.run(
                    lambda c, chunk=chunk: enrol_workers(c, ctx.policy, vault, chunk, ctx.now())
                )
            )
            advance(chunk.table.num_rows)
        outputs.finish(summary.mapping, summary.errors)
    counts = (summary.rows, summary.created, summary.existing, summary.refused)
    lines = [
        "读取 {} 行：新参保 {}，此前已参保 {}，拒绝 {}".format(*counts),
        "read {} rows: enrolled {}, already enrolled {}, refused {}".format(*counts),
    ]
    lines += _row_lines(summary.errors)
    emit(summary.to_json(), as_json, "\n".join(lines))
    if summary.errors:
        raise typer.Exit(1)


def history_file(
    path: Path,
    balances_path: Path | None,
    all_or_nothing: bool,
    out: Path | None,
    errors_out: Path | None,
    as_json: bool,
) -> None:
    """``suiren worker import-history``: each batch of people one unit of work (a re-run
    replays what was imported), or the whole file in one with ``--all-or-nothing``. People
    the file recorded before with other balances: refused first, nothing written."""
    from suiren.services.history import (
        HistoryConflict,
        HistorySummary,
        file_hash,
        import_people,
        people,
        read_balances,
        refused_rows,
        replay_conflicts,
        unmatched_balances,
    )
    from suiren.services.intake import file_rows

    distinct_files(
        {"FILE": path, "--balances": balances_path}, {"--out": out, "--errors": errors_out}
    )
    ctx = Context.build()
    vault = ctx.vault()
    import_id = file_hash(path)
    balances, _ = read_balances(balances_path) if balances_path else ({}, 0)
    # every person recorded before is checked before the first batch writes
    today = ctx.now().date()
    differences = ctx.run(lambda c: replay_conflicts(c, vault, import_id, balances, today))
    if differences:
        raise HistoryConflict.of(import_id, differences)
    summary = HistorySummary()
    seen: set[str] = set()
    chunk_rows = ctx.settings.intake_chunk_rows

    def work(connection: Any, unit: Any) -> HistorySummary:
        return import_people(
            connection, ctx.policy, vault, unit, balances, import_id, ctx.now(), all_or_nothing
        )

    with (
        _Outputs(out, errors_out) as outputs,
        _progress(file_rows(path), "intake.progress-history") as advance,
    ):
        if all_or_nothing:
            with ctx.transaction() as connection:
                for unit in people(path, chunk_rows):
                    seen.update(p.resident_id for p in unit)
                    summary.add(work(connection, unit))
                    advance(sum(len(p.rows) for p in unit))
                summary.errors += unmatched_balances(balances, seen)
                if summary.errors:
                    raise InvalidInput(refused_row(summary.errors[0]))
        else:
            for unit in people(path, chunk_rows):
                seen.update(p.resident_id for p in unit)
                summary.add(ctx.run(lambda connection, unit=unit: work(connection, unit)))
                advance(sum(len(p.rows) for p in unit))
            summary.errors += unmatched_balances(balances, seen)
        summary.refused = refused_rows(summary.errors)
        outputs.finish(summary.mapping, summary.errors)
    lines = _history_lines(summary)
    lines += _row_lines(summary.errors)
    if len(summary.errors) > ERRORS_SHOWN and errors_out is None:
        lines.append(_more_line(len(summary.errors) - ERRORS_SHOWN))
    emit(summary.to_json() | {"import_id": import_id}, as_json, "\n".join(lines))
    if summary.errors:
        raise typer.Exit(1)


# a stint's kind (the history file's ``kind`` column): its name's code
STINT_KINDS = {
    "paid": "stint-kind.paid",
    "deemed": "stint-kind.deemed",
    "temporary": "stint-kind.temporary",
}


def _history_lines(summary: HistorySummary) -> list[str]:
    """A history file's summary (``services.history.HistorySummary``): rows, people, stints
    and months by kind, the money brought in, the flags taken as recorded."""
    by_kind = sorted(summary.months_by_kind.items())
    kinds_zh = "，".join(f"{named(STINT_KINDS, k)} {v}" for k, v in by_kind) or "-"
    kinds = ", ".join(f"{k} {v}" for k, v in by_kind) or "-"
    counts = (summary.people, summary.rows, summary.imported, summary.replayed, summary.refused)
    money = (fen_to_yuan_str(summary.account_fen), fen_to_yuan_str(summary.entitlement_fen))
    lines = [
        "读取 {} 人的 {} 行：导入 {} 段，重放 {}，拒绝 {} 行".format(*counts)
        + f"；新参保 {summary.enrolled}",
        "read {1} rows of {0} people: imported {2} stints, replayed {3}, refused {4} rows".format(
            *counts
        )
        + f"; enrolled {summary.enrolled}",
        "  月数：{}；个人账户 {}，统筹权益 {} 元".format(kinds_zh, *money),
        "  months: {}; accounts {}, pooled entitlement {} yuan".format(kinds, *money),
    ]
    flags = ", ".join(f"{k} {v}" for k, v in sorted(summary.flags.items()))
    if flags:
        lines.append(said(f"  按原记录接受：{flags}", f"  accepted as recorded: {flags}"))
    if summary.years_without_rate:
        years = sorted(summary.years_without_rate)
        lines.append(
            said(
                f"  随人没有 {years[0]}–{years[-1]} 年的记账利率，统筹权益在这些年度未计利息",
                f"  no crediting rate in Suiren for {years[0]}–{years[-1]}: the pooled"
                " entitlement earned no interest in those years",
            )
        )
    return lines
