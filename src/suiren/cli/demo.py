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

from suiren.cli.context import Context, balance_lines, said
from suiren.domain.messages import CATALOGUE
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


def _say(console: Console, zh: str, en: str) -> None:
    """A Chinese line, then its English line, each one line however wide (not wrapped)."""
    console.print(zh, soft_wrap=True)
    console.print(en, soft_wrap=True)


def _pension(console: Console) -> None:
    from suiren.services.pension_calc import calculate, output_records, parse_cases

    policy = load_policy("current_law")
    parsed = parse_cases([DEMO_CASE], policy, date.today())
    result = calculate(parsed, policy)
    record = output_records(parsed, result, policy, explain=True)[0]
    _say(
        console,
        "[bold]随人[/bold]：养老金测算，现行政策",
        "[bold]Suiren[/bold]: pension estimate, current law",
    )
    _say(console, "测算案例：", "case:")
    console.print(
        str(DEMO_CASE), soft_wrap=True, markup=False
    )  # its fields, as pension calc reads them
    console.print(_steps_table(record["explanation"]))
    parts = [
        fen_to_yuan_str(record[f"{k}_fen"])
        for k in ("basic_pension", "account_pension", "transitional_pension", "total")
    ]
    _say(
        console,
        f"基础养老金 {parts[0]} + 个人账户养老金 {parts[1]} + 过渡性养老金 {parts[2]} ="
        f" [bold]{parts[3]} 元/月[/bold]（各参数的出处：suiren pension calc --explain）",
        f"basic {parts[0]} + account {parts[1]} + transitional {parts[2]} ="
        f" [bold]{parts[3]} yuan/month[/bold] (every parameter's reference: suiren pension"
        " calc --explain)",
    )


STEP_COLUMNS = (("步骤", "step"), ("公式", "formula"), ("输入", "inputs"), ("结果", "result"))


def _steps_table(steps: list[dict[str, Any]]) -> Table:
    """The explanation's steps, each a Chinese row, then its English row (a section): a
    cell wrapped to the column's width stays in its row's language, so every line of the
    table is in one language, a step's Chinese lines before its English ones. Folded,
    never cut short."""
    table = Table(show_lines=False)
    for zh, en in STEP_COLUMNS:
        table.add_column(f"{zh}\n{en}", overflow="fold")
    for step in steps:
        for language, comma in (("zh", "，"), ("en", ", ")):
            inputs = comma.join(f"{k}={v}" for k, v in step[f"inputs_{language}"].items())
            table.add_row(
                step[f"step_{language}"],
                step[f"formula_{language}"],
                inputs,
                step[f"result_{language}"],
                end_section=language == "en",
            )
    return table


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
    url = ctx.engine.url.render_as_string(hide_password=True)
    console.print()
    _say(console, f"[bold]账本[/bold]（{url}）", f"[bold]Ledger[/bold] ({url})")
    with ctx.transaction() as connection:
        enrolled = enrol(connection, ctx.policy, ctx.vault(), rid, "440100", "410000", now)
    worker = enrolled.worker.worker_id
    _say(
        console,
        f"已在广州 440100 参保：{worker}（{enrolled.worker.masked_id}，河南户籍）"
        f"{'' if enrolled.created else '，此前已参保'}",
        f"enrolled {worker} ({enrolled.worker.masked_id}, hukou Henan) in Guangzhou 440100"
        f"{'' if enrolled.created else ' — already enrolled'}",
    )
    for attempt, attempt_zh in (("pay", "缴费"), ("replay", "重放")):
        with ctx.transaction() as connection:
            paid = contribute(
                connection, ctx.policy, f"demo-{worker}-{first}", worker, first, last, 600_000, now
            )
        replayed = sum(p.replayed for p in paid)
        due = fen_to_yuan_str(sum(p.due_fen for p in paid))
        _say(
            console,
            f"{attempt_zh}：{first}..{last} 共 {len(paid)} 个月，缴费基数 6000.00，应缴 {due}，"
            f"{replayed} 个月为重放",
            f"{attempt}: {len(paid)} months {first}..{last} at base 6000.00: due {due},"
            f" {replayed} replayed",
        )
    with ctx.transaction() as connection:
        data = statement(connection, worker)
        audit = verify(connection)
    console.print("\n".join(balance_lines(data["balances"])), soft_wrap=True)
    months = data["contribution_months_by_region"]
    _say(console, f"缴费月数：{months}", f"contribution months: {months}")
    _say(
        console,
        f"审计：{'通过' if audit.ok else '失败'}，由哈希链重算 {audit.transactions} 笔交易和"
        f" {audit.accounts} 个账户",
        f"audit: {'ok' if audit.ok else 'FAILED'} — {audit.transactions} transactions and"
        f" {audit.accounts} accounts recomputed from the hash chain",
    )
    _if_moved(console, ctx, worker)


