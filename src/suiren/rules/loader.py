"""Strict loader for parameter YAML files.

A folder is a node (an optional ``index.yaml`` gives its description); every other
``*.yaml`` file is a parameter. The loader reads YAML node by node so that every error
names the file, the line and the fix: unknown keys (with a suggestion), duplicate keys,
bad dates, values of the wrong type, unknown regions, missing references and references
that are free text, verified without a document or URL, or unverified without a why. Numbers are
read from their text as exact decimals; a binary float never exists.

Loading is two stages, like Beancount's: parse every file (a problem is recorded and the
loader goes on to the next entry, region or file), then check what the metadata declares
plausible (``suiren.rules.checks``: ranges, one parameter at most another, a value near a
ratio of another). Every problem found is raised at once, as one ``ParameterError`` whose
``problems`` are records naming file, line, parameter and date — never only the first.

A parameter file::

    description: Contribution rate of flexible workers (灵活就业人员缴费比例)
    metadata:
      unit: /1                    # a rate; "currency-CNY" for yuan, "month", "year", ...
      reference:                  # or a list of sources; or a reference on each value
        document: 国发〔2005〕38号  # a bare document number is short for this mapping
        title: 国务院关于完善企业职工基本养老保险制度的决定
        issuer: 国务院
      type: number                # number (default) | table | text | bool
      range: {min: 0, max: 0.5}   # plausible values; required for number and table
      published: yearly           # optional: a figure of each year (a wage, a 计发基数): one
                                  # read 12 months or more after it started is provisional,
                                  # or after its value's ``until`` where it gives one
    values:
      2006-01-01: 0.20
      2024-03-01:
        value: 0.20
        reference: {verified: false, why: 未找到文号, note: 上海市人社局问答（2024-03-07）}

A reference is structured provenance (``suiren.rules.provenance``): a verified source
names a ``document`` or a ``url``; an unverified one says ``why``.
    regions:
      "310000":
        values: {2024-03-01: 0.20}
      "440000":
        excludes: ["440300"]      # published without 深圳: never read for it
        values: {2024-03-01: 0.16}
      "370000":
        values:
          2024-03-01:
            value: 0.16
            excludes: ["371700"]  # this value only is published without 菏泽
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

import yaml
from yaml.reader import ReaderError

from suiren.domain.errors import ParameterError, ParameterProblem
from suiren.domain.region import NATIONAL, RegionRegistry
from suiren.rules.checks import problem_at, range_problems, relation_problems
from suiren.rules.parameters import (
    Checks,
    DatedValue,
    Near,
    Parameter,
    ParameterNode,
    Series,
    Value,
)
from suiren.rules.provenance import SOURCE_KEYS, Provenance, Source, is_document

LEAF_KEYS = ("description", "metadata", "values", "regions", "documentation")
METADATA_KEYS = ("unit", "reference", "type", "note", "range", "at_most", "near", "published")
PUBLISHED = ("yearly",)  # metadata.published: how often the figure is published
RANGE_KEYS = ("min", "max")
NEAR_KEYS = ("ratio", "of", "tolerance", "regions")
NEAR_REQUIRED = ("ratio", "of", "tolerance")
RANGED_KINDS = ("number", "table")
REGION_KEYS = ("values", "reference", "note")
BASELINE_REGION_KEYS = (*REGION_KEYS, "excludes")  # a scenario cannot change what is excluded
VALUE_KEYS = ("value", "reference", "note", "until")
BASELINE_VALUE_KEYS = (*VALUE_KEYS, "excludes")  # a region's value in the baseline files
KINDS = ("number", "table", "text", "bool")
INDEX_KEYS = ("description", "metadata", "documentation")
FILE_BYTES_MAX = 1_000_000
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FRACTION_RE = re.compile(r"^(\d+)/([1-9]\d*)$")


class _Context:
    """Where we are (the file and parameter, for messages) and the problems found so far."""

    def __init__(
        self, path: Path, registry: RegionRegistry | None, parameter: str | None = None
    ) -> None:
        self.path = path
        self.registry = registry
        self.parameter = parameter
        self.problems: list[ParameterProblem] = []

    def error(
        self, node: yaml.Node | None, message: str, start: date | None = None
    ) -> ParameterError:
        line = node.start_mark.line + 1 if node is not None else None
        problem = ParameterProblem(str(self.path), line, self.parameter, start, message)
        return ParameterError(str(problem), problems=(problem,))

    def note(self, error: ParameterError) -> None:
        """Record a problem and go on: the file's other problems are reported with it."""
        self.problems.extend(error.problems)

    def raise_problems(self) -> None:
        """Raise every problem recorded, in the order of their lines in the file."""
        if self.problems:
            raise ParameterError.of(sorted(self.problems, key=lambda p: p.line or 0))

    def where(self, node: yaml.Node) -> str:
        return f"{self.path}:{node.start_mark.line + 1}"


