"""Transfer and settlement commands: transfer request|approve|accept|complete|reject|status|gather,
settlement close|report.

``--scheme`` (employee_pension by default, or employee_medical) chooses the insurance a
transfer moves and the settlement windows a command closes or reports. Human output gives
the Chinese term first, then the English one."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer

from suiren.cli import options
from suiren.cli.context import Context, emit, said, warning_lines
from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message
from suiren.domain.money import fen_to_yuan_str
from suiren.ledger.accounts import Scheme
from suiren.ledger.transaction import GATHER_ID_CHARS_MAX as GATHER_ID_MAX
from suiren.policy import SCENARIOS, load_policy

if TYPE_CHECKING:
    from suiren.services.transfers import TransferView

transfer_app = typer.Typer(
    help="转移接续：养老和医疗保险在地区之间的转移 / Pension and medical insurance transfers"
    " between regions.",
    no_args_is_help=True,
)
settlement_app = typer.Typer(
    help="清算：地区基金之间的清算 / Settlement between regional funds.", no_args_is_help=True
)
JSON = typer.Option(False, "--json", help=options.JSON_HELP)
TRANSFERABLE = {
    Scheme.EMPLOYEE_PENSION.value: "职工养老",
    Scheme.EMPLOYEE_MEDICAL.value: "职工医保",
}
SCHEME = typer.Option(
    Scheme.EMPLOYEE_PENSION.value,
    "--scheme",
    help=options.SCHEME_HELP,
    metavar="SCHEME",
    parser=options.scheme("--scheme", [Scheme(s) for s in TRANSFERABLE]),
)
SCENARIO = typer.Option(
    None,
    "--scenario",
    help=f"政策方案，{'、'.join(SCENARIOS)} 之一 / one of {', '.join(SCENARIOS)}",
    metavar="NAME",
    parser=options.choice("--scenario", SCENARIOS, "scenario"),
)
TRANSFER_ID = typer.Argument(
    ...,
    help="转移编号 / the transfer's id",
    metavar="ID",
    parser=options.identifier("TRANSFER_ID", "transfer-id"),
)
WORKER = typer.Argument(..., help=options.WORKER_HELP, metavar="WORKER", parser=options.worker())
WINDOW = typer.Option(
    ...,
    "--window",
    help="清算窗口的日期 YYYY-MM-DD / the window's day YYYY-MM-DD",
    metavar="YYYY-MM-DD",
    parser=options.day("--window"),
)
KIND_NAMES = {"move": "转移", "continue": "接续", "gather": "归集", "claim": "待遇领取地转入"}


def _line(view: TransferView) -> str:
    """One transfer: id, 险种 scheme, 类型 kind, from → to, state and amounts, its Chinese
    line then its English line with the same amounts."""
    head = f"{view.transfer_id}: {view.worker_id} {view.from_region} → {view.to_region}"
    state = message(f"transfer-state.{view.state}").zh
    amounts = [fen_to_yuan_str(f) for f in (view.account_fen, view.pooled_fen, view.kept_fen)]
    zh = (
        f"{head} [{state}] {TRANSFERABLE.get(view.scheme, view.scheme)}，"
        f"{KIND_NAMES.get(view.kind, view.kind)}（{view.scenario}）：个人账户 {amounts[0]}，"
        f"统筹 {amounts[1]}，留在原地 {amounts[2]}{'，临时账户' if view.temporary else ''}；"
        f"期限 {view.due_on}"
    )
    en = (
        f"{head} [{view.state}] {view.scheme}, {view.kind} ({view.scenario}): account"
        f" {amounts[0]}, pooled {amounts[1]}, left behind {amounts[2]}"
        f"{', temporary account' if view.temporary else ''}; due {view.due_on}"
    )
    return f"{zh}\n{en}" + "".join(f"\n{line}" for line in warning_lines(view.warnings))


def _show(view: TransferView, as_json: bool) -> None:
    emit(view.to_json(), as_json, _line(view))


@transfer_app.command("request")
def request(
    transfer_id: str = typer.Argument(
        ...,
        help="本次转移的幂等键 / idempotency key of the transfer",
        metavar="ID",
        parser=options.identifier("TRANSFER_ID", "transfer-id"),
    ),
    worker_id: str = typer.Option(
        ...,
        "--worker",
        help=options.WORKER_HELP,
        metavar="WORKER",
        parser=options.worker("--worker"),
    ),
    to_region: str = typer.Option(
        ...,
        "--to",
        help="新地区的行政区划代码（GB/T 2260） / GB/T 2260 code of the new region",
        metavar="CODE",
        parser=options.region("--to"),
    ),
    scenario: str = SCENARIO,
    scheme: Scheme = SCHEME,
    as_json: bool = JSON,
) -> None:
    """申请转移：将劳动者的职工养老（或 --scheme employee_medical 职工医保）转到另一地区 / Ask to
    move the worker's employee pension (or --scheme employee_medical) to another region."""
    from suiren.services.transfers import request_transfer

    chosen = scheme
    ctx = Context.build()
    policy = load_policy(scenario) if scenario else ctx.policy
    with ctx.transaction() as connection:
        view = request_transfer(
            connection, policy, transfer_id, worker_id, to_region, ctx.now(), chosen
        )
    _show(view, as_json)


