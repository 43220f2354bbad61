"""Ledger commands: db upgrade, key generate, worker enrol/statement, contribute, reverse,
interest credit, audit verify/checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from suiren.cli import options
from suiren.cli.context import Context, balance_lines, emit, named, said, warning_lines
from suiren.domain.errors import InvalidInput
from suiren.domain.messages import Text
from suiren.domain.messages import text as message
from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme

if TYPE_CHECKING:
    from suiren.services.contributions import MonthPaid
    from suiren.services.interest import InterestRun
    from suiren.store.audit import Problem

CHECKPOINT_BYTES_MAX = 10_000_000

key_app = typer.Typer(help="经办机构密钥 / The agency's secret key.", no_args_is_help=True)
db_app = typer.Typer(
    help="数据库（默认 SQLite；PostgreSQL 用 SUIREN_DATABASE_URL）"
    " / Database (SQLite by default; SUIREN_DATABASE_URL for PostgreSQL).",
    no_args_is_help=True,
)
worker_app = typer.Typer(help="参保人员 / Workers.", no_args_is_help=True)
interest_app = typer.Typer(
    help="个人账户记账利息 / Individual-account interest.", no_args_is_help=True
)
audit_app = typer.Typer(help="审计账本 / Audit the ledger.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help=options.JSON_HELP)
ENROLLABLE = (Scheme.EMPLOYEE_PENSION, Scheme.EMPLOYEE_MEDICAL)
# the months, base and id of a payment, the same for every scheme's `contribute`
MONTH = typer.Option(
    None,
    "--month",
    help="缴费月份 YYYY-MM / one month YYYY-MM",
    metavar="YYYY-MM",
    parser=options.month("--month"),
)
MONTH_FROM = typer.Option(
    None,
    "--from",
    help="起始月份 YYYY-MM / first month YYYY-MM",
    metavar="YYYY-MM",
    parser=options.month("--from"),
)
MONTH_TO = typer.Option(
    None,
    "--to",
    help="截止月份 YYYY-MM（默认同 --from） / last month YYYY-MM (default: --from)",
    metavar="YYYY-MM",
    parser=options.month("--to"),
)
BASE_HELP = "月缴费基数（元） / chosen monthly base in yuan"
PAYMENT_ID_HELP = "本次缴费的幂等键 / idempotency key of this payment"
ERRORS_HELP = (
    "被拒绝的行写入此文件（.csv/.json：row、field、code、reason 英文、reason_zh 中文） / write"
    " refused rows here (.csv/.json: row, field, code, reason in English, reason_zh in Chinese)"
)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """创建或迁移数据表（Alembic），数据库绑定所配置的密钥 / Create or migrate the tables
    (Alembic); the database takes the configured key."""
    from suiren.store.db import unit_of_work
    from suiren.store.migrate import upgrade

    ctx = Context.build()
    upgrade(ctx.engine)
    with unit_of_work(ctx.engine):
        pass  # checks the key's fingerprint (and records it on a new database)
    url = ctx.engine.url.render_as_string(hide_password=True)
    print(said(f"数据库已是最新版本（{url}）", f"the database is at the latest revision ({url})"))


@key_app.command("generate")
def key_generate(
    out: Path = typer.Option(
        None,
        "--out",
        help="写入此新文件（权限 0600） / write to this new file (mode 0600)",
        metavar="FILE",
        parser=options.output_file("--out"),
    ),
) -> None:
    """生成新密钥（32 个随机字节的 base64），用于 SUIREN_SECRET_KEY 或 SUIREN_KEY_FILE / Make a
    new secret key (base64 of 32 random bytes) for SUIREN_SECRET_KEY or SUIREN_KEY_FILE."""
    from suiren.settings import new_key_text

    key = new_key_text()
    if out is None:
        print(key)
        return
    from suiren.services.output_files import write_private

    write_private(out, key + "\n", "--out", overwrite=False)  # a key file is never overwritten
    print(
        said(
            f"新密钥已写入 {out}（权限 0600），请在安全的地方另存一份",
            f"wrote a new key to {out} (mode 0600); keep a copy somewhere safe",
        )
    )


# the map of ``--out``: one line a person, keyed as every other command finds them (a file that
# spells one person two ways still gets one line; the caller normalises their own ids alike)
MAP_HELP_ZH = (
    "写出身份证号码 → 人员编号对照表（CSV，0600），每人一行，号码按随人保存的形式而非文件中的"
    "写法：18 位，ASCII 数字，大写 X，无空格（15 位号码转为 18 位）"
)
MAP_HELP_EN = (
    "write resident id → worker id (CSV, 0600), one line a person, the id as Suiren stores it,"
    " not as the file spelt it: 18 characters, ASCII digits, upper-case X, no spaces (a"
    " 15-digit number in its 18-digit form)"
)


@worker_app.command("enrol")
def worker_enrol(
    resident_id: str = typer.Option(
        None,
        "--resident-id",
        help="公民身份号码（18 位） / 18-character resident id",
        metavar="RESIDENT_ID",
        parser=options.resident_id("--resident-id"),
    ),
    work_region: str = typer.Option(
        None,
        "--work-region",
        help="工作地行政区划代码（GB/T 2260） / GB/T 2260 code of the region of work",
        metavar="CODE",
        parser=options.region("--work-region"),
    ),
    hukou_region: str = typer.Option(
        None,
        "--hukou-region",
        help="户籍地行政区划代码（GB/T 2260） / GB/T 2260 code of the hukou",
        metavar="CODE",
        parser=options.region("--hukou-region"),
    ),
    scheme: Scheme = typer.Option(
        "employee_pension",
        "--scheme",
        help=options.SCHEME_HELP,
        metavar="SCHEME",
        parser=options.scheme("--scheme", ENROLLABLE),
    ),
    file: Path = typer.Option(
        None,
        "--file",
        help="参保人员文件（.csv 或 .parquet）：resident_id、work_region，可选 hukou_region、scheme"
        " / a workers file (.csv or .parquet): resident_id, work_region, optional hukou_region,"
        " scheme",
        metavar="FILE",
        parser=options.input_file("--file"),
    ),
    out: Path = typer.Option(
        None,
        "--out",
        help=f"配合 --file：{MAP_HELP_ZH} / with --file: {MAP_HELP_EN}",
        metavar="FILE",
        parser=options.output_file("--out"),
    ),
    errors: Path = typer.Option(
        None,
        "--errors",
        help=f"配合 --file：{ERRORS_HELP}",
        metavar="FILE",
        parser=options.output_file("--errors"),
    ),
    as_json: bool = JSON,
) -> None:
    """参保登记：在工作地为灵活就业人员登记参保，或按文件批量登记 / Enrol a flexible worker in a
    scheme where they work, or a file of them."""
    from suiren.cli.intake import enrol_file
    from suiren.services.workers import enrol as enrol_service

    if file is not None:
        if resident_id or work_region or hukou_region:
            raise InvalidInput(message("cli.enrol-file-excludes"))
        enrol_file(file, out, errors, as_json)
        return
    if out is not None or errors is not None:
        raise InvalidInput(
            message("cli.with-file", options=Text("--out 和 --errors", "--out and --errors"))
        )
    if not resident_id or not work_region:
        raise InvalidInput(
            message(
                "cli.give",
                options=Text("--resident-id 和 --work-region", "--resident-id and --work-region"),
            )
        )
    ctx = Context.build()
    with ctx.transaction() as connection:
        result = enrol_service(
            connection,
            ctx.policy,
            ctx.vault(),
            resident_id,
            work_region,
            hukou_region,
            ctx.now(),
            scheme,
        )
    w = result.worker
    payload = {
        "worker_id": w.worker_id,
        "resident_id": w.masked_id,
        "sex": w.sex,
        "birth_month": str(w.birth_month),
        "hukou_region": w.hukou_region,
        "work_region": w.work_region,
        "scheme": result.scheme.value,
        "region": result.region,
        "start_month": str(result.start_month),
        "created": result.created,
        "temporary_account": result.temporary,
    }
    done = ("已参保", "enrolled") if result.created else ("此前已参保", "already enrolled")
    temporary = ("（临时账户）", " (temporary account)") if result.temporary else ("", "")
    who = f"{w.worker_id}（{w.masked_id}）{scheme.value}"
    emit(
        payload,
        as_json,
        said(
            f"{done[0]}：{who}，参保地 {result.region}{temporary[0]}",
            f"{done[1]}: {w.worker_id} ({w.masked_id}) {scheme.value}, in {result.region}"
            f"{temporary[1]}",
        ),
    )


@worker_app.command("import-history")
def worker_import_history(
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="分段缴费记录文件（.csv 或 .parquet）：resident_id、region、from_month、to_month、"
        "kind（paid 实际缴费、deemed 视同缴费、temporary 临时账户），可选 scheme、base_yuan、"
        "index、hukou_region、sex、birth_month；同一人的行须相邻 / a stints file (.csv or"
        " .parquet): resident_id, region, from_month, to_month, kind (paid, deemed or"
        " temporary), optional scheme, base_yuan, index, hukou_region, sex, birth_month; one"
        " person's rows together",
        parser=options.input_file("FILE"),
    ),
    balances: Path = typer.Option(
        None,
        "--balances",
        help="个人账户余额文件（.csv 或 .parquet）：resident_id、region、account_yuan、"
        "as_of（YYYY-12-31），可选 scheme / individual-account balances (.csv or .parquet):"
        " resident_id, region, account_yuan, as_of (YYYY-12-31), optional scheme",
        metavar="FILE",
        parser=options.input_file("--balances"),
    ),
    all_or_nothing: bool = typer.Option(
        False,
        "--all-or-nothing",
        help="任一行被拒绝则全部不导入 / import nothing if any row is refused",
    ),
    out: Path = typer.Option(
        None,
        "--out",
        help=f"{MAP_HELP_ZH} / {MAP_HELP_EN}",
        metavar="FILE",
        parser=options.output_file("--out"),
    ),
    errors: Path = typer.Option(
        None,
        "--errors",
        help=ERRORS_HELP,
        metavar="FILE",
        parser=options.output_file("--errors"),
    ),
    as_json: bool = JSON,
) -> None:
    """历史缴费记录迁移：从经办机构的旧系统导入劳动者此前的记录 / Import workers' earlier
    history from an agency's old system.

    已缴月份、视同缴费年限、临时账户和个人账户余额记为期初记录，每条规则读取它们与读取在随人
    缴费的月份一样。

    Months paid, deemed years, temporary accounts and account balances, as opening entries
    that every rule reads like months paid through Suiren."""
    from suiren.cli.intake import history_file

    history_file(file, balances, all_or_nothing, out, errors, as_json)


@worker_app.command("sessions-end")
def worker_sessions_end(
    worker_id: str = typer.Argument(
        ..., help=options.WORKER_HELP, metavar="WORKER", parser=options.worker()
    ),
    as_json: bool = JSON,
) -> None:
    """结束该人员的所有登录会话：此前的令牌从下一个请求起被拒绝，记入全国日记账 / End
    every session of the worker (a phone lost, a login taken over): their tokens signed
    before are refused from the next request on; recorded in the national journal."""
    from suiren.services.logins import BY_COMMAND_LINE, end_sessions
    from suiren.services.workers import get_worker

    ctx = Context.build()
    with ctx.transaction() as connection:
        get_worker(connection, worker_id)  # an unknown worker: 错误 / error, nothing written
        end_sessions(connection, worker_id, ctx.now(), BY_COMMAND_LINE)
    emit(
        {"worker_id": worker_id, "sessions_ended": True},
        as_json,
        said(
            f"已结束人员 {worker_id} 的所有登录会话，其须重新登录",
            f"every session of worker {worker_id} ended: they log in again",
        ),
    )


@worker_app.command("statement")
def worker_statement(
    worker_id: str = typer.Argument(
        ..., help=options.WORKER_HELP, metavar="WORKER", parser=options.worker()
    ),
    as_json: bool = JSON,
) -> None:
    """个人权益记录：按月份、地区和险种列出缴费，以及缴费月数和余额 / Contributions by month,
    region and scheme, contribution months and balances."""
    from suiren.services.statement import statement as statement_service

    ctx = Context.build()
    with ctx.transaction() as connection:
        data = statement_service(connection, worker_id)
    masked, total = data["worker"]["resident_id"], data["contribution_months_total"]
    lines = [
        said(
            f"人员 {worker_id}（{masked}），缴费月数：{total}",
            f"worker {worker_id} ({masked}), months paid: {total}",
        )
    ]
    lines += [_statement_month(m) for m in data["months"]]
    lines += balance_lines(data["balances"])
    emit(data, as_json, "\n".join(lines))


# a month's status in a statement (``services.statement``): its name's code
MONTH_STATUS = {"paid": "month-status.paid", "reversed": "month-status.reversed"}


def _statement_month(m: dict[str, Any]) -> str:
    """A month of a statement: its Chinese line, then its English line."""
    head, due = f"  {m['month']} {m['region']}", fen_to_yuan_str(m["due_fen"])
    status = m["status"]
    return said(
        f"{head} 基数 {m['base_yuan']}，应缴 {due}，{named(MONTH_STATUS, status)}",
        f"{head} base {m['base_yuan']}, due {due}, {status}",
    )


def contribute(
    worker_id: str = typer.Argument(
        None,
        help="人员编号（不与 --file 同用） / the worker (not with --file)",
        metavar="WORKER",
        parser=options.worker(),
    ),
    month: Month = MONTH,
    month_from: Month = MONTH_FROM,
    month_to: Month = MONTH_TO,
    base_fen: int = typer.Option(
        None,
        "--base",
        help=BASE_HELP,
        metavar="YUAN",
        parser=options.yuan("--base"),
    ),
    request_id: str = typer.Option(
        None,
        "--id",
        help=PAYMENT_ID_HELP,
        metavar="ID",
        parser=options.identifier("--id", "payment-id"),
    ),
    scheme: Scheme = typer.Option(
        None,
        "--scheme",
        help=options.SCHEME_HELP,
        metavar="SCHEME",
        parser=options.scheme("--scheme", ENROLLABLE),
    ),
    file: Path = typer.Option(
        None,
        "--file",
        help="缴费文件（.csv 或 .parquet）：payment_id、month、base_yuan、worker_id 或"
        " resident_id，可选 scheme / a payments file (.csv or .parquet): payment_id, month,"
        " base_yuan, worker_id or resident_id, optional scheme",
        metavar="FILE",
        parser=options.input_file("--file"),
    ),
    all_or_nothing: bool = typer.Option(
        False,
        "--all-or-nothing",
        help="配合 --file：任一行被拒绝则全部不入账 / with --file: post nothing if any row is"
        " refused",
    ),
    errors: Path = typer.Option(
        None,
        "--errors",
        help=f"配合 --file：{ERRORS_HELP}",
        metavar="FILE",
        parser=options.output_file("--errors"),
    ),
    as_json: bool = JSON,
) -> None:
    """缴费：单月（--month）、连续月份（--from、--to）或一个文件 / Pay contributions for a month
    (--month) or a range (--from, --to), or a file."""
    from suiren.cli.intake import pay_file

    if file is not None:
        given = [
            n
            for n, v in (
                ("WORKER", worker_id),
                ("--month", month),
                ("--from", month_from),
                ("--to", month_to),
                ("--base", base_fen),
                ("--id", request_id),
                ("--scheme", scheme),
            )
            if v is not None
        ]
        if given:
            raise InvalidInput(
                message("cli.file-excludes", options=Text("、".join(given), ", ".join(given)))
            )
        pay_file(file, all_or_nothing, errors, as_json)
        return
    if all_or_nothing or errors is not None:
        raise InvalidInput(
            message(
                "cli.with-file",
                options=Text("--all-or-nothing 和 --errors", "--all-or-nothing and --errors"),
            )
        )
    missing = [
        n
        for n, v in (("WORKER", worker_id), ("--base", base_fen), ("--id", request_id))
        if v is None
    ]
    if missing:
        raise InvalidInput(
            message("cli.give", options=Text("、".join(missing), ", ".join(missing)))
        )
    pay(
        worker_id,
        month,
        month_from,
        month_to,
        base_fen,
        request_id,
        scheme or Scheme.EMPLOYEE_PENSION,
        as_json,
    )


def pay(
    worker_id: str,
    month: Month | None,
    month_from: Month | None,
    month_to: Month | None,
    base_fen: int,
    request_id: str,
    scheme: Scheme,
    as_json: bool,
) -> None:
    """The one contribution command, for every scheme (its options parsed by cli/options.py)."""
    from suiren.services.contributions import contribute as contribute_service

    if month is not None and month_from is None and month_to is None:
        first, last = month, month
    elif month is None and month_from is not None:
        first, last = month_from, month_to or month_from
    else:
        raise InvalidInput(message("cli.month-or-range"))
    ctx = Context.build()
    paid = ctx.run(
        lambda connection: contribute_service(
            connection, ctx.policy, request_id, worker_id, first, last, base_fen, ctx.now(), scheme
        )
    )
    emit([p.to_json() for p in paid], as_json, "\n".join(paid_lines(p) for p in paid))


def paid_lines(p: MonthPaid) -> str:
    """A month paid: its Chinese line, then its English line with the same amounts."""
    due, account = fen_to_yuan_str(p.due_fen), fen_to_yuan_str(p.individual_account_fen)
    pooled, hukou = fen_to_yuan_str(p.pooled_fen), fen_to_yuan_str(p.hukou_fen)
    held = (
        (
            f"，其中户籍地 {p.hukou_region} {hukou}",
            f", of which at hukou region {p.hukou_region} {hukou}",
        )
        if p.hukou_fen
        else ("", "")
    )
    replayed = (" [重放]", " [replayed]") if p.replayed else ("", "")
    notes = "".join(f"\n{line}" for line in warning_lines(p.warnings()))
    head = f"{p.tx_id}: {p.month} {p.scheme}"
    return (
        f"{head} 应缴 {due}（个人账户 {account}，统筹 {pooled}{held[0]}）{replayed[0]}\n"
        f"{head} due {due} (account {account}, pooled {pooled}{held[1]}){replayed[1]}{notes}"
    )


def reverse(
    tx_id: str = typer.Argument(
        ...,
        help="要冲销的缴费月份，如 pay-2026q1/2026-03 / the month to reverse, such as"
        " pay-2026q1/2026-03",
        metavar="ID",
        parser=options.identifier("TX_ID", "month-to-reverse"),
    ),
    reversal_id: str = typer.Option(
        ...,
        "--id",
        help="本次红冲的幂等键 / idempotency key of the reversal",
        metavar="ID",
        parser=options.identifier("--id", "reversal-id"),
    ),
    memo: str = typer.Option(
        "",
        "--memo",
        help="备注（一行） / a memo (one line)",
        metavar="TEXT",
        parser=options.text("--memo"),
    ),
    as_json: bool = JSON,
) -> None:
    """红冲：以一笔新的负向交易冲销一笔交易 / Reverse a transaction with a new, negating
    transaction."""
    from suiren.services.reversals import reverse as reverse_service

    ctx = Context.build()
    posted = ctx.run(
        lambda connection: reverse_service(
            connection, tx_id, reversal_id, ctx.now(), memo, ctx.policy
        )
    )
    emit(
        {
            "tx_id": posted.tx_id,
            "region": posted.region,
            "seq": posted.seq,
            "replayed": posted.replayed,
        },
        as_json,
        said(f"已红冲 {tx_id}，冲销交易 {posted.tx_id}", f"reversed {tx_id} by {posted.tx_id}"),
    )


@interest_app.command("credit")
def interest_credit(
    year: int = typer.Option(
        ...,
        "--year",
        help="记息年度 YYYY / the year YYYY",
        metavar="YYYY",
        parser=options.year("--year"),
    ),
    as_json: bool = JSON,
) -> None:
    """记息：为每个个人账户记入一年的利息（每年只记一次） / Credit a year's interest to every
    individual account (idempotent per year)."""
    from suiren.services.interest import credit_interest

    ctx = Context.build()
    with ctx.transaction() as connection:
        runs = credit_interest(connection, ctx.policy, year, ctx.now())
    payload = [r.to_json() for r in runs]
    human = "\n".join(_interest_line(r) for r in runs) or said(
        "没有个人账户", "no individual accounts"
    )
    emit(payload, as_json, human)


def _interest_line(run: InterestRun) -> str:
    """One region's run, with the rate it used and whether that rate is provisional (the
    year's rate not yet published: the latest published one, said so)."""
    from decimal import Decimal
    from fractions import Fraction

    rate = Fraction(run.rate) if run.rate else None
    shown = "" if rate is None else f"{Decimal(rate.numerator) / Decimal(rate.denominator)}"
    rated = (f"，利率 {shown}", f" at {shown}") if shown else ("", "")
    note = (
        (
            "（暂定：当年利率尚未公布，按最近公布的利率记息）",
            " (provisional: the year's rate is not published yet; the latest published one was"
            " used)",
        )
        if run.provisional
        else ("", "")
    )
    head = f"{run.region} {run.year}"
    if run.skipped:  # a replay: the rate its first run used, and whether that was provisional
        return said(
            f"{head}：此前已记息{rated[0]}{note[0]}", f"{head}: already credited{rated[1]}{note[1]}"
        )
    total = fen_to_yuan_str(run.total_fen)
    return said(
        f"{head}：{run.accounts} 个账户，{total} 元{rated[0]}{note[0]}",
        f"{head}: {run.accounts} accounts, {total} yuan{rated[1]}{note[1]}",
    )