# libyaml's parser where PyYAML was built with it (its wheels are): the same nodes and line
# marks, and a command's parameter files are read in a fifth of the time (1.2 s → 0.2 s).
# The two do not judge every text alike: libyaml takes a tab after a colon, inside a flow or
# before a comment, which PyYAML refuses; PyYAML takes some tags and escapes libyaml refuses;
# their messages differ. So that a file loads the same with libyaml or without it, a tab is
# refused before either reads the file, and when libyaml finds an error the file is read
# again by PyYAML, whose answer (its error, or the nodes) is the one given without libyaml.
_FAST_LOADER: type | None = getattr(yaml, "CSafeLoader", None)


def compose_file(path: Path) -> yaml.Node:
    """Parse a YAML file into nodes (with line marks); syntax errors name the line."""
    if path.stat().st_size > FILE_BYTES_MAX:
        raise _file_error(path, None, f"file is larger than {FILE_BYTES_MAX} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        at = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise _file_error(path, at, "not UTF-8 text: save the file as UTF-8") from None
    if "\t" in text:
        raise _file_error(
            path,
            text.count("\n", 0, text.index("\t")) + 1,
            "a tab character: indent and separate with spaces (YAML readers differ on tabs;"
            " inside quoted text write \\t)",
        )
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise _file_error(path, line, f"not valid YAML: {exc.problem}") from None
    except ReaderError as exc:  # a character YAML does not allow (a control character)
        at = text.count("\n", 0, exc.position) + 1
        character = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "a byte"
        raise _file_error(
            path, at, f"not valid YAML: the character {character} is not allowed; remove it"
        ) from None
    if node is None:
        raise _file_error(path, 1, "the file is empty; a parameter needs a description")
    return node


def _compose(text: str) -> yaml.Node | None:
    if _FAST_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass  # PyYAML's answer, below, is the one given without libyaml
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _file_error(path: Path, line: int | None, message: str) -> ParameterError:
    return ParameterError.of([ParameterProblem(str(path), line, None, None, message)])


def mapping_items(
    ctx: _Context, node: yaml.Node, allowed: Iterable[str] | None, what: str
) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping's items by key text. Duplicates and (if ``allowed`` is given) unknown keys
    are recorded as problems in ``ctx`` and left out; a node that is not a mapping raises."""
    if not isinstance(node, yaml.MappingNode):
        raise ctx.error(node, f"{what} must be a mapping (key: value), got {_kind(node)}")
    allowed_list = list(allowed) if allowed is not None else None
    items: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise ctx.error(key_node, f"keys in {what} must be plain values")
        key = key_node.value
        if key in items:
            first = items[key][0].start_mark.line + 1
            ctx.note(
                ctx.error(
                    key_node,
                    f"duplicate key {key!r} in {what} (first at line {first}); keep only one",
                )
            )
            continue
        if allowed_list is not None and key not in allowed_list:
            hint = difflib.get_close_matches(key, allowed_list, n=1)
            fix = (
                f"did you mean {hint[0]!r}?" if hint else "allowed keys: " + ", ".join(allowed_list)
            )
            ctx.note(ctx.error(key_node, f"unknown key {key!r} in {what}; {fix}"))
            continue
        items[key] = (key_node, value_node)
    return items


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{node.value!r}"


def text_of(ctx: _Context, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not node.value.strip():
        raise ctx.error(node, f"{what} must be non-empty text")
    return str(node.value)


def references_of(ctx: _Context, node: yaml.Node, what: str = "the reference") -> Provenance:
    """A reference: one source (a mapping of ``SOURCE_KEYS``) or a list of them. A bare
    document number (国发〔2005〕38号) is short for ``{document: 国发〔2005〕38号}``; any other
    free text is refused, so that every reference says whether it is verified."""
    if isinstance(node, yaml.SequenceNode):
        if not node.value:
            raise ctx.error(node, "reference list is empty; name the regulation")
        return Provenance(tuple(_source(ctx, item, what) for item in node.value))
    return Provenance((_source(ctx, node, what),))


def _source(ctx: _Context, node: yaml.Node, what: str) -> Source:
    if isinstance(node, yaml.ScalarNode):
        text = text_of(ctx, node, what)
        if is_document(text.strip()):
            return Source(document=text.strip())
        raise ctx.error(
            node,
            f"{what} {text[:60]!r} is free text; write it as a mapping: document (文号),"
            " title, issuer, date, url, note — or verified: false with why (see"
            " docs/parameters.md)",
        )
    items = mapping_items(ctx, node, SOURCE_KEYS, what)
    texts = {
        key: text_of(ctx, value, f"{what}: {key}").strip()
        for key, (_, value) in items.items()
        if key not in ("date", "verified")
    }
    verified = True
    if "verified" in items:
        flag = items["verified"][1]
        if not isinstance(flag, yaml.ScalarNode) or flag.tag != "tag:yaml.org,2002:bool":
            raise ctx.error(flag, f"{what}: verified must be true or false, got {_kind(flag)}")
        verified = flag.value.lower() in ("true", "yes", "on")
    source = Source(
        document=texts.get("document"),
        title=texts.get("title"),
        issuer=texts.get("issuer"),
        date=parse_date(ctx, items["date"][1]) if "date" in items else None,
        url=texts.get("url"),
        verified=verified,
        why=texts.get("why"),
        note=texts.get("note"),
    )
    problems = source.problems()
    if problems:
        raise ctx.error(node, f"{what}: " + "; ".join(problems))
    return source


def parse_date(ctx: _Context, node: yaml.Node) -> date:
    text = node.value if isinstance(node, yaml.ScalarNode) else ""
    if not _DATE_RE.match(str(text)):
        raise ctx.error(
            node, f"{text!r} is not a date; write dates as YYYY-MM-DD (e.g. 2025-07-01)"
        )
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ctx.error(
            node, f"{text!r} is not a real calendar date; check month and day"
        ) from None


def parse_number(ctx: _Context, node: yaml.Node, what: str) -> Fraction:
    """A decimal number, or an exact fraction written as text ("1/1200" = 1% / 12)."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        match = _FRACTION_RE.match(node.value.strip())
        if match:
            return Fraction(int(match.group(1)), int(match.group(2)))
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
    ):
        raise ctx.error(
            node, f'{what} must be a number (or an exact fraction like "1/1200"), got {_kind(node)}'
        )
    try:
        return Fraction(Decimal(node.value.replace("_", "")))
    except (InvalidOperation, ValueError):
        raise ctx.error(node, f"{what} is not a decimal number: {node.value!r}") from None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def parse_value(ctx: _Context, node: yaml.Node, kind: str) -> Value:
    if _is_null(node):
        return None
    if kind == "number":
        return parse_number(ctx, node, "the value")
    if kind == "text":
        return text_of(ctx, node, "the value")
    if kind == "bool":
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            raise ctx.error(node, f"the value must be true or false, got {_kind(node)}")
        return node.value.lower() in ("true", "yes", "on")
    table: dict[int, Fraction] = {}
    for key, (key_node, value_node) in mapping_items(ctx, node, None, "a table").items():
        if not re.match(r"^-?\d+$", key):
            raise ctx.error(key_node, f"table keys must be whole numbers, got {key!r}")
        table[int(key)] = parse_number(ctx, value_node, f"table entry {key}")
    if not table:
        raise ctx.error(node, "a table needs at least one entry")
    return table


