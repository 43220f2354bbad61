"""Ledger commands: db upgrade, worker enrol/statement, contribute, reverse, interest, audit."""

from __future__ import annotations

import typer

from suiren.cli.context import Context, emit, payment
from suiren.domain.errors import InvalidInput
from suiren.domain.money import fen_to_yuan_str
from suiren.ledger.accounts import Scheme
from suiren.services.contributions import contribute as contribute_service
from suiren.services.interest import credit_interest
from suiren.services.reversals import reverse as reverse_service
from suiren.services.statement import statement as statement_service
from suiren.services.workers import enrol as enrol_service
from suiren.store.audit import verify
from suiren.store.migrate import upgrade

db_app = typer.Typer(
    help="Database (SQLite by default; SUIREN_DATABASE_URL for PostgreSQL).", no_args_is_help=True
)
worker_app = typer.Typer(help="Workers (参保人员).", no_args_is_help=True)
interest_app = typer.Typer(help="Individual-account interest (记账利率).", no_args_is_help=True)
audit_app = typer.Typer(help="Audit the ledger.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="machine-readable output")
ENROLLABLE = (Scheme.EMPLOYEE_PENSION.value, Scheme.EMPLOYEE_MEDICAL.value)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the tables (Alembic)."""
    ctx = Context.build()
    upgrade(ctx.engine)
    print(
        f"database is at the latest revision ({ctx.engine.url.render_as_string(hide_password=True)})"
    )


@worker_app.command("enrol")
def worker_enrol(
    resident_id: str = typer.Option(..., "--resident-id", help="18-character 公民身份号码"),
    work_region: str = typer.Option(
        ..., "--work-region", help="GB/T 2260 code of the region of work"
    ),
    hukou_region: str = typer.Option(None, "--hukou-region", help="GB/T 2260 code of the hukou"),
    scheme: str = typer.Option(
        "employee_pension",
        "--scheme",
        help="employee_pension (职工养老) or employee_medical (职工医保)",
    ),
    as_json: bool = JSON,
) -> None:
    """Enrol a flexible worker in a scheme where they work (参保登记)."""
    if scheme not in ENROLLABLE:
        raise InvalidInput(f"--scheme must be one of {', '.join(ENROLLABLE)}, got {scheme[:40]!r}")
    ctx = Context.build()
    with ctx.transaction() as connection:
        result = enrol_service(
            connection, ctx.policy, ctx.vault(), resident_id, work_region, hukou_region, ctx.now(),
            Scheme(scheme),
        )  # fmt: skip
    w = result.worker
    payload = {
        "worker_id": w.worker_id, "resident_id": w.masked_id, "sex": w.sex,
        "birth_month": str(w.birth_month), "hukou_region": w.hukou_region, "work_region": w.work_region,
        "scheme": result.scheme.value, "region": result.region, "start_month": str(result.start_month),
        "created": result.created, "temporary_account": result.temporary,
    }  # fmt: skip
    done = "已参保 / enrolled" if result.created else "此前已参保 / already enrolled"
    temporary = " (临时账户 / temporary account)" if result.temporary else ""
    emit(
        payload,
        as_json,
        f"{done}: {w.worker_id} ({w.masked_id}) {scheme} in {result.region}{temporary}",
    )


@worker_app.command("statement")
def worker_statement(worker_id: str = typer.Argument(...), as_json: bool = JSON) -> None:
    """Contributions by month, region and scheme, contribution months and balances."""
    ctx = Context.build()
    with ctx.transaction() as connection:
        data = statement_service(connection, worker_id)
    lines = [
        f"worker {worker_id} ({data['worker']['resident_id']}), months paid: {data['contribution_months_total']}"
    ]
    lines += [
        f"  {m['month']} {m['region']} base {m['base_yuan']} due {fen_to_yuan_str(m['due_fen'])} {m['status']}"
        for m in data["months"]
    ]
    lines += [
        f"  {b['kind']:<20} {b['region']} {fen_to_yuan_str(b['balance_fen'])}"
        for b in data["balances"]
    ]
    emit(data, as_json, "\n".join(lines))


def contribute(
    worker_id: str = typer.Argument(...),
    month_from: str = typer.Option(..., "--from", help="first month YYYY-MM"),
    month_to: str = typer.Option(None, "--to", help="last month YYYY-MM (default: --from)"),
    base: str = typer.Option(..., "--base", help="chosen monthly base in yuan"),
    request_id: str = typer.Option(..., "--id", help="idempotency key of this payment"),
    as_json: bool = JSON,
) -> None:
    """Pay contributions for a month or a range (monthly, quarterly, yearly)."""
    ctx = Context.build()
    first, last, base_fen = payment(month_from, month_to, base)
    with ctx.transaction() as connection:
        paid = contribute_service(
            connection, ctx.policy, request_id, worker_id, first, last, base_fen, ctx.now()
        )
    human = "\n".join(
        f"{p.tx_id}: {p.month} due {fen_to_yuan_str(p.due_fen)} (account {fen_to_yuan_str(p.individual_account_fen)},"
        f" pooled {fen_to_yuan_str(p.pooled_fen)}){' [replayed]' if p.replayed else ''}"
        for p in paid
    )
    emit([p.to_json() for p in paid], as_json, human)


def reverse(
    tx_id: str = typer.Argument(...),
    reversal_id: str = typer.Option(..., "--id", help="idempotency key of the reversal"),
    memo: str = typer.Option("", "--memo"),
    as_json: bool = JSON,
) -> None:
    """Reverse a transaction (红冲) with a new, negating transaction."""
    ctx = Context.build()
    with ctx.transaction() as connection:
        posted = reverse_service(connection, tx_id, reversal_id, ctx.now(), memo)
    emit({"tx_id": posted.tx_id, "region": posted.region, "seq": posted.seq, "replayed": posted.replayed},
         as_json, f"reversed {tx_id} by {posted.tx_id}")  # fmt: skip


@interest_app.command("credit")
def interest_credit(year: int = typer.Option(..., "--year"), as_json: bool = JSON) -> None:
    """Credit a year's interest to every individual account (idempotent per year)."""
    ctx = Context.build()
    with ctx.transaction() as connection:
        runs = credit_interest(connection, ctx.policy, year, ctx.now())
    payload = [r.__dict__ for r in runs]
    human = (
        "\n".join(
            f"{r.region} {r.year}: {'already credited' if r.skipped else f'{r.accounts} accounts, {fen_to_yuan_str(r.total_fen)} yuan'}"
            for r in runs
        )
        or "no individual accounts"
    )
    emit(payload, as_json, human)


@audit_app.command("verify")
def audit_verify(as_json: bool = JSON) -> None:
    """Recompute the hash chain and every balance; exit 1 naming the first mismatch."""
    ctx = Context.build()
    with ctx.transaction() as connection:
        result = verify(connection)
    human = (
        f"ok: {result.transactions} transactions, {result.accounts} accounts verified"
        if result.ok
        else f"FAILED: {result.problem} (transaction {result.tx_id}, account {result.account})"
    )
    emit(result.to_json(), as_json, human)
    if not result.ok:
        raise typer.Exit(1)