@audit_app.command("verify")
def audit_verify(
    checkpoint: Path = typer.Option(
        None,
        "--checkpoint",
        help="并证明此签名检查点之前的内容均未改动 / also prove nothing up to this signed"
        " checkpoint changed",
        metavar="FILE",
        parser=options.input_file("--checkpoint"),
    ),
    as_json: bool = JSON,
) -> None:
    """核验：重算哈希链、投影和余额，有差异则逐一列出并以状态 1 退出 / Recompute chains,
    projections and balances; exit 1 naming every difference."""
    from suiren.store.audit import verify
    from suiren.store.checkpoint import parse_checkpoint

    anchor = None if checkpoint is None else parse_checkpoint(_read_checkpoint(checkpoint))
    ctx = Context.build()
    with ctx.transaction() as connection:
        result = verify(connection, anchor)
    if result.ok:
        at = result.checkpoint["created_at"] if result.checkpoint else None
        counts = (result.transactions, result.months, result.facts, result.accounts)
        human = said(
            "核验通过：日记账 {} 条，缴费月 {} 个，事实 {} 条，账户 {} 个".format(*counts)
            + (f"；{at} 的检查点之前未有改动" if at else ""),
            "ok: {} journal entries, {} contribution months, {} facts, {} accounts verified".format(
                *counts
            )
            + (f"; the checkpoint of {at} holds" if at else ""),
        )
    else:  # each problem as the audit names it (store/audit.py), in Chinese, then in English
        human = said("核验失败：", "FAILED:") + _problem_lines(result.problems)
    if result.repaired:
        human += "\n" + said("曾被改动、已由服务修复：", "found altered earlier and repaired:")
        human += _problem_lines(result.repaired)
    emit(result.to_json(), as_json, human)
    if not result.ok:
        raise typer.Exit(1)


