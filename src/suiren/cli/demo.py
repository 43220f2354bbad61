"""``suiren demo``: what ``make run`` shows — a worked pension estimate with its explanation."""

from __future__ import annotations

from datetime import date

from rich.console import Console
from rich.table import Table

from suiren.domain.money import fen_to_yuan_str
from suiren.policy import load_policy
from suiren.services.pension_calc import calculate, output_records, parse_cases

DEMO_CASE = {
    "id": "demo-courier-henan",
    "region": "410100",
    "sex": "M",
    "birth": "1975-06",
    "base_yuan": "6385",
    "province_base_yuan": "6385",
    "average_index": "0.8",
    "contribution_years": "25",
    "account_yuan": "98000",
}


def demo() -> None:
    """Show a worked pension estimate (a courier in Zhengzhou) and how it was computed."""
    console = Console()
    policy = load_policy("current_law")
    parsed = parse_cases([DEMO_CASE], policy, date.today())
    result = calculate(parsed, policy)
    record = output_records(parsed, result, policy, explain=True)[0]
    console.print("[bold]Suiren 随人[/bold] — pension estimate (养老金测算), current law")
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
    )
    console.print("References for every parameter: suiren pension calc --explain (JSON).")
