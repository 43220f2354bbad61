"""Platform commands (平台企业): declare a worker it engages and the relation
(人社部发〔2021〕56号), end an engagement, list its workers — the twins of
``POST/GET /api/v1/platform/workers`` (services/platforms.py)."""

from __future__ import annotations

from datetime import date

import typer

from suiren.cli import options
from suiren.cli.context import Context, emit, said

platform_app = typer.Typer(
    help="平台企业：平台对其所用劳动者的声明 / A platform's declarations of the workers it"
    " engages.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help=options.JSON_HELP)
RELATIONS = ("labour", "incomplete", "civil")
PLATFORM = typer.Option(
    ...,
    "--platform",
    help="平台编号（其 API 密钥的范围） / the platform's id (its API key's scope)",
    metavar="ID",
    parser=options.identifier("--platform", "platform-id", 64),
)


@platform_app.command("declare")
def platform_declare(
    platform_id: str = PLATFORM,
    resident_id: str = typer.Option(
        ...,
        "--resident-id",
        help="公民身份号码（18 位） / 18-character resident id",
        metavar="RESIDENT_ID",
        parser=options.resident_id("--resident-id"),
    ),
    work_region: str = typer.Option(
        ...,
        "--work-region",
        help="工作地行政区划代码（GB/T 2260） / GB/T 2260 code of the region of work",
        metavar="CODE",
        parser=options.region("--work-region"),
    ),
    relation: str = typer.Option(
        ...,
        "--relation",
        help="用工关系：labour 劳动关系、incomplete 不完全符合确立劳动关系情形、civil 民事关系"
        "（人社部发〔2021〕56号） / the relation: labour, incomplete or civil",
        metavar="RELATION",
        parser=options.choice("--relation", RELATIONS),
    ),
    since: date = typer.Option(
        None,
        "--from",
        help="用工起始日（默认今天；不得晚于今天） / the first day engaged (default today; not"
        " after today)",
        metavar="YYYY-MM-DD",
        parser=options.day("--from"),
    ),
    as_json: bool = JSON,
) -> None:
    """用工声明：声明平台所用的劳动者（按身份证号码查找，或登记） / Declare a worker the
    platform engages (found by resident id, or registered)."""
    from suiren.services.platforms import declare

    ctx = Context.build()
    done = ctx.run(
        lambda c: declare(
            c,
            ctx.policy,
            ctx.vault(),
            platform_id,
            resident_id,
            work_region,
            relation,
            since,
            ctx.now(),
        )
    )
    e = done.engagement
    what = (
        ("已声明", "declared")
        if done.recorded
        else ("此前已声明，未写入", "already declared (nothing written)")
    )
    human = said(
        f"人员 {done.worker_id}（{done.masked_id}）{what[0]}：{e.relation.legal_term}，"
        f"{e.work_region}，起始 {e.since}（期间 {e.period}）",
        f"worker {done.worker_id} ({done.masked_id}) {what[1]}: {e.relation.value},"
        f" {e.work_region}, from {e.since} (period {e.period})",
    )
    emit(done.to_json() | {"new_worker": done.new_worker}, as_json, human)


@platform_app.command("end")
def platform_end(
    worker_id: str = typer.Argument(
        ..., help=options.WORKER_HELP, metavar="WORKER", parser=options.worker()
    ),
    platform_id: str = PLATFORM,
    until: date = typer.Option(
        None,
        "--until",
        help="用工的最后一天（默认今天；不得晚于今天） / the last day engaged (default today;"
        " not after today)",
        metavar="YYYY-MM-DD",
        parser=options.day("--until"),
    ),
    as_json: bool = JSON,
) -> None:
    """结束用工：以最后一天结束平台对劳动者的用工 / End the platform's engagement of the worker
    on its last day."""
    from suiren.services.platforms import end

    ctx = Context.build()
    state, recorded = ctx.run(lambda c: end(c, platform_id, worker_id, until, ctx.now()))
    what = (
        ("已结束", "ended")
        if recorded
        else ("此前已结束，未写入", "already ended (nothing written)")
    )
    emit(
        {"worker_id": worker_id, "recorded": recorded, "engagement": state.to_json()},
        as_json,
        said(
            f"人员 {worker_id} {what[0]}：最后一天 {state.until}（期间 {state.period}）",
            f"worker {worker_id} {what[1]}: last day {state.until} (period {state.period})",
        ),
    )


@platform_app.command("list")
def platform_list(
    platform_id: str = PLATFORM,
    as_json: bool = JSON,
) -> None:
    """平台的劳动者，各附最近一次用工（身份证号码已遮蔽） / The platform's workers, each with
    its latest engagement (resident ids masked)."""
    from suiren.services.platforms import check_platform, engaged

    check_platform(platform_id)
    ctx = Context.build()
    items = []
    after = ""
    with ctx.transaction() as connection:
        while True:
            page = engaged(connection, platform_id, after, 1_000)
            items += [{"worker_id": e.worker_id, "resident_id": m, **e.to_json()} for e, m in page]
            if len(page) < 1_000:
                break
            after = page[-1][0].worker_id
    lines = [
        f"{i['worker_id']} {i['resident_id']} {i['relation']} {i['work_region']}"
        f" {i['since']}…{i['until'] or ''}"
        for i in items
    ]
    human = "\n".join(lines) or said("无", "none")
    emit({"platform_id": platform_id, "workers": items}, as_json, human)
