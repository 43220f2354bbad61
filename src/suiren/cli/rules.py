"""Commands about the rule parameters themselves: ``suiren rules provenance``."""

from __future__ import annotations

import typer

from suiren.cli import options
from suiren.cli.context import emit, said

rules_app = typer.Typer(
    help="规则参数：带日期的规则参数及其取值的出处 / The dated rule parameters and where their"
    " values come from.",
    no_args_is_help=True,
)


@rules_app.command("provenance")
def provenance(
    unverified: bool = typer.Option(
        False,
        "--unverified",
        help="只列尚未与官方文本核对的取值 / only the values not yet checked against an official"
        " text",
    ),
    as_json: bool = typer.Option(False, "--json", help=options.JSON_HELP),
) -> None:
    """参数出处：每个参数按地区和日期的取值及其出处 / Every parameter's value per region and
    date with its provenance.

    出处为文号、发文机关、日期和网址，或“未核实”及其原因；最后列出计数。

    The provenance is the document number, issuer, date and URL, or 未核实 (unverified) and
    why. Ends with the counts."""
    from suiren.policy import baseline_parameters
    from suiren.rules.provenance_report import cited_values, verified_without_url

    tree = baseline_parameters()
    rows = cited_values(tree)
    verified_count = sum(1 for row in rows if row.verified)
    shown = [row for row in rows if not row.verified] if unverified else rows
    counts = {
        "values": len(rows),
        "verified": verified_count,
        "unverified": len(rows) - verified_count,
        "verified_without_url": len(verified_without_url(tree)),
    }
    summary = said(
        f"共 {counts['values']} 个取值：已核实 {counts['verified']} 个（其中"
        f" {counts['verified_without_url']} 个仅有文号，未记录原文网页），未核实"
        f" {counts['unverified']} 个",
        f"{counts['values']} values: {counts['verified']} verified"
        f" ({counts['verified_without_url']} by a document number alone, no page recorded),"
        f" {counts['unverified']} unverified",
    )
    emit(
        {"counts": counts, "values": [row.to_json() for row in shown]},
        as_json,
        "\n".join([*(row.line() for row in shown), summary]),
    )
