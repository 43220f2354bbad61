"""``suiren demo``: what ``make run`` shows, on the embedded SQLite database.

1. a worked pension estimate with its explanation (a courier in Zhengzhou);
2. the ledger at work: the database is migrated, a courier is enrolled in Guangzhou,
   pays three months, pays them again (a replay changes nothing), and the statement and
   the audit of the hash chain and balances are printed;
3. what a move to Hangzhou would carry under current law and under 钱随人走 (read only).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.console import Console
from rich.table import Table

from suiren.cli.context import Context
from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.domain.resident_id import check_character
from suiren.ledger.accounts import Scheme
from suiren.policy import load_policy

DEMO_CASE = {
    "id": "demo-courier-zhengzhou",
    "region": "410100",
    "sex": "M",
    "birth": "1975-06",
    "base_yuan": "6385",
    "province_base_yuan": "6385",
    "average_index": "0.8",
    "contribution_years": "25",
    "account_yuan": "98000",
}
DEMO_ID_FIRST17 = "41010519900307151"  # a made-up resident id of a courier born 1990-03


def demo() -> None:
    """Show a worked pension estimate and a worker's first contributions in the ledger."""
    console = Console()
    _pension(console)
    _ledger(console)


def _pension(console: Console) -> None:
    from suiren.services.pension_calc import calculate, output_records, parse_cases

    policy = load_policy("current_law")
    parsed = parse_cases([DEMO_CASE], policy, date.today())
    result = calculate(parsed, policy)
    record = output_records(parsed, result, policy, explain=True)[0]
    console.print("[bold]Suiren 随人[/bold] — 养老金测算 pension estimate, current law (现行政策)")
    console.print(f"case: {DEMO_CASE}")
    table = Table("step", "formula", "inputs", "result")
    for step in record["explanation"]:
        inputs = ", ".join(f"{k}={v}" for k, v in step["inputs"].items())
        table.add_row(step["step"], step["formula"], inputs, step["result"])
    console.print(table)
    console.print(
        f"basic {fen_to_yuan_str(record['basic_pension_fen'])} + account"
        f" {fen_to_yuan_str(record['account_pension_fen'])} + transitional"
        f" {fen_to_yuan_str(record['transitional_pension_fen'])} ="
        f" [bold]{fen_to_yuan_str(record['total_fen'])} yuan/month[/bold]"
        " (every parameter's reference: suiren pension calc --explain)"
    )


def _ledger(console: Console) -> None:
    from suiren.services.contributions import contribute
    from suiren.services.statement import statement
    from suiren.services.workers import enrol
    from suiren.store.audit import verify
    from suiren.store.migrate import upgrade

    ctx = Context.build()
    upgrade(ctx.engine)
    now = ctx.now()
    first17 = DEMO_ID_FIRST17
    rid = first17 + check_character(first17)
    this_month = Month.from_date(now.date())
    first = Month.of(this_month.year, 1) if this_month.month >= 3 else this_month
    last = first + 2 if this_month.month >= 3 else this_month
    console.print(f"\n[bold]Ledger[/bold] ({ctx.engine.url.render_as_string(hide_password=True)})")
    with ctx.transaction() as connection:
        enrolled = enrol(connection, ctx.policy, ctx.vault(), rid, "440100", "410000", now)
    worker = enrolled.worker.worker_id
    console.print(
        f"enrolled {worker} ({enrolled.worker.masked_id}, hukou Henan) in Guangzhou 440100"
        f"{'' if enrolled.created else ' — already enrolled'}"
    )
    for attempt in ("pay", "replay"):
        with ctx.transaction() as connection:
            paid = contribute(
                connection, ctx.policy, f"demo-{worker}-{first}", worker, first, last, 600_000, now
            )
        replayed = sum(p.replayed for p in paid)
        console.print(
            f"{attempt}: {len(paid)} months {first}..{last} at base 6000.00: due"
            f" {fen_to_yuan_str(sum(p.due_fen for p in paid))}, {replayed} replayed"
        )
    with ctx.transaction() as connection:
        data = statement(connection, worker)
        audit = verify(connection)
    for balance in data["balances"]:
        console.print(
            f"  {balance['kind']:<20} {balance['region']} {fen_to_yuan_str(balance['balance_fen'])} yuan"
        )
    console.print(f"contribution months: {data['contribution_months_by_region']}")
    console.print(
        f"audit: {'ok' if audit.ok else 'FAILED'} — {audit.transactions} transactions and"
        f" {audit.accounts} accounts recomputed from the hash chain"
    )
    _if_moved(console, ctx, worker)