def _problem_lines(problems: list[Problem]) -> str:
    return "".join(f"\n  {line}" for p in problems for line in p.lines())


def _read_checkpoint(path: Path) -> str:
    try:
        if not path.is_file():
            raise InvalidInput(message("checkpoint.not-a-file", path=path))
        if path.stat().st_size > CHECKPOINT_BYTES_MAX:
            raise InvalidInput(message("checkpoint.too-large", path=path))
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InvalidInput(message("checkpoint.not-utf8", path=path)) from None


@audit_app.command("checkpoint")
def audit_checkpoint(
    out: Path = typer.Option(
        None,
        "--out",
        help="写入此文件（默认：标准输出） / write to this file (default: standard output)",
        metavar="FILE",
        parser=options.output_file("--out"),
    ),
) -> None:
    """检查点：写出各地区经密钥签名的链头，交经办机构保存 / Write every region's chain head,
    signed with the key, for the agency to keep."""
    from suiren.store.checkpoint import make_checkpoint

    ctx = Context.build()
    with ctx.transaction() as connection:
        data = make_checkpoint(connection, ctx.now())
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        print(text, end="")
        return
    from suiren.services.output_files import write_private

    write_private(out, text, "--out", overwrite=False)  # a checkpoint is never overwritten
    regions = len(data["heads"])
    print(
        said(
            f"{regions} 个地区的检查点已写入 {out}",
            f"checkpoint of {regions} regions written to {out}",
        )
    )