def parse_series(
    ctx: _Context,
    node: yaml.Node,
    kind: str,
    default_reference: Provenance | None,
    path: str,
    region: str | None = None,
) -> Series:
    """A dated series; a problem in one entry is recorded in ``ctx`` and the entry left out.
    ``region`` is the baseline region whose series this is: only its values may exclude."""
    entries: list[DatedValue] = []
    for _, (key_node, value_node) in mapping_items(ctx, node, None, "values").items():
        try:
            entries.append(
                _dated_value(ctx, key_node, value_node, kind, default_reference, path, region)
            )
        except ParameterError as error:
            ctx.note(error)
    entries.sort(key=lambda e: e.start)
    return Series(entries)


def _dated_value(
    ctx: _Context,
    key_node: yaml.Node,
    value_node: yaml.Node,
    kind: str,
    default_reference: Provenance | None,
    path: str,
    region: str | None = None,
) -> DatedValue:
    start = parse_date(ctx, key_node)
    until = None
    excludes: frozenset[str] = frozenset()
    try:
        reference = default_reference
        if (isinstance(value_node, yaml.MappingNode) and kind != "table") or (
            kind == "table" and _has_value_key(value_node)
        ):
            keys = VALUE_KEYS if region is None else BASELINE_VALUE_KEYS
            inner = mapping_items(ctx, value_node, keys, f"the value of {start}")
            if "value" not in inner:
                raise ctx.error(value_node, f"the entry for {start} needs a 'value'")
            if "reference" in inner:
                reference = references_of(
                    ctx, inner["reference"][1], f"the reference of {path} on {start}"
                )
            if "until" in inner:
                until = _until(ctx, inner["until"][1], start)
            if region is not None and "excludes" in inner:
                excludes = _excluded_regions(ctx, inner["excludes"][1], region)
                if _is_null(inner["value"][1]):
                    raise ctx.error(
                        inner["excludes"][1],
                        f"region {region}: a null value ends the series and has nothing to"
                        " exclude; put 'excludes' on the values published without the region",
                    )
            value_node = inner["value"][1]
        if reference is None:
            raise ctx.error(
                key_node,
                f"parameter {path} has no reference for {start}; add metadata.reference naming"
                " the regulation (e.g. 国发〔2005〕38号) or a reference on this value",
            )
        value = parse_value(ctx, value_node, kind)
    except ParameterError as error:  # the entry's date is known: say which value is wrong
        raise ParameterError.of(
            [
                ParameterProblem(p.file, p.line, p.parameter, start, p.message)
                for p in error.problems
            ]
        ) from None
    return DatedValue(start, value, reference, ctx.where(key_node), until, excludes)