@transfer_app.command("gather")
def gather(
    worker_id: str = WORKER,
    gather_id: str = typer.Option(
        ...,
        "--id",
        help="本次归集的幂等键 / idempotency key of the gathering",
        metavar="ID",
        parser=options.identifier("--id", "gathering-id", GATHER_ID_MAX),
    ),
    to_region: str = typer.Option(
        None,
        "--to",
        help="待遇领取地的城市，在待遇领取省内（默认：按记录确定） / the paying city, in the"
        " paying province (default: chosen from the record)",
        metavar="CODE",
        parser=options.region("--to"),
    ),
    as_json: bool = JSON,
) -> None:
    """归集：退休时将临时账户和参保关系归集到待遇领取地 / Gather temporary accounts and the
    relation to the paying region at retirement.

    生成转移 ID/FROM_REGION（归集 gather、待遇领取地转入 claim），每笔再经转出、转入和办结。

    Creates the transfers ID/FROM_REGION (gather, claim); each then goes through approve,
    accept and complete."""
    from suiren.services.gathering import gather_for_retirement

    ctx = Context.build()
    with ctx.transaction() as connection:
        views = gather_for_retirement(
            connection, ctx.policy, gather_id, worker_id, ctx.now(), to_region
        )
    emit([v.to_json() for v in views], as_json, "\n".join(_line(v) for v in views))


def _step(name: str, help_text: str):  # type: ignore[no-untyped-def]
    def command(transfer_id: str = TRANSFER_ID, as_json: bool = JSON) -> None:
        from suiren.services import transfers

        action = {
            "approve": transfers.approve_transfer,
            "accept": transfers.accept_transfer,
            "complete": transfers.complete_transfer,
        }[name]
        ctx = Context.build()
        with ctx.transaction() as connection:
            view = action(connection, transfer_id, ctx.now())
        _show(view, as_json)

    command.__doc__ = help_text
    transfer_app.command(name)(command)


_step(
    "approve", "转出：原参保地将资金划入清算账户 / The old region releases the money to clearing."
)
_step(
    "accept", "转入：新参保地从清算账户接收资金 / The new region takes the money in from clearing."
)
_step(
    "complete",
    "办结：新参保地办结，劳动者在该地参保 / The new region finishes: the worker is insured there.",
)


