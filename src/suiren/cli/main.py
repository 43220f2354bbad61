"""``suiren``: the command-line entry point.

User errors (``SuirenError``) print a message on stderr and exit with status 2; nothing is
written to stdout. With ``--json`` the message is a JSON object on stderr with the error's
stable ``code``, the ``field`` at fault (where there is one), the ``message`` and its
Chinese ``message_zh`` (null where the message has none yet); a command line Typer refuses
(an unknown option, a missing argument) is said the same way (cli/usage.py). A database that
refuses a write (a constraint, a lost connection) exits with status 1 and a short message,
never a traceback and never the statement's values (they may hold identity data). This is
the only catch-all.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from typing import Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from suiren.cli import clerks, ledger, medical, options, pension, platforms, rules, transfers
from suiren.cli.context import dispose_all
from suiren.domain.error_titles import title
from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.messages import quoted
from suiren.domain.messages import text as message

app = typer.Typer(
    name="suiren",
    help="随人：灵活就业人员的社会保险，钱随人走 / Suiren: portable social insurance for"
    " flexible workers — money follows the person.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(pension.app, name="pension")
app.add_typer(transfers.transfer_app, name="transfer")
app.add_typer(transfers.settlement_app, name="settlement")
app.add_typer(ledger.db_app, name="db")
app.add_typer(ledger.key_app, name="key")
app.add_typer(ledger.worker_app, name="worker")
app.add_typer(ledger.interest_app, name="interest")
app.add_typer(ledger.audit_app, name="audit")
app.add_typer(ledger.api_key_app, name="api-key")
app.add_typer(clerks.clerk_app, name="clerk")
app.add_typer(medical.medical_app, name="medical")
app.add_typer(platforms.platform_app, name="platform")
app.add_typer(rules.rules_app, name="rules")
app.command("contribute")(ledger.contribute)
app.command("reverse")(ledger.reverse)


@app.command("serve")
def serve(
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="监听地址 / the address to listen on",
        metavar="ADDRESS",
        parser=options.host("--host"),
    ),
    port: int = typer.Option(
        "8000",
        "--port",
        help="端口 / the port",
        metavar="PORT",
        parser=options.port("--port"),
    ),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="迁移数据库，首次运行时生成演示数据（demo-logins.json），显示一次性验证码"
        " / migrate, seed a demo world once (demo-logins.json), show one-time codes",
    ),
    seed_only: bool = typer.Option(
        False,
        "--seed-only",
        help="配合 --demo：只生成数据并写出登录信息，不启动服务 / with --demo: seed and write"
        " the logins, do not serve",
    ),
    demo_people: int = typer.Option(
        "100",
        "--demo-people",
        help="配合 --demo：每省的劳动者人数（1–1000） / with --demo: workers per province (1–1000)",
        metavar="N",
        parser=options.count("--demo-people", 1, 1000),
    ),
) -> None:
    """启动 HTTP API（/api/v1）、劳动者门户（/）和经办控制台（/console/） / Serve the HTTP API
    (/api/v1), the worker portal (/) and the agency console (/console/).

    API 的说明在 /api/v1/openapi.json。--demo（make run）：迁移数据库，首次运行时生成演示数据
    （services/demo_world.py），登录信息写入 ./demo-logins.json。

    The API's description is at /api/v1/openapi.json. --demo (make run): the database
    migrated and, the first time, a demo world seeded (services/demo_world.py) with its
    logins in ./demo-logins.json."""
    from suiren.cli.context import Context

    ctx = Context.build()
    settings = ctx.settings
    if not seed_only:
        _can_listen(host, port)  # before a demo world is seeded and "serving on" is said
    if demo:
        from suiren.cli.demo import seed_world

        seed_world(ctx, demo_people)
        settings = settings.model_copy(update={"demo_codes": True})
    elif seed_only:
        raise SuirenError(message("cli.seed-only"))
    if seed_only:
        return
    import uvicorn

    from suiren.api.logs import log_config
    from suiren.policy import load_policy
    from suiren.policy.warm import warm_in_background
    from suiren.portal.app import create_app

    warm_in_background(load_policy(settings.scenario))  # the first estimate need not compile
    print(
        f"服务已启动：http://{host}:{port}/（劳动者门户）、/console/（经办控制台）和 /api/v1（API）\n"
        f"serving on http://{host}:{port}/ (the worker portal), /console/ (the agency console)"
        " and /api/v1 (the API)"
    )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        log_config=log_config(),
        proxy_headers=False,  # the app believes the proxies of SUIREN_FORWARDED_ALLOW_IPS
    )


def _can_listen(host: str, port: int) -> None:
    """Refuse, in both languages, an address the server cannot listen on — a port another
    server holds, one below 1024 without the right — as uvicorn would bind it; uvicorn
    said it in English after "serving on" had been printed, and exited 3."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise InvalidInput(
                    message("serve.port-in-use", port=port), field="--port"
                ) from None
            said = quoted(error.strerror or error)
            raise InvalidInput(
                message("serve.cannot-listen", host=host, port=port, error=said), field="--port"
            ) from None