UNTIL_MONTHS_MAX = 36  # a period a yearly figure was published for is at most three years


def _until(ctx: _Context, node: yaml.Node, start: date) -> date:
    """The ``until`` of a value: the last day of the period its source published it for."""
    until = parse_date(ctx, node)
    if until < start or (until.year - start.year) * 12 + until.month - start.month >= (
        UNTIL_MONTHS_MAX
    ):
        raise ctx.error(
            node,
            f"until {until} must be on or after the value's start {start} and less than"
            f" {UNTIL_MONTHS_MAX} months after it: the last day of the period the source"
            " published the figure for",
        )
    return until


def _has_value_key(node: yaml.Node) -> bool:
    return isinstance(node, yaml.MappingNode) and any(
        isinstance(k, yaml.ScalarNode) and k.value == "value" for k, _ in node.value
    )


def load_parameter(path: Path, dotted: str, registry: RegionRegistry | None) -> Parameter:
    """One parameter file; raises a ``ParameterError`` listing every problem of the file."""
    parameter, problems = read_parameter(path, dotted, registry)
    if problems or parameter is None:
        raise ParameterError.of(problems)
    return parameter


def read_parameter(
    path: Path, dotted: str, registry: RegionRegistry | None
) -> tuple[Parameter | None, list[ParameterProblem]]:
    """One parameter file and its problems, in line order. The parameter is None when a
    problem left nothing to read (no metadata, say); otherwise it holds the entries that
    were read, so that the checks across parameters can still run on them."""
    ctx = _Context(path, registry, dotted)
    parameter = None
    try:
        parameter = _parameter(ctx, compose_file(path), dotted)
    except ParameterError as error:  # a problem after which nothing more can be read
        ctx.note(error)
    return parameter, sorted(ctx.problems, key=lambda p: p.line or 0)