# an API key's actor (``api.auth.ActorKind``): its name's code
ACTORS = {
    "platform": "actor.platform",
    "agency": "actor.agency",
    "analyst": "actor.analyst",
    "auditor": "actor.auditor",
}

api_key_app = typer.Typer(
    help="平台、经办机构、分析人员和审计人员的 API 密钥 / API keys for platforms, agencies,"
    " analysts and auditors.",
    no_args_is_help=True,
)


@api_key_app.command("issue")
def api_key_issue(
    actor: str = typer.Option(
        ...,
        "--actor",
        help="使用者：platform 平台、agency 经办机构、analyst 分析人员或 auditor 审计人员"
        " / platform, agency, analyst or auditor",
        metavar="KIND",
        parser=options.choice("--actor", ["platform", "agency", "analyst", "auditor"], "choice"),
    ),
    scope: str = typer.Option(
        "",
        "--scope",
        help="经办机构的行政区划代码（可见该地区及其下级地区）；平台的编号 / an agency's"
        " region code (it sees that region and those under it); a platform's id",
        metavar="SCOPE",
        parser=options.identifier("--scope", "scope", 64),
    ),
    label: str = typer.Option(
        "",
        "--label",
        help="标签（一行） / a label (one line)",
        metavar="TEXT",
        parser=options.text("--label"),
    ),
    as_json: bool = JSON,
) -> None:
    """签发 API 密钥：只显示一次，只保存其哈希 / Issue an API key: shown once, only its hash is
    kept."""
    from suiren.api.auth import ActorKind, issue_key

    ctx = Context.build()
    with ctx.transaction() as connection:
        key, who = issue_key(connection, ActorKind(actor), scope, label, ctx.now())
    emit(
        {"key": key, "key_id": who.key_id, "actor": who.kind.value, "scope": who.scope},
        as_json,
        key
        + "\n"
        + said(
            f"（密钥编号 {who.key_id}，{named(ACTORS, who.kind.value)} {who.scope}；仅显示一次）",
            f"(key {who.key_id}, {who.kind.value} {who.scope}; shown once)",
        ),
    )