@app.command("demo")
def demo() -> None:
    """演示：一次养老金测算，以及一名劳动者在账本中的首次缴费 / Show a worked pension estimate
    and a worker's first contributions in the ledger."""
    from suiren.cli.demo import demo as run_demo  # its imports are for this command only

    run_demo()


_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")  # CJK and full-width forms
_ITEM = re.compile(r"(?:[-*•]|\d+[.)]) ")


def reflowed(text: str) -> str:
    """A help text with each paragraph on one line. A docstring's line breaks are the source
    file's width: Typer keeps them (in the list of a group's commands, and in a command's
    later paragraphs), so ``suiren --help`` printed ragged lines such as ``Pay`` /
    ``contributions for a month`` / ``(--month) or a range``. Rich wraps the joined line to
    the terminal. Lines are joined with a space, or with nothing between two Chinese
    characters; a paragraph Click must not rewrap (``\\b``) and a list's items keep their
    breaks."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else _one_line(p) for p in paragraphs)


def _one_line(paragraph: str) -> str:
    joined = ""
    for line in (line.strip() for line in paragraph.splitlines()):
        if not joined:
            joined = line
        elif _ITEM.match(line):
            joined += "\n" + line
        else:
            wide = _WIDE.match(joined[-1]) and _WIDE.match(line[:1])
            joined += ("" if wide else " ") + line
    return joined


HELP_OPTION = "显示此帮助并退出 / Show this message and exit."


class _HelpInBoth:
    """A command whose ``--help`` option says what it does in Chinese, then English (click
    has it in English alone)."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_OPTION
        return option


class _Command(_HelpInBoth, TyperCommand):
    pass


class _Group(_HelpInBoth, TyperGroup):
    pass


def _reflow(typer_app: typer.Typer) -> None:
    """Every command's and group's help in ``typer_app``, at any depth, ``reflowed``, and
    their ``--help`` option's in both languages."""
    if typer_app.info.cls in (None, TyperGroup) or not isinstance(typer_app.info.cls, type):
        typer_app.info.cls = _Group  # not set, or Typer's default (a ``Default`` of None)
    for command in typer_app.registered_commands:
        if command.cls in (None, TyperCommand):  # ``Typer.command`` names TyperCommand
            command.cls = _Command
        text = command.help or (inspect.getdoc(command.callback) if command.callback else None)
        if text:
            command.help = reflowed(text)
    for group in typer_app.registered_groups:
        sub = group.typer_instance
        if sub is None:
            continue
        if isinstance(sub.info.help, str):
            sub.info.help = reflowed(sub.info.help)
        _reflow(sub)


_reflow(app)


def main() -> None:
    try:
        status = _run()
    finally:
        dispose_all()
    if isinstance(status, int) and status:  # typer.Exit(code) is returned, not raised, here
        raise SystemExit(status)


def refusal_text(error: SuirenError) -> str:
    """A refused command's message: the kind of refusal in Chinese first (the API's problem
    title, ``domain.error_titles``), then what was wrong — ``详情：<中文>`` where the message
    is in the catalogue (``domain.messages``), and ``error: <English>``."""
    chinese, english = title(error.code)
    detail = "" if error.message_zh is None else f"详情：{error.message_zh}\n"
    return f"错误：{chinese}（{english}）\n{detail}error: {error.message}"


def _refuse(error: SuirenError, then: str = "") -> NoReturn:
    """A refused command's end: its refusal on stderr (with ``--json`` as a JSON object;
    else ``refusal_text`` and ``then``), exit status 2."""
    if "--json" in sys.argv[1:]:
        print(json.dumps({"error": error.to_json()}, ensure_ascii=False), file=sys.stderr)
    else:
        print(refusal_text(error) + (f"\n{then}" if then else ""), file=sys.stderr)
    raise SystemExit(2) from None


def _run() -> object:
    try:
        return app(standalone_mode=False)
    except SuirenError as exc:
        _refuse(exc)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        print("已中止\naborted", file=sys.stderr)  # a Chinese line, then its English line
        raise SystemExit(1) from None
    except Exception as exc:  # usage errors come through here in standalone_mode=False
        database = sys.modules.get("sqlalchemy.exc")  # loaded only by commands with a database
        if database is not None and isinstance(exc, database.DBAPIError):
            print(
                f"错误：数据库拒绝了请求，未写入任何内容，请重新提交\n"
                f"error: the database refused the request ({type(exc.orig).__name__}); nothing"
                " was written — send it again",
                file=sys.stderr,
            )
            raise SystemExit(1) from None
        from suiren.cli import usage

        if usage.usage_error(exc):  # an unknown command or option, a missing one: exit 2
            _refuse(usage.refusal(exc), then=usage.usage_lines(exc))
        # click's ClickException, or the copy Typer ≥ 0.20 vendors (typer._click): both
        # have show() and an exit code; a missing or bad option is a user error (exit 2)
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()
            raise SystemExit(2) from None
        raise


if __name__ == "__main__":
    main()