def _parameter(ctx: _Context, root: yaml.Node, dotted: str) -> Parameter:
    items = mapping_items(ctx, root, LEAF_KEYS, f"parameter {dotted}")
    if "description" not in items:
        raise ctx.error(root, f"parameter {dotted} needs a 'description'")
    if "metadata" not in items:
        raise ctx.error(
            root, f"parameter {dotted} needs 'metadata' with a 'unit' and a 'reference'"
        )
    meta = mapping_items(ctx, items["metadata"][1], METADATA_KEYS, "metadata")
    if "unit" not in meta:
        raise ctx.error(
            items["metadata"][0], "metadata needs a 'unit' (e.g. /1, currency-CNY, month)"
        )
    kind = text_of(ctx, meta["type"][1], "type") if "type" in meta else "number"
    if kind not in KINDS:
        raise ctx.error(meta["type"][1], f"unknown type {kind!r}; use one of {', '.join(KINDS)}")
    checks = Checks()
    try:
        checks = parse_checks(ctx, items["metadata"][0], meta, kind)
    except ParameterError as error:
        ctx.note(error)
    reference = _metadata_reference(ctx, meta)
    if "values" not in items and "regions" not in items:
        raise ctx.error(root, f"parameter {dotted} needs 'values' (dated) or 'regions'")
    series: dict[str, Series] = {}
    if "values" in items:
        series[NATIONAL] = parse_series(ctx, items["values"][1], kind, reference, dotted)
    if "regions" in items:
        for code, (key_node, region_node) in mapping_items(
            ctx, items["regions"][1], None, "regions"
        ).items():
            try:
                series[code] = _region_series(ctx, key_node, region_node, code, kind, reference)
            except ParameterError as error:
                ctx.note(error)
    published = text_of(ctx, meta["published"][1], "published") if "published" in meta else ""
    if published and published not in PUBLISHED:
        raise ctx.error(
            meta["published"][1], f"metadata.published is one of {', '.join(PUBLISHED)}"
        )
    parameter = Parameter(
        path=dotted,
        description=text_of(ctx, items["description"][1], "description"),
        unit=text_of(ctx, meta["unit"][1], "unit"),
        kind=kind,
        series=series,
        source=f"{ctx.path}",
        checks=checks,
        yearly=published == "yearly",
    )
    ctx.problems.extend(range_problems(parameter))
    ctx.problems.extend(_until_problems(parameter))
    return parameter


def _until_problems(parameter: Parameter) -> list[ParameterProblem]:
    """An ``until`` on a parameter not ``published: yearly`` (it only says when a yearly
    figure turns provisional), or one not before the next value's start."""
    problems = []
    for region, series in parameter.series.items():
        entries = series.entries
        for at, entry in enumerate(entries):
            after = entries[at + 1] if at + 1 < len(entries) else None
            if entry.until is None:
                continue
            if not parameter.yearly:
                why = "until is for a figure published yearly (metadata.published: yearly)"
            elif after is not None and after.start <= entry.until:
                why = f"until {entry.until} is not before the next value's start {after.start}"
            else:
                continue
            problems.append(
                problem_at(entry.source, parameter.path, entry.start, f"[{region}] {why}")
            )
    return problems


