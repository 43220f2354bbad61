"""``suiren clerk add`` / ``move`` / ``sessions-end``: an agency clerk's console login (经办人员,
services/clerks.py), a move to another region's desk (which ends their sessions), and the
end of every session of theirs (all recorded in the national journal).

The password is generated and printed once (only its argon2id hash is kept), or read from
the first line of standard input with ``--password-stdin`` (so that it never appears in a
shell's history or a process list)."""

from __future__ import annotations

import sys
from typing import Any

import typer

from suiren.cli import options
from suiren.cli.context import Context, emit, said
from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message

clerk_app = typer.Typer(
    help="经办人员：经办控制台（/console/）的登录 / Agency clerks' logins to the console"
    " (/console/).",
    no_args_is_help=True,
)
PASSWORD_LINE_CHARS_MAX = 1024  # a pasted line; the service takes 8 to 128 characters


def _login_option(help_text: str) -> Any:
    return typer.Option(
        ...,
        "--login",
        help=help_text,
        metavar="NAME",
        parser=options.identifier("--login", "login-name", 40),
    )


def _region_option(help_text: str) -> Any:
    return typer.Option(
        ...,
        "--region",
        help=help_text,
        metavar="CODE",
        parser=options.identifier("--region", "region-code", 6),
    )


@clerk_app.command("add")
def clerk_add(
    login: str = _login_option(
        "登录名：3 至 40 个 a-z 0-9 . _ - 字符 / the login name: 3 to 40 of a-z 0-9 . _ -"
    ),
    region: str = _region_option(
        "经办人员所属地区：省、市或 000000（全国） / the clerk's region: a province, a city, or"
        " 000000 (national)"
    ),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="从标准输入读取密码（一行） / read the password from standard input (one line)",
    ),
    as_json: bool = typer.Option(False, "--json", help=options.JSON_HELP),
) -> None:
    """添加经办人员：不带 --password-stdin 时生成密码，只显示一次 / Add a clerk: without
    --password-stdin a password is generated and shown once."""
    from suiren.services.clerks import add_clerk, generate_password

    if password_stdin:
        line = sys.stdin.readline(PASSWORD_LINE_CHARS_MAX + 1)
        if len(line) > PASSWORD_LINE_CHARS_MAX:
            raise InvalidInput(message("password.line-too-long"), field="password")
        password, shown = line.rstrip("\r\n"), False
    else:
        password, shown = generate_password(), True
    ctx = Context.build()
    with ctx.transaction() as connection:
        clerk = add_clerk(connection, login, region, password, ctx.now())
    payload = {"login": clerk.login, "region": clerk.region}
    human = said(
        f"已添加 {clerk.region} 的经办人员 {clerk.login}，在 /console/ 登录",
        f"clerk {clerk.login} of {clerk.region} added; log in at /console/",
    )
    if shown:
        payload["password"] = password
        human += "\n" + said(
            f"密码（仅显示一次）：{password}", f"password (shown once): {password}"
        )
    emit(payload, as_json, human)


@clerk_app.command("move")
def clerk_move(
    login: str = _login_option("经办人员的登录名 / the clerk's login name"),
    region: str = _region_option(
        "调往的地区：省、市或 000000（全国） / the clerk's new region: a province, a city, or"
        " 000000 (national)"
    ),
    as_json: bool = typer.Option(False, "--json", help=options.JSON_HELP),
) -> None:
    """调岗：将经办人员调至另一地区，并结束其所有登录会话 / Move a clerk to another region's
    desk, ending every session of theirs: they log in again to act for it."""
    from suiren.services.clerks import move_clerk

    ctx = Context.build()
    with ctx.transaction() as connection:
        clerk = move_clerk(connection, login, region, ctx.now())
    emit(
        {"login": clerk.login, "region": clerk.region},
        as_json,
        said(
            f"经办人员 {clerk.login} 已调至 {clerk.region}",
            f"clerk {clerk.login} now works for {clerk.region}",
        ),
    )


@clerk_app.command("sessions-end")
def clerk_sessions_end(
    login: str = _login_option("经办人员的登录名 / the clerk's login name"),
    as_json: bool = typer.Option(False, "--json", help=options.JSON_HELP),
) -> None:
    """结束该经办人员的所有登录会话：此前的令牌从下一个请求起被拒绝，记入全国日记账 / End
    every session of the clerk (a computer left logged in, a login taken over): their tokens
    signed before are refused from the next request on; recorded in the national journal."""
    from suiren.services.clerks import end_clerk_sessions
    from suiren.services.logins import BY_COMMAND_LINE

    ctx = Context.build()
    with ctx.transaction() as connection:
        clerk = end_clerk_sessions(connection, login, ctx.now(), BY_COMMAND_LINE)
    emit(
        {"login": clerk.login, "sessions_ended": True},
        as_json,
        said(
            f"已结束经办人员 {clerk.login} 的所有登录会话，其须重新登录",
            f"every session of clerk {clerk.login} ended: they log in again",
        ),
    )