def _if_moved(console: Console, ctx: Context, worker: str) -> None:
    """What a move to Hangzhou today would carry under each scenario (nothing is posted)."""
    from suiren.services.transfers import quote_for
    from suiren.services.workers import enrolment_region

    console.print(
        "\n[bold]钱随人走 / money follows the person[/bold]: if the courier moved to Hangzhou 330100 today"
    )
    with ctx.transaction() as connection:
        region = enrolment_region(connection, worker, Scheme.EMPLOYEE_PENSION)[0]
        for name in ("current_law", "money_follows_person"):
            quote = quote_for(
                connection,
                load_policy(name),
                worker,
                region,
                "330100",
                ctx.now().date(),
                Scheme.EMPLOYEE_PENSION,
            )
            console.print(
                f"  {name:<21} moves account {fen_to_yuan_str(quote.account_fen)} + pooled"
                f" {fen_to_yuan_str(quote.pooled_fen)}; stays behind in {region}:"
                f" {fen_to_yuan_str(quote.kept_fen)} yuan"
            )
    console.print(
        "  (a flexible worker's whole pooled part is 12% of the base, so current law moves it all;"
        " the reform adds the interest credited on it in earlier years and ends temporary"
        " accounts: `suiren pension estimate` compares whole careers)"
    )


def api_key(connection: Any, actor: str, scope: str, label: str, now: Any) -> str:
    """A new API key for the demo's logins (the API's own issuing, shown once)."""
    from suiren.api.auth import ActorKind, issue_key

    return issue_key(connection, ActorKind(actor), scope, label, now)[0]


def seed_world(ctx: Context, people_per_province: int = 100) -> None:
    """``suiren serve --demo``: migrate, seed the demo world once, write ./demo-logins.json."""
    import time
    from pathlib import Path

    from suiren.services.demo_world import logins_text, seed, seeded
    from suiren.services.output_files import OutputFile
    from suiren.store.db import unit_of_work
    from suiren.store.migrate import upgrade

    upgrade(ctx.engine)
    with unit_of_work(ctx.engine) as connection:
        done = seeded(connection)
    logins = Path("demo-logins.json")
    if done:
        where = (
            logins.resolve()
            if logins.exists()
            else "(demo-logins.json is gone: keys are shown once)"
        )
        print(f"the demo world is already seeded; its logins: {where}")
        return
    started = time.monotonic()
    # made before the world is seeded: the keys are shown once, so a folder where the file
    # cannot be written is refused before there are keys to lose
    with OutputFile(logins, "demo-logins.json") as file:
        print("seeding the demo world (31 provinces, once)…", flush=True)
        world = seed(ctx.engine, ctx.policy, ctx.vault(), ctx.now(), api_key, people_per_province)
        file.write(logins_text(world.logins))
    states = ", ".join(f"{k} {v}" for k, v in sorted(world.transfers.items()))
    print(
        f"seeded in {time.monotonic() - started:.0f} s: {world.people} workers ({world.stints}"
        f" stints of earlier history), {world.months_paid} months paid this year, transfers:"
        f" {states}\nlogins (API keys, clerks' passwords for /console/, portal resident ids; mode 0600): {logins.resolve()}"
    )