def _metadata_reference(
    ctx: _Context, meta: dict[str, tuple[yaml.Node, yaml.Node]]
) -> Provenance | None:
    """The metadata's reference; a broken one is recorded and stands in as unverified, so
    that its values are not each reported as having no reference."""
    if "reference" not in meta:
        return None
    try:
        return references_of(ctx, meta["reference"][1], f"metadata.reference of {ctx.parameter}")
    except ParameterError as error:
        ctx.note(error)
        return Provenance((Source(verified=False, why="the metadata reference is invalid"),))


def _region_series(
    ctx: _Context,
    key_node: yaml.Node,
    region_node: yaml.Node,
    code: str,
    kind: str,
    reference: Provenance | None,
) -> Series:
    check_region(ctx, key_node, code)
    region_items = mapping_items(ctx, region_node, BASELINE_REGION_KEYS, f"region {code}")
    if "values" not in region_items:
        raise ctx.error(region_node, f"region {code} needs 'values'")
    if "reference" in region_items:
        reference = references_of(
            ctx, region_items["reference"][1], f"the reference of {ctx.parameter} in region {code}"
        )
    series = parse_series(
        ctx, region_items["values"][1], kind, reference, ctx.parameter or "", code
    )
    if "excludes" in region_items:
        series.excludes = _excluded_regions(ctx, region_items["excludes"][1], code)
    return series


def _excluded_regions(ctx: _Context, node: yaml.Node, code: str) -> frozenset[str]:
    """``excludes: ["440300"]``: regions within ``code`` whose figures it is published
    without (广东（不含深圳）) — on a region, every value of its series; on a value, that
    value while it is in force (山东's 2025 计发基数, 除菏泽市以外). Each must be a known
    region below ``code``."""
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise ctx.error(node, f"region {code}: 'excludes' is a list of region codes")
    excluded: set[str] = set()
    for item in node.value:
        if not isinstance(item, yaml.ScalarNode):
            raise ctx.error(item, f"region {code}: 'excludes' holds region codes")
        check_region(ctx, item, item.value)
        below = ctx.registry is None or (
            item.value != code and code in ctx.registry.ancestry(item.value)
        )
        if not below:
            raise ctx.error(item, f"region {code} can only exclude a region within it")
        excluded.add(item.value)
    return frozenset(excluded)


def parse_checks(
    ctx: _Context,
    metadata_node: yaml.Node,
    meta: dict[str, tuple[yaml.Node, yaml.Node]],
    kind: str,
) -> Checks:
    """What the metadata declares plausible: ``range`` (required for numbers and tables),
    ``at_most`` and ``near`` (see ``suiren.rules.checks``)."""
    source = ctx.where(metadata_node)
    if "range" not in meta:
        if kind in RANGED_KINDS:
            raise ctx.error(
                metadata_node,
                "metadata needs a 'range' of plausible values, e.g. range: {min: 0, max: 0.1}"
                " for a rate; a value outside it fails to load",
            )
        minimum = maximum = None
    else:
        bounds = mapping_items(ctx, meta["range"][1], RANGE_KEYS, "metadata.range")
        if set(bounds) != set(RANGE_KEYS):
            raise ctx.error(meta["range"][1], "metadata.range needs both 'min' and 'max'")
        minimum = parse_number(ctx, bounds["min"][1], "range min")
        maximum = parse_number(ctx, bounds["max"][1], "range max")
        if minimum > maximum:
            raise ctx.error(meta["range"][1], "metadata.range has min above max; swap them")
    at_most = text_of(ctx, meta["at_most"][1], "at_most") if "at_most" in meta else None
    near = None
    if "near" in meta:
        fields = mapping_items(ctx, meta["near"][1], NEAR_KEYS, "metadata.near")
        if not set(NEAR_REQUIRED) <= set(fields):
            raise ctx.error(
                meta["near"][1], "metadata.near needs 'ratio', 'of' and 'tolerance' (e.g. 0.15)"
            )
        regions: list[tuple[str, Fraction]] = []
        if "regions" in fields:
            for code, (key_node, value_node) in mapping_items(
                ctx, fields["regions"][1], None, "near.regions"
            ).items():
                check_region(ctx, key_node, code)
                regions.append((code, parse_number(ctx, value_node, f"near.regions {code}")))
        near = Near(
            ratio=text_of(ctx, fields["ratio"][1], "near.ratio"),
            of=text_of(ctx, fields["of"][1], "near.of"),
            tolerance=parse_number(ctx, fields["tolerance"][1], "near.tolerance"),
            regions=tuple(regions),
        )
    return Checks(minimum, maximum, at_most, near, source)


