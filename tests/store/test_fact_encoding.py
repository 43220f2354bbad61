"""A fact's data is canonical JSON, byte for byte: the journal's content hashes cover it, so
the faster writer (``projections.encode``) must write exactly what ``json.dumps`` with sorted
keys, no spaces and no ASCII escaping wrote before it, for every column of every kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, LargeBinary, String, Text

from suiren.store.projections import RECORDED, Projection, _converters, canonical_json, encode, fact
from suiren.store.tables import enrolments, workers

NOW = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)


def _values(projection: Projection, name: str) -> st.SearchStrategy[Any]:
    kind = projection.table.c[name].type
    if isinstance(kind, Boolean):
        return st.none() | st.booleans() | st.integers(0, 1)
    if isinstance(kind, Integer | BigInteger):
        return st.none() | st.integers(-(2**70), 2**70)
    if isinstance(kind, String | Text):  # any text: quotes, controls, CJK, surrogates
        return st.none() | st.text() | st.text(alphabet=st.characters(codec=None))
    if isinstance(kind, DateTime):
        zones = st.sampled_from(
            [None, UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=8))]
        )
        return st.none() | st.builds(
            lambda d, z: d.replace(tzinfo=z),
            st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30)),
            zones,
        )
    if isinstance(kind, Date):
        return st.none() | st.dates()
    if isinstance(kind, LargeBinary):
        return st.none() | st.binary()
    raise AssertionError(f"no values for {kind}")  # pragma: no cover


@st.composite
def _rows(draw: st.DrawFn) -> tuple[Projection, dict[str, Any]]:
    projection = draw(st.sampled_from(sorted(RECORDED.values(), key=lambda p: p.table.name)))
    return projection, {
        name: draw(_DIGESTED if name in projection.digested else _values(projection, name))
        for name in projection.columns
    }


# a digested column holds what the service computed (a password's argon2 hash, a secret's SHA-256):
# text of UTF-8, never a lone surrogate, which has no bytes to digest (a rare draw failed CI)
_DIGESTED = st.none() | st.text(alphabet=st.characters(codec="utf-8"))


@settings(max_examples=600, deadline=None)
@given(_rows())
def test_encode_writes_what_json_dumps_wrote(drawn: tuple[Projection, dict[str, Any]]) -> None:
    projection, row = drawn
    expected = canonical_json(
        {name: convert(row[name]) for name, convert in _converters(projection)}
    )
    assert encode(projection, row) == expected


def test_a_worker_and_an_enrolment_are_recorded_as_before() -> None:
    """The data of two facts as the code before the faster writer recorded them (its output
    copied here): an old journal's content hashes still verify, a new one's mean the same."""
    worker = fact(
        workers,
        worker_id="W0A1B2C3D4E5F",
        resident_id_cipher=b"\x00\xffcipher",
        blind_index="ab" * 32,
        masked_id="44**************",
        sex="F",
        birth_month=23881,
        hukou_region="440000",
        work_region="440100",
        created_at=NOW,
    )
    assert worker.data == (
        '{"birth_month":23881,"blind_index":"' + "ab" * 32 + '","created_at":'
        '"2026-12-20T12:00:00.000000+00:00","hukou_region":"440000","masked_id":'
        '"44**************","resident_id_cipher":"00ff636970686572","sex":"F","work_region":'
        '"440100","worker_id":"W0A1B2C3D4E5F"}'
    )
    enrolment = fact(
        enrolments,
        worker_id="W0A1B2C3D4E5F",
        scheme="employee_pension",
        region="440100",
        start_month=24323,
        temporary=False,
        relation_region=None,
        created_at=NOW,
        version=1,
    )
    assert enrolment.data == (
        '{"created_at":"2026-12-20T12:00:00.000000+00:00","region":"440100",'
        '"relation_region":null,"scheme":"employee_pension","start_month":24323,'
        '"temporary":false,"version":1,"worker_id":"W0A1B2C3D4E5F"}'
    )
