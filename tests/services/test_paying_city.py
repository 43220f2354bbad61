"""A pension is priced with the paying city's own parameters where it has them (issue 10 §3).

Shenzhen (440300) publishes its own 计发基数; Guangdong's is labelled 广东（不含深圳）. A
Shenzhen worker's estimate used to read the paying *province*'s base; it now reads the city's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from suiren.domain.month import Month
from suiren.policy import load_policy
from suiren.services.career import estimate, paying_city
from suiren.services.contributions import contribute
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from tests.ledger_helpers import VAULT, resident_id


def month(region: str, temporary: bool = False) -> SimpleNamespace:
    return SimpleNamespace(region=region, temporary=temporary)


def test_the_paying_city_is_where_the_relation_is_held_in_the_paying_province() -> None:
    records = [month("440100"), month("440300"), month("330100")]
    assert paying_city(records, "440000", "440300") == "440300"
    # the relation is elsewhere: the last months paid in the paying province, not temporary
    assert paying_city(records, "440000", "330100") == "440300"
    assert paying_city([*records, month("440100", temporary=True)], "440000", "330100") == "440300"
    # no city there at all: the province
    assert paying_city(records, "410000", "330100") == "410000"


def test_a_shenzhen_worker_is_paid_with_shenzhens_own_pension_base(engine) -> None:  # type: ignore[no-untyped-def]
    policy = load_policy()
    with unit_of_work(engine) as c:
        worker = enrol(
            c,
            policy,
            VAULT,
            resident_id(7, "19750101", True),
            "440300",
            "440300",
            datetime(2024, 1, 5, 12, tzinfo=UTC),
        ).worker
    with unit_of_work(engine) as c:
        contribute(
            c,
            policy,
            "sz-2024",
            worker.worker_id,
            Month.of(2024, 1),
            Month.of(2024, 12),
            900_000,
            datetime(2024, 12, 20, 12, tzinfo=UTC),
        )
    with unit_of_work(engine) as c:
        result = estimate(c, policy, worker.worker_id, datetime(2026, 6, 1, tzinfo=UTC).date())
    assert (result["paying_province"], result["paying_city"]) == ("440000", "440300")
    base_step = next(s for s in result["explanation"] if s["step"].startswith("计发基数"))
    # 深圳（企业）2025 base 11293 (the latest on the retirement date), not 广东（不含深圳）'s 9493
    assert base_step["result"] == "11293.00"
    assert base_step["parameters"][0]["region"] == "440300"
