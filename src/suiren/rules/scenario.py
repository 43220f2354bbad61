"""Scenarios: YAML overlays on the parameter tree.

A reform is data. A scenario file names the parameters it changes and gives their new
dated values (nationally and/or per region); from the first date it gives, its series
replaces the baseline's. No formula ever asks which scenario is in force.

    name: money_follows_person
    description: 钱随人走 — the pooled entitlement moves with the worker
    reference: {verified: false, why: a proposal, not a regulation, title: 关于完善…的提案}
    overrides:
      transfer.pooled_share_of_base:
        values:
          2026-01-01: 1
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from suiren.domain.errors import ParameterError, ParameterNotFound
from suiren.domain.region import NATIONAL, RegionRegistry
from suiren.rules.checks import check_tree
from suiren.rules.loader import (
    REGION_KEYS,
    ancestry_function,
    check_region,
    load_mapping,
    mapping_items,
    parse_series,
    references_of,
    text_of,
)
from suiren.rules.parameters import Parameter, ParameterNode
from suiren.rules.provenance import Provenance

SCENARIO_KEYS = ("name", "description", "reference", "overrides")
OVERRIDE_KEYS = ("values", "regions", "reference")


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    reference: Provenance
    parameters: ParameterNode


def apply_scenario(
    baseline: ParameterNode, path: Path, registry: RegionRegistry | None = None
) -> Scenario:
    """Return a new tree: ``baseline`` with the overlays of the scenario file at ``path``.

    The overlaid tree is checked as the baseline was (ranges, ``at_most``, ``near``): a
    scenario cannot bring in a value the baseline would refuse. Every problem is raised at
    once."""
    ctx, _, root = load_mapping(path)
    ctx.registry = registry
    items = mapping_items(ctx, root, SCENARIO_KEYS, "a scenario")
    for required in ("name", "description", "reference"):
        if required not in items:
            raise ctx.error(root, f"a scenario needs a {required!r}")
    name = text_of(ctx, items["name"][1], "name")
    if name != path.stem:
        raise ctx.error(
            items["name"][1], f"scenario name {name!r} must match its file name {path.stem!r}"
        )
    reference = references_of(ctx, items["reference"][1], f"the reference of scenario {name}")
    tree = copy.deepcopy(baseline)
    if "overrides" in items:
        overrides = mapping_items(ctx, items["overrides"][1], None, "overrides")
        for dotted, (key_node, body) in overrides.items():
            try:
                parameter = tree.parameter(dotted)
            except ParameterNotFound:
                ctx.note(
                    ctx.error(key_node, f"scenario overrides {dotted!r}, which is not a parameter")
                )
                continue
            try:
                _overlay(ctx, parameter, body, reference)
            except ParameterError as error:
                ctx.note(error)
    ctx.raise_problems()
    problems = check_tree(tree, ancestry_function(registry))
    if problems:
        raise ParameterError.of(problems)
    return Scenario(name, text_of(ctx, items["description"][1], "description"), reference, tree)


def _overlay(ctx, parameter: Parameter, body, scenario_reference: Provenance) -> None:  # type: ignore[no-untyped-def]
    entries = mapping_items(ctx, body, OVERRIDE_KEYS, f"the override of {parameter.path}")
    reference = (
        references_of(ctx, entries["reference"][1], f"the reference of {parameter.path}")
        if "reference" in entries
        else scenario_reference
    )
    if "values" not in entries and "regions" not in entries:
        raise ctx.error(body, f"the override of {parameter.path} needs 'values' or 'regions'")
    if "values" in entries:
        new = parse_series(ctx, entries["values"][1], parameter.kind, reference, parameter.path)
        parameter.series[NATIONAL] = parameter.series.get(NATIONAL, new).overlay(new)
    if "regions" in entries:
        regions = mapping_items(ctx, entries["regions"][1], None, "regions")
        for code, (key_node, region_node) in regions.items():
            check_region(ctx, key_node, code)
            inner = mapping_items(ctx, region_node, REGION_KEYS, f"region {code}")
            if "values" not in inner:
                raise ctx.error(region_node, f"region {code} needs 'values'")
            new = parse_series(ctx, inner["values"][1], parameter.kind, reference, parameter.path)
            parameter.series[code] = parameter.series.get(code, new).overlay(new)