@transfer_app.command("reject")
def reject(
    transfer_id: str = TRANSFER_ID,
    reason: str = typer.Option(
        ...,
        "--reason",
        help="拒绝理由（一行） / the reason (one line)",
        metavar="TEXT",
        parser=options.text("--reason"),
    ),
    as_json: bool = JSON,
) -> None:
    """拒绝：拒绝已申请或已转出的转移，清算中的资金退回 / Refuse a requested or approved
    transfer; money in clearing goes back."""
    from suiren.services.transfers import reject_transfer

    ctx = Context.build()
    with ctx.transaction() as connection:
        view = reject_transfer(connection, transfer_id, ctx.now(), reason)
    _show(view, as_json)


@transfer_app.command("status")
def status(
    transfer_id: str = typer.Argument(
        None,
        help="转移编号 / the transfer's id",
        metavar="ID",
        parser=options.identifier("TRANSFER_ID", "transfer-id"),
    ),
    show_overdue: bool = typer.Option(
        False,
        "--overdue",
        help="列出已超过办理期限的未办结转移 / list open transfers past their deadline",
    ),
    expire: bool = typer.Option(
        False,
        "--expire",
        help="使未按期转出的申请失效 / expire requests never approved in time",
    ),
    as_json: bool = JSON,
) -> None:
    """查询转移：一笔转移，或已逾期的转移 / One transfer, or the overdue ones."""
    from suiren.services.transfers import expire_overdue, get_transfer, overdue

    ctx = Context.build()
    with ctx.transaction() as connection:
        if transfer_id:
            _show(get_transfer(connection, transfer_id), as_json)
            return
        if not (show_overdue or expire):
            raise InvalidInput(message("cli.transfer-show"))
        views = (
            expire_overdue(connection, ctx.now())
            if expire
            else overdue(connection, ctx.now().date())
        )
    emit(
        [v.to_json() for v in views],
        as_json,
        "\n".join(_overdue_line(v) for v in views) or said("无", "none"),
    )


def _overdue_line(view: TransferView) -> str:
    """An overdue transfer: its id, state and deadline, a Chinese line then an English one."""
    state = message(f"transfer-state.{view.state}").zh
    return said(
        f"{view.transfer_id} [{state}] 期限 {view.due_on}",
        f"{view.transfer_id} [{view.state}] due {view.due_on}",
    )


@settlement_app.command("close")
def close(
    day: date = WINDOW,
    chosen: Scheme = SCHEME,
    as_json: bool = JSON,
) -> None:
    """关闭清算窗口：按地区轧差并记入清算交易 / Net the window's transfers per region and post
    the settlement transactions."""
    from suiren.services.settlement import close_window

    ctx = Context.build()
    with ctx.transaction() as connection:
        result = close_window(connection, day, ctx.now(), chosen)
    _report(result, chosen, as_json)


@settlement_app.command("report")
def show(
    day: date = WINDOW,
    chosen: Scheme = SCHEME,
    as_json: bool = JSON,
) -> None:
    """清算报告：一个窗口的地区间资金矩阵和净额 / The region × region matrix and net
    positions of a window."""
    from suiren.services.settlement import report

    ctx = Context.build()
    with ctx.transaction() as connection:
        result = report(connection, day, chosen)
    _report(result, chosen, as_json)


def _report(result, scheme: Scheme, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    data = result.to_json() | {"scheme": scheme.value}
    state = ("已清算", "closed") if data["closed"] else ("未清算", "open")
    lines = [
        said(
            f"清算窗口 {data['window']} {TRANSFERABLE[scheme.value]}（{state[0]}）",
            f"window {data['window']} {scheme.value} ({state[1]})",
        )
    ]
    lines += [
        f"  {f['from']} → {f['to']}: {fen_to_yuan_str(f['amount_fen'])} ({f['transfers']})"
        for f in data["flows"]
    ]
    lines += [
        said(f"  净额 {r}：{fen_to_yuan_str(n)}", f"  net {r}: {fen_to_yuan_str(n)}")
        for r, n in data["net_positions_fen"].items()
    ]
    emit(data, as_json, "\n".join(lines))