def _if_moved(console: Console, ctx: Context, worker: str) -> None:
    """What a move to Hangzhou today would carry under each scenario (nothing is posted)."""
    from suiren.services.transfers import quote_for
    from suiren.services.workers import enrolment_region

    console.print()
    _say(
        console,
        "[bold]钱随人走[/bold]：假如这位快递员今天转到杭州 330100",
        "[bold]money follows the person[/bold]: if the courier moved to Hangzhou 330100 today",
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
            account, pooled, kept = (
                fen_to_yuan_str(v) for v in (quote.account_fen, quote.pooled_fen, quote.kept_fen)
            )
            _say(
                console,
                f"  {name:<21} 转出个人账户 {account} + 统筹基金 {pooled}；留在 {region}：{kept} 元",
                f"  {name:<21} moves account {account} + pooled {pooled}; stays behind in"
                f" {region}: {kept} yuan",
            )
    _say(
        console,
        "  （灵活就业人员的统筹部分全部为缴费基数的 12%，现行政策全部转出；改革方案另加历年记入的利息，"
        "并取消临时账户：suiren pension estimate 比较整个缴费经历）",
        "  (a flexible worker's whole pooled part is 12% of the base, so current law moves it"
        " all; the reform adds the interest credited on it in earlier years and ends temporary"
        " accounts: suiren pension estimate compares whole careers)",
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
            (str(logins.resolve()), str(logins.resolve()))
            if logins.exists()
            else (
                "（demo-logins.json 已不在：密钥只显示一次）",
                "(demo-logins.json is gone: keys are shown once)",
            )
        )
        print(
            said(
                f"演示数据已生成，登录信息：{where[0]}",
                f"the demo world is already seeded; its logins: {where[1]}",
            )
        )
        return
    started = time.monotonic()
    # made before the world is seeded: the keys are shown once, so a folder where the file
    # cannot be written is refused before there are keys to lose
    with OutputFile(logins, "demo-logins.json") as file:
        print(
            said(
                "正在生成演示数据（31 个省份，仅一次）…",
                "seeding the demo world (31 provinces, once)…",
            ),
            flush=True,
        )
        world = seed(ctx.engine, ctx.policy, ctx.vault(), ctx.now(), api_key, people_per_province)
        file.write(logins_text(world.logins))
    counted = sorted(world.transfers.items())
    states_zh = "，".join(f"{CATALOGUE[f'transfer-state.{k}'][0]} {v}" for k, v in counted)
    states = ", ".join(f"{k} {v}" for k, v in counted)
    took = f"{time.monotonic() - started:.0f}"
    print(
        said(
            f"用时 {took} 秒生成：{world.people} 名参保人（{world.stints} 段此前的参保经历），本年已缴"
            f" {world.months_paid} 个月，转移：{states_zh}",
            f"seeded in {took} s: {world.people} workers ({world.stints} stints of earlier"
            f" history), {world.months_paid} months paid this year, transfers: {states}",
        )
    )
    print(
        said(
            "登录信息（API 密钥、经办人员 /console/ 的密码、门户的身份证号码；权限 0600）："
            f"{logins.resolve()}",
            "logins (API keys, clerks' passwords for /console/, portal resident ids; mode 0600):"
            f" {logins.resolve()}",
        )
    )
