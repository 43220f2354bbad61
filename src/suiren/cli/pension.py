"""``suiren pension calc``: the pension calculator on JSON in, JSON out."""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

from suiren.domain.errors import InvalidInput
from suiren.policy import SCENARIOS, load_policy
from suiren.services.pension_calc import calculate, output_records, parse_cases

app = typer.Typer(help="Pension estimates (养老金测算).", no_args_is_help=True)
INPUT_BYTES_MAX = 2_000_000_000


def read_json(source: str) -> Any:
    """Parse JSON from a file or stdin ('-'), numbers as exact decimals."""
    try:
        if source == "-":
            text = sys.stdin.read(INPUT_BYTES_MAX + 1)
        else:
            path = Path(source)
            if not path.is_file():
                raise InvalidInput(f"no such file: {source}")
            text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{source}: not UTF-8 text") from None
    if len(text) > INPUT_BYTES_MAX:
        raise InvalidInput(f"input larger than {INPUT_BYTES_MAX} bytes")
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except ValueError as exc:  # e.g. an integer longer than Python will parse
        raise InvalidInput(f"not valid input: {str(exc).splitlines()[0][:200]}") from None


@app.command("calc")
def calc(
    source: str = typer.Argument("-", metavar="[FILE|-]", help="JSON object or array; - for stdin"),
    explain: bool = typer.Option(False, "--explain", help="include explanations for an array"),
    scenario: str = typer.Option("current_law", help=f"one of: {', '.join(SCENARIOS)}"),
    on: str = typer.Option(
        None, "--date", help="date for the rules when no retire month is given (YYYY-MM-DD)"
    ),
) -> None:
    """Compute monthly pensions: basic, individual-account and transitional parts, in fen."""
    data = read_json(source)
    single = isinstance(data, dict)
    if not single and not isinstance(data, list):
        raise InvalidInput("input must be a JSON object or an array of objects")
    records = [data] if single else data
    try:
        today = date.fromisoformat(on) if on else date.today()
    except ValueError:
        raise InvalidInput(f"--date must be YYYY-MM-DD, got {on!r}") from None
    policy = load_policy(scenario)
    parsed = parse_cases(records, policy, today)
    result = calculate(parsed, policy)
    out = output_records(parsed, result, policy, explain or single)
    payload = out[0] if single else out
    sys.stdout.write(
        json.dumps(payload, ensure_ascii=False, indent=2 if single else None, default=str)
    )
    sys.stdout.write("\n")
