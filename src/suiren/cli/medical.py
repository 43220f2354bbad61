"""Employee medical insurance commands (职工医保): contribute, status.

Enrol with ``suiren worker enrol --scheme employee_medical``."""

from __future__ import annotations

import typer

from suiren.cli import options
from suiren.cli.context import Context, emit, note_lines, said
from suiren.cli.ledger import BASE_HELP, MONTH, MONTH_FROM, MONTH_TO, PAYMENT_ID_HELP, pay
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme

medical_app = typer.Typer(
    help="职工医保：灵活就业人员的职工基本医疗保险 / Employee medical insurance of flexible"
    " workers.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help=options.JSON_HELP)
WORKER = typer.Argument(..., help=options.WORKER_HELP, metavar="WORKER", parser=options.worker())


@medical_app.command("contribute")
def medical_contribute(
    worker_id: str = WORKER,
    month: Month = MONTH,
    month_from: Month = MONTH_FROM,
    month_to: Month = MONTH_TO,
    base_fen: int = typer.Option(
        ...,
        "--base",
        help=BASE_HELP,
        metavar="YUAN",
        parser=options.yuan("--base"),
    ),
    request_id: str = typer.Option(
        ...,
        "--id",
        help=PAYMENT_ID_HELP,
        metavar="ID",
        parser=options.identifier("--id", "payment-id"),
    ),
    as_json: bool = JSON,
) -> None:
    """职工医保缴费（同 suiren contribute --scheme employee_medical） / Pay employee medical
    (= suiren contribute --scheme employee_medical)."""
    pay(
        worker_id,
        month,
        month_from,
        month_to,
        base_fen,
        request_id,
        Scheme.EMPLOYEE_MEDICAL,
        as_json,
    )


@medical_app.command("status")
def medical_status_command(
    worker_id: str = WORKER,
    as_json: bool = JSON,
) -> None:
    """职工医保状态：各地区缴费月数、中断和等待期、退休时的终身医保缴费年限 / Months paid per
    region, the break and waiting period, lifetime cover at retirement."""
    from suiren.services.medical import medical_status

    ctx = Context.build()
    with ctx.transaction() as connection:
        status = medical_status(connection, ctx.policy, worker_id, ctx.now().date())
    regions = status.months_by_region.items()
    per_region = (
        "，".join(f"{r}：{m}" for r, m in regions) or "无",
        ", ".join(f"{r}: {m}" for r, m in regions) or "none",
    )
    never = status.gap_months is None
    gap = (
        ("从未缴费", "never paid")
        if never
        else (f"{status.gap_months} 个月", f"{status.gap_months} months")
    )
    waiting, local, total = status.waiting_months, status.local_months, status.total_months
    lines = [
        said(
            f"人员 {worker_id} 职工医保，参保地 {status.region}",
            f"worker {worker_id} employee medical, in {status.region}",
        ),
        said(
            f"  缴费月数：{total}（本地 {local}；按地区 {per_region[0]}）",
            f"  months paid: {total} (local {local}; by region {per_region[1]})",
        ),
        said(
            f"  中断：{gap[0]}，现在重新参保的等待期：{waiting} 个月",
            f"  gap: {gap[1]}, waiting period if re-joining now: {waiting} months",
        ),
    ]
    cover = status.lifetime
    if cover is not None:
        short = cover.shortfall_months
        shortfall = (
            ("已满足", "met")
            if cover.met
            else (f"还需本地缴费 {short} 个月", f"{short} more local months needed")
        )
        day, needs, needs_local = (
            cover.on_day.isoformat(),
            cover.required_total_months,
            cover.required_local_months,
        )
        lines.append(
            said(
                f"  退休医保（{day}）：{shortfall[0]}（需累计 {needs} 个月，其中本地"
                f" {needs_local} 个月）",
                f"  lifetime cover at {day}: {shortfall[1]} (needs {needs} cumulative,"
                f" {needs_local} local)",
            )
        )
    lines += note_lines(zip(status.notes_zh, status.notes_en, strict=True))
    emit(status.to_json(), as_json, "\n".join(lines))