def check_region(ctx: _Context, node: yaml.Node, code: str) -> None:
    if not re.match(r"^\d{6}$", code):
        raise ctx.error(node, f"region keys are six-digit GB/T 2260 codes, got {code!r}")
    if ctx.registry is not None and code not in ctx.registry:
        raise ctx.error(node, f"unknown region code {code} (GB/T 2260); check the code")


def load_tree(
    folder: Path, registry: RegionRegistry | None = None, prefix: str = ""
) -> ParameterNode:
    """Load a folder of parameter files into a tree, then check it.

    Raises one ``ParameterError`` listing every problem of every file (parse problems,
    values outside their range, broken ``at_most``/``near`` relations), never only the first.
    """
    problems: list[ParameterProblem] = []
    node = _load_folder(folder, registry, prefix, problems)
    problems += relation_problems(node, ancestry_function(registry), missing_ok=bool(problems))
    problems.sort(key=lambda p: (p.file, p.line or 0))
    if problems:
        raise ParameterError.of(problems)
    return node


def ancestry_function(registry: RegionRegistry | None) -> Callable[[str], tuple[str, ...]]:
    """The registry's ancestry; without a registry, a region's province and the nation."""
    if registry is not None:
        return registry.ancestry

    def ancestry(code: str) -> tuple[str, ...]:
        chain = [code, code[:2] + "0000", NATIONAL]
        return tuple(dict.fromkeys(chain))

    return ancestry


def _load_folder(
    folder: Path, registry: RegionRegistry | None, prefix: str, problems: list[ParameterProblem]
) -> ParameterNode:
    if not folder.is_dir():
        raise ParameterError(f"{folder}: not a folder of parameters")
    description = folder.name
    index = folder / "index.yaml"
    if index.exists():
        ctx = _Context(index, registry)
        try:
            items = mapping_items(ctx, compose_file(index), INDEX_KEYS, "a node's index.yaml")
            if "description" in items:
                description = text_of(ctx, items["description"][1], "description")
        except ParameterError as error:
            ctx.note(error)
        problems += ctx.problems
    node = ParameterNode(prefix, description)
    for entry in sorted(folder.iterdir()):
        name = entry.stem if entry.is_file() else entry.name
        dotted = f"{prefix}.{name}" if prefix else name
        if entry.is_dir():
            if entry.name.startswith(("_", ".")):
                continue
            node.children[name] = _load_folder(entry, registry, dotted, problems)
        elif entry.suffix == ".yaml" and entry.name != "index.yaml":
            if not re.match(r"^[a-z][a-z0-9_]*$", name):
                problems.append(
                    ParameterProblem(
                        str(entry),
                        None,
                        dotted,
                        None,
                        "parameter file names are lower_snake_case (a-z, 0-9, _)",
                    )
                )
                continue
            parameter, found = read_parameter(entry, dotted, registry)
            if parameter is not None:
                node.children[name] = parameter
            problems += found
        elif entry.suffix in (".yml", ".json"):
            problems.append(
                ParameterProblem(str(entry), None, dotted, None, "parameter files end in .yaml")
            )
    return node


def load_mapping(path: Path) -> tuple[_Context, dict[str, tuple[yaml.Node, yaml.Node]], yaml.Node]:
    """For scenario files: the top-level mapping with its context."""
    ctx = _Context(path, None)
    root = compose_file(path)
    return ctx, mapping_items(ctx, root, None, "the file"), root
