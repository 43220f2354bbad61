"""The demo world of ``make run`` (``suiren serve --demo``): made through the services only,
so the audit verifies it; transfers in every state; its logins work; seeded once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from suiren.cli.demo import api_key
from suiren.portal.app import create_app
from suiren.services.demo_world import capitals, seed, write_logins
from suiren.services.transfers import State, overdue
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.tables import history_stints, transfers, workers
from tests.api import settings_for
from tests.conftest import NOW
from tests.ledger_helpers import POLICY, VAULT, quick_hashes  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("quick_hashes")  # 32 clerks' passwords hashed


def test_a_demo_world_of_every_province(engine: Engine, tmp_path: Path) -> None:
    world = seed(engine, POLICY, VAULT, NOW, api_key, people_per_province=4)
    assert len(capitals()) == 31
    assert world.people == 31 * 4
    assert set(world.transfers) == {state.value for state in State}  # every state there is
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(workers)).scalar_one() == 124
        assert c.execute(select(func.count()).select_from(history_stints)).scalar_one() > 124
        states = {r.state for r in c.execute(select(transfers.c.state))}
        result = verify(c)
    assert states == set(world.transfers)
    with unit_of_work(engine, read_only=True) as c:  # the console has overdue moves to show
        waiting = overdue(c, NOW.date())
    assert {t.state for t in waiting} == {"approved"}
    assert result.ok, result.problems
    assert world.months_paid > 0
    from suiren.services.platforms import engaged

    with unit_of_work(engine, read_only=True) as c:
        declared = engaged(c, "courier-demo", "", 200)
    assert 0 < world.engaged == len(declared)
    assert {e.relation for e, _ in declared} == {"labour", "incomplete", "civil"}
    path = tmp_path / "demo-logins.json"
    path.write_text("an older file\n")
    path.chmod(0o644)  # os.open's mode is for a file it creates: this one stayed 0644
    write_logins(path, world.logins)
    assert path.stat().st_mode & 0o777 == 0o600
    logins = json.loads(path.read_text(encoding="utf-8"))
    actors = {login["actor"] for login in logins}
    assert actors == {"agency", "platform", "analyst", "auditor", "worker", "clerk"}
    assert sum(1 for login in logins if login["actor"] == "clerk") == 32  # national + 31
    from suiren.services.clerks import log_in_clerk

    clerk = next(login for login in logins if login.get("region") == "440100")
    with unit_of_work(engine) as c:
        assert log_in_clerk(c, clerk["login"], clerk["password"], NOW) is not None
    assert sum(1 for login in logins if login["actor"] == "agency") == 32  # national + 31
    from suiren.services.logins import log_in_with_code, request_code

    people = [login for login in logins if login["actor"] == "worker"]
    assert len(people) == 5 and len({p["phone"] for p in people}) == 5
    with unit_of_work(engine) as c:  # each number logs its own worker in
        for person in people:
            by_phone = log_in_with_code(
                c, VAULT, person["phone"], request_code(c, VAULT, person["phone"], NOW), NOW
            )
            code = request_code(c, VAULT, person["resident_id"], NOW)
            assert by_phone == log_in_with_code(c, VAULT, person["resident_id"], code, NOW)
            assert by_phone is not None
    national = next(login for login in logins if login.get("scope") == "000000")
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        return  # the served app's settings take a URL; the schema is the fixture's own
    with TestClient(create_app(settings_for(url, today="2026-06-15"))) as client:
        listed = client.get(
            "/api/v1/transfers?limit=50", headers={"Authorization": f"Bearer {national['api_key']}"}
        )
    assert listed.status_code == 200, listed.text
    assert {t["state"] for t in listed.json()["items"]} == states


def test_a_seeding_stopped_half_way_is_completed_and_counted_whole(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``make run`` interrupted while it seeds (here: as the transfers start) leaves the
    people and this year's months; the next run completes the world, and its summary counts
    the world as it stands — not only what that run added (it said "0 stints")."""
    from suiren.services import demo_world
    from suiren.store.tables import contribution_months

    made = demo_world._transfers

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo_world, "_transfers", interrupted)
    with pytest.raises(KeyboardInterrupt):
        seed(engine, POLICY, VAULT, NOW, api_key, people_per_province=2)
    monkeypatch.setattr(demo_world, "_transfers", made)
    world = seed(engine, POLICY, VAULT, NOW, api_key, people_per_province=2)
    with unit_of_work(engine) as c:
        stints = c.execute(select(func.count()).select_from(history_stints)).scalar_one()
        months = c.execute(select(func.count()).select_from(contribution_months)).scalar_one()
        states = dict(
            c.execute(select(transfers.c.state, func.count()).group_by(transfers.c.state)).all()
        )
        result = verify(c)
    assert world.people == 31 * 2
    assert world.stints == stints > world.people  # each person has a career of stints
    assert world.months_paid == months > 0  # the first run's, replayed by the second
    assert world.transfers == states and set(states) == {state.value for state in State}
    assert result.ok, result.problems