@api_key_app.command("revoke")
def api_key_revoke(
    key: str = typer.Argument(
        ...,
        metavar="KEY_ID",
        help="密钥编号（或密钥本身） / the key's id (or the key itself)",
        parser=options.identifier("KEY_ID", "key-id", 128),
    ),
    as_json: bool = JSON,
) -> None:
    """撤销密钥：从下一个请求起拒绝该密钥 / Revoke an API key: refused from the next request
    on."""
    from suiren.api.auth import revoke_key

    ctx = Context.build()
    with ctx.transaction() as connection:
        when = revoke_key(connection, key, ctx.now())
    emit(
        {"revoked_at": when.isoformat()},
        as_json,
        said(f"已撤销（{when.isoformat()}）", f"revoked ({when.isoformat()})"),
    )


@api_key_app.command("list")
def api_key_list(as_json: bool = JSON) -> None:
    """已签发的密钥：编号、使用者、范围、标签、签发和撤销时间，从不显示密钥本身 / The keys
    issued (ids, actors, scopes, labels, issued and revoked; never a key)."""
    from suiren.api.auth import list_keys

    ctx = Context.build()
    with ctx.transaction() as connection:
        keys = list_keys(connection)
    lines = [
        said(
            f"{k['key_id']}  {named(ACTORS, k['actor']):6} {k['scope'] or '-':12}"
            f" {k['label']}" + (f"  已撤销 {k['revoked_at']}" if k["revoked_at"] else ""),
            f"{k['key_id']}  {k['actor']:8} {k['scope'] or '-':12} {k['label']}"
            + (f"  revoked {k['revoked_at']}" if k["revoked_at"] else ""),
        )
        for k in keys
    ]
    emit(keys, as_json, "\n".join(lines) or said("尚无密钥", "no keys"))
