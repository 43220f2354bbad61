"""The ledger's promises (issue 8): only what may be reversed is, no payment races a move,
one person is one worker whatever the key or the folder, and the key is used safely.

Database tests run on SQLite and PostgreSQL; the races need concurrent writers and run on
PostgreSQL, each forced into the interleaving under test (the second writer is started
while the first holds its locks, and the first commits only once the second is waiting).
"""

from __future__ import annotations

import base64
import os
import re
import stat
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select, text

from suiren.domain.errors import InvalidResidentId
from suiren.domain.month import Month
from suiren.domain.resident_id import ResidentId, check_character
from suiren.ledger.accounts import Scheme
from suiren.policy import load_policy
from suiren.services.contributions import (
    POSTED,
    ContributionRows,
    InsuranceMoved,
    _Batch,
    _enrolled,
    _still_there,
    contribute,
    post_batch,
)
from suiren.services.identity import ledger_keys
from suiren.services.interest import credit_interest
from suiren.services.reversals import ReversalRefused, reverse
from suiren.services.settlement import close_window
from suiren.services.transfers import (
    accept_transfer,
    approve_transfer,
    complete_transfer,
    reject_transfer,
    request_transfer,
)
from suiren.services.workers import (
    EnrolledElsewhere,
    EnrolmentRefused,
    EnrolRequest,
    enrol,
    enrol_many,
)
from suiren.settings import KeyNotUsable, Settings
from suiren.store.db import WrongKey, make_engine, unit_of_work
from suiren.store.lines import paid_months
from suiren.store.migrate import upgrade
from suiren.store.tables import interest_runs, journal, settled_transfers, workers
from tests.conftest import KEYS, POSTGRES_URL
from tests.ledger_helpers import POLICY, VAULT, assert_ledger_sound, enrol_in_bulk, resident_id
from tests.store import test_concurrency
from tests.store.test_concurrency import race

pg = test_concurrency.pg
MFP = load_policy("money_follows_person")
LATE_2025 = datetime(2025, 12, 20, 12, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = datetime(2026, 6, 16, 12, 0, tzinfo=UTC)


def paying(engine: Engine, n: int, region: str = "440100", policy=POLICY) -> str:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as c:
        w = enrol(c, policy, VAULT, resident_id(n), region, "410000", LATE_2025).worker.worker_id
    with unit_of_work(engine) as c:
        contribute(
            c,
            policy,
            f"p25-{n}",
            w,
            Month.parse("2025-10"),
            Month.parse("2025-12"),
            600_000 if region == "440100" else 800_000,
            LATE_2025,
        )
    with unit_of_work(engine) as c:
        contribute(
            c,
            policy,
            f"p26-{n}",
            w,
            Month.parse("2026-01"),
            Month.parse("2026-03"),
            600_000 if region == "440100" else 800_000,
            JUNE,
        )
    return w


def step(engine: Engine, action, transfer_id: str, now: datetime = DAY):  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as c:
        return action(c, transfer_id, now)


def refused(engine: Engine, tx_id: str, match: str) -> None:
    with unit_of_work(engine) as c:
        before = c.execute(select(func.count()).select_from(journal)).scalar_one()
    with pytest.raises(ReversalRefused, match=match), unit_of_work(engine) as c:
        reverse(c, tx_id, "undo-1", DAY)
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(journal)).scalar_one() == before
        assert_ledger_sound(c)


# --- 1. only what may be reversed is reversed -------------------------------------------------


def test_only_a_contribution_month_can_be_reversed(engine: Engine) -> None:
    w = paying(engine, 1)
    with unit_of_work(engine) as c:
        credit_interest(c, POLICY, 2025, JUNE)
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "m1", w, "330100", DAY)
    for action in (approve_transfer, accept_transfer, complete_transfer):
        step(engine, action, "m1")
    with unit_of_work(engine) as c:
        close_window(c, date(2026, 6, 16), datetime(2026, 6, 17, 12, tzinfo=UTC))
        batch = (
            c.execute(select(journal.c.tx_id).where(journal.c.code == "contribution"))
            .scalars()
            .first()
        )
    refused(engine, "transfer/m1/out", "reject")
    refused(engine, "transfer/m1/in", "reject")
    refused(engine, "transfer/m1/completed", "completed transfer is final")
    refused(engine, "settlement/employee_pension/2026-06-16/440100", "next settlement window")
    refused(engine, "interest/employee_pension/440100/2025/0", "adjustment")
    refused(engine, f"enrol/{w}/employee_pension", "by a transfer")
    refused(engine, str(batch), "single month")
    refused(engine, "nothing/2026-01", "no contribution month")


def test_a_month_whose_money_left_is_refused_until_the_transfer_is_rejected(engine: Engine) -> None:
    w = paying(engine, 2)
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "m2", w, "330100", DAY)
    step(engine, approve_transfer, "m2")
    refused(engine, "p26-2/2026-02", "has left 440100")  # in clearing
    with unit_of_work(engine) as c:
        reject_transfer(c, "m2", DAY, "wrong city")  # the money is back
    with unit_of_work(engine) as c:
        reverse(c, "p26-2/2026-02", "fix-2", DAY)
        assert_ledger_sound(c)


def test_a_month_paid_after_the_worker_came_back_can_be_reversed(engine: Engine) -> None:
    w = paying(engine, 3)
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "away", w, "330100", DAY)
    for action in (approve_transfer, accept_transfer, complete_transfer):
        step(engine, action, "away")
    refused(engine, "p26-3/2026-01", "has left 440100")  # completed: the money is in Hangzhou
    later = datetime(2026, 7, 20, 12, tzinfo=UTC)
    with unit_of_work(engine) as c:
        contribute(
            c, POLICY, "hz", w, Month.parse("2026-07"), Month.parse("2026-07"), 800_000, later
        )
    with unit_of_work(engine) as c:
        reverse(c, "hz/2026-07", "fix-hz", later)  # paid where the money is: reversible
        assert_ledger_sound(c)


def test_a_medical_month_whose_account_moved_is_refused(engine: Engine) -> None:
    with unit_of_work(engine) as c:
        w = enrol(
            c, MFP, VAULT, resident_id(4), "310000", "410000", JUNE, Scheme.EMPLOYEE_MEDICAL
        ).worker.worker_id
    with unit_of_work(engine) as c:
        contribute(
            c,
            MFP,
            "med",
            w,
            Month.parse("2026-01"),
            Month.parse("2026-02"),
            1_500_000,
            JUNE,
            Scheme.EMPLOYEE_MEDICAL,
        )
    with unit_of_work(engine) as c:
        request_transfer(c, MFP, "mm", w, "440100", DAY, Scheme.EMPLOYEE_MEDICAL)
    step(engine, approve_transfer, "mm")
    refused(engine, "med/2026-01", "has left 310000")


# --- 4. no race between a payment and a move --------------------------------------------------


def test_a_payment_racing_a_completion_is_paid_where_the_worker_now_is(pg) -> None:  # type: ignore[no-untyped-def]
    """The completion holds both regions' locks; the payment reads the old region, waits for
    the lock, then finds the insurance moved and is refused with nothing written; sent
    again (as the edge does), it is paid in the new region."""
    engine, schema = pg
    w = paying(engine, 5)
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "m5", w, "330100", DAY)
    step(engine, approve_transfer, "m5")
    step(engine, accept_transfer, "m5")
    april = Month.parse("2026-04")

    def pay(c):  # type: ignore[no-untyped-def]
        return contribute(c, POLICY, "apr", w, april, april, 800_000, DAY)

    outcome = race(engine, schema, lambda c: complete_transfer(c, "m5", DAY), pay)
    assert isinstance(outcome, InsuranceMoved), outcome
    with unit_of_work(engine) as c:
        assert [
            m.tx_id for m in paid_months(c, w, "employee_pension") if m.month == april.ordinal
        ] == []
        [paid] = pay(c)
    assert paid.region == "330100"
    with unit_of_work(engine) as c:
        assert_ledger_sound(c)


LARGE = 600  # more workers than a look-up's IN list: PostgreSQL compares them in SQL


def april_batch(worker_ids: list[str]) -> ContributionRows:
    n = len(worker_ids)
    return ContributionRows(
        [f"big{k}/2026-04" for k in range(n)],
        worker_ids,
        np.full(n, Month.parse("2026-04").ordinal, dtype=np.int64),
        np.full(n, 600_000, dtype=np.int64),
    )


def test_a_large_batch_finds_a_move_made_since_its_workers_were_read(engine: Engine) -> None:
    """Under the locks, every worker's enrolment is compared with the region read before
    them: one that names another region now refuses the whole batch (nothing written)."""
    others = [f"WB{k:08d}" for k in range(LARGE)]
    enrol_in_bulk(engine, others, "440100", Month.parse("2026-01"))
    with unit_of_work(engine) as c:
        batch = _Batch(april_batch(others), Scheme.EMPLOYEE_PENSION)
        _enrolled(c, batch)
        _still_there(c, batch)  # nothing moved
        batch.region[317] = "330100"  # as read just before a move to 440100 completed
        with pytest.raises(InsuranceMoved, match=f"{others[317]}'s insurance moved to 440100"):
            _still_there(c, batch)


def test_a_large_batch_refuses_the_month_of_a_worker_being_moved(engine: Engine) -> None:
    """A transfer out of the region approved: that worker's month is refused as ``moving``,
    the other workers' months of the batch are posted."""
    w = paying(engine, 7)
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "m7", w, "330100", DAY)
    step(engine, approve_transfer, "m7")
    others = [f"WB{k:08d}" for k in range(LARGE)]
    enrol_in_bulk(engine, others, "440100", Month.parse("2026-01"))
    with unit_of_work(engine) as c:
        outcome = post_batch(c, POLICY, april_batch([*others[:250], w, *others[250:]]), DAY)
    assert [(r.row, r.code) for r in outcome.refusals] == [(250, "moving")]
    assert outcome.count(POSTED) == LARGE
    with unit_of_work(engine) as c:
        assert_ledger_sound(c)


def test_two_interest_runs_of_one_year_at_once_credit_it_once(pg) -> None:  # type: ignore[no-untyped-def]
    """The second run waits for the region's chain head, then finds the year run: skipped."""
    engine, schema = pg
    paying(engine, 6)

    def run(c):  # type: ignore[no-untyped-def]
        return credit_interest(c, POLICY, 2025, JUNE)

    second = race(engine, schema, run, run)
    assert isinstance(second, list) and len(second) == 1, second
    assert second[0].skipped and second[0].total_fen == 0, second
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(interest_runs)).scalar_one() == 1
        assert_ledger_sound(c)


def test_a_window_closed_twice_at_once_settles_once(pg) -> None:  # type: ignore[no-untyped-def]
    engine, schema = pg
    w = paying(engine, 7)
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "m7", w, "330100", DAY)
    for action in (approve_transfer, accept_transfer):
        step(engine, action, "m7")
    window, later = DAY.date(), datetime(2026, 6, 18, 12, tzinfo=UTC)

    def close(c):  # type: ignore[no-untyped-def]
        return close_window(c, window, later)

    second = race(engine, schema, close, close)
    assert second.closed and second.positions, second  # type: ignore[attr-defined]
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(settled_transfers)).scalar_one() == 1
        assert_ledger_sound(c)


# --- 3. one person is one worker --------------------------------------------------------------


def test_eight_enrolments_of_one_person_at_once_give_one_worker(pg) -> None:  # type: ignore[no-untyped-def]
    engine, schema = pg
    with unit_of_work(engine) as c:  # the key and the region's chain are set up already
        enrol(c, POLICY, VAULT, resident_id(9), "440100", None, JUNE)
    barrier = threading.Barrier(8)
    found: list[object] = []

    def one() -> None:
        own = make_engine(
            POSTGRES_URL, keys=KEYS, connect_args={"options": f"-csearch_path={schema}"}
        )
        try:
            barrier.wait(timeout=60)
            with unit_of_work(own) as c:
                found.append(
                    enrol(c, POLICY, VAULT, resident_id(6), "440100", None, JUNE).worker.worker_id
                )
        except Exception as error:  # the outcome under test
            found.append(error)
        finally:
            own.dispose()

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(found) == 8 and len(set(found)) == 1 and isinstance(found[0], str), found
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(workers)).scalar_one() == 2
        assert_ledger_sound(c)


def test_a_second_enrolment_of_one_person_waits_and_finds_the_first(pg) -> None:  # type: ignore[no-untyped-def]
    engine, schema = pg
    with unit_of_work(engine) as c:  # the key and the region's chain are set up already
        enrol(c, POLICY, VAULT, resident_id(9), "440100", None, JUNE)

    def enrol_one(c):  # type: ignore[no-untyped-def]
        return enrol(c, POLICY, VAULT, resident_id(8), "440100", None, JUNE)

    second = race(engine, schema, enrol_one, enrol_one)
    assert not isinstance(second, Exception), second
    assert not second.created  # type: ignore[attr-defined]
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(workers)).scalar_one() == 2


def test_every_way_of_writing_one_id_finds_one_worker(engine: Engine) -> None:
    """The old 15-digit id and its 18-digit form, a lower-case x, digits grouped by spaces,
    another scheme: one worker; another work region is refused (a move is a transfer); a
    full-width id, a wrong check character and an impossible birth date are refused with
    nothing written."""
    old = "44010685031512" + "3"  # born 1985-03-15, a man
    new = ResidentId.parse(old).number
    x_first17 = next(
        f for f in (f"44010619900101{n:03d}" for n in range(1000)) if check_character(f) == "X"
    )
    typed = [new, old, f"{new[:6]} {new[6:14]} {new[14:]}", new.lower()]
    with unit_of_work(engine) as c:
        found = {enrol(c, POLICY, VAULT, t, "440100", None, JUNE).worker.worker_id for t in typed}
        found.add(
            enrol(
                c, POLICY, VAULT, old, "440100", None, JUNE, Scheme.EMPLOYEE_MEDICAL
            ).worker.worker_id
        )
        x = enrol(c, POLICY, VAULT, x_first17 + "X", "440100", None, JUNE).worker.worker_id
        assert enrol(c, POLICY, VAULT, x_first17 + "x", "440100", None, JUNE).worker.worker_id == x
    assert len(found) == 1
    with pytest.raises(EnrolledElsewhere, match="transfer"), unit_of_work(engine) as c:
        enrol(c, POLICY, VAULT, old, "110000", None, JUNE)
    full_width = new.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    wrong_check = new[:17] + ("0" if new[17] != "0" else "1")
    impossible = "44010619900230123" + check_character("44010619900230123")
    for bad, said in ((full_width, "全角"), (wrong_check, "校验码"), (impossible, "出生日期")):
        with pytest.raises(InvalidResidentId, match=said), unit_of_work(engine) as c:
            enrol(c, POLICY, VAULT, bad, "440100", None, JUNE)
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(workers)).scalar_one() == 2
        assert_ledger_sound(c)


def test_a_registered_person_keeps_the_hukou_recorded(engine: Engine) -> None:
    """A person registered with a hukou region: enrolling again (another scheme) with one that
    contradicts it is refused with nothing written — a change of hukou is not an enrolment;
    the same one, one more precise (a county of the province recorded) or none is accepted and
    the record stays. Where a local hukou is required (before 2021-07-16), the recorded hukou
    is the one asked about, not the province of the id's first digits."""
    born_in_beijing = "110105" + "19850315" + "123"
    rid = born_in_beijing + check_character(born_in_beijing)
    early = datetime(2020, 6, 15, 12, tzinfo=UTC)  # local hukou required (国发〔2005〕38号)
    with unit_of_work(engine) as c:
        first = enrol(c, POLICY, VAULT, rid, "440100", "440106", early)
    with pytest.raises(EnrolmentRefused, match="户籍") as refused, unit_of_work(engine) as c:
        enrol(c, POLICY, VAULT, rid, "440100", "350100", early, Scheme.EMPLOYEE_MEDICAL)
    assert refused.value.field == "hukou_region" and "440106" in str(refused.value)
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(journal)).scalar_one() == 1
    with unit_of_work(engine) as c:  # none given: the recorded 440106 is in 广东, as required
        medical = enrol(c, POLICY, VAULT, rid, "440100", None, early, Scheme.EMPLOYEE_MEDICAL)
        same = enrol(c, POLICY, VAULT, rid, "440100", "440106", early)
        row = c.execute(select(workers.c.hukou_region)).one()
    assert medical.worker.worker_id == same.worker.worker_id == first.worker.worker_id
    assert medical.worker.hukou_region == "440106" and row.hukou_region == "440106"
    other = "110105" + "19900101" + "456"
    other_rid = other + check_character(other)
    with unit_of_work(
        engine
    ) as c:  # recorded as the id's province: a county of it is no contradiction
        second = enrol(c, POLICY, VAULT, other_rid, "110000", None, JUNE)
        again = enrol(
            c, POLICY, VAULT, other_rid, "110000", "110105", JUNE, Scheme.EMPLOYEE_MEDICAL
        )
    assert second.worker.hukou_region == again.worker.hukou_region == "110000"


def test_one_person_twice_in_a_file_with_two_hukou_regions(engine: Engine) -> None:
    """A workers file naming one person on two rows with contrary hukou regions: the first row
    registers the person, the second is refused as a contrary hukou (the worker the first
    row made is found), and only the first is written."""
    first17 = "440106" + "19880808" + "321"
    rid = first17 + check_character(first17)
    rows = [EnrolRequest(rid, "440100", "440106"), EnrolRequest(rid, "440100", "350100")]
    with unit_of_work(engine) as c:
        made, refused = enrol_many(c, POLICY, VAULT, rows, JUNE)
    assert not isinstance(made, Exception) and made.worker.hukou_region == "440106"
    assert isinstance(refused, EnrolmentRefused) and refused.field == "hukou_region"
    with unit_of_work(engine) as c:
        assert c.execute(select(workers.c.hukou_region)).scalars().all() == ["440106"]


def test_another_key_is_refused_before_anything_is_read(engine: Engine, tmp_path: Path) -> None:
    paying(engine, 7)
    other = make_engine(
        engine.url.render_as_string(hide_password=False),
        keys=ledger_keys(b"x" * 32),
        connect_args=_options(engine),
    )
    try:
        with pytest.raises(WrongKey, match="another secret key"), unit_of_work(other):
            pass
    finally:
        other.dispose()


def test_a_key_recorded_in_a_rolled_back_transaction_is_checked_again(
    engine: Engine,
) -> None:
    """A connection remembers only a fingerprint it found recorded: the first use's record,
    rolled back, is not trusted, so another key that records itself meanwhile is refused."""
    url = engine.url.render_as_string(hide_password=False)
    with engine.begin() as c:  # a fresh database: no fingerprint yet
        c.execute(text("DELETE FROM ledger_meta WHERE name = 'key_fingerprint'"))
    with pytest.raises(RuntimeError), unit_of_work(engine):
        raise RuntimeError("rolled back after the key was recorded")
    other = make_engine(url, keys=ledger_keys(b"y" * 32), connect_args=_options(engine))
    try:
        with unit_of_work(other):
            pass  # the other key records itself
    finally:
        other.dispose()
    with pytest.raises(WrongKey, match="another secret key"), unit_of_work(engine):
        pass


def _options(engine: Engine) -> dict[str, str]:
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as c:
        path = c.execute(text("SHOW search_path")).scalar_one()
    return {"options": f"-csearch_path={path}"}


def test_a_first_enrolment_needs_working_age(engine: Engine) -> None:
    ten = "440106" + "20160101" + "001"
    old = "440106" + "19500101" + "001"
    from suiren.domain.resident_id import check_character

    for first17, match in ((ten, "from the age of 16"), (old, "statutory retirement age")):
        with pytest.raises(EnrolmentRefused, match=match), unit_of_work(engine) as c:
            enrol(c, POLICY, VAULT, first17 + check_character(first17), "440100", None, JUNE)


# --- the key in one configured place ----------------------------------------------------------


def test_the_embedded_database_and_its_key_are_created_private(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    chosen = Settings(database_url=url, secret_key=None, key_file=None)
    secret = chosen.secret()
    key = tmp_path / "ledger.db.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert base64.b64decode(key.read_text()) == secret
    engine = make_engine(url, keys=ledger_keys(secret))
    assert stat.S_IMODE((tmp_path / "ledger.db").stat().st_mode) == 0o600
    upgrade(engine)
    with unit_of_work(engine):
        pass
    engine.dispose()
    assert chosen.secret() == secret  # found again, not made anew
    key.unlink()
    with pytest.raises(KeyNotUsable, match=r"key file .* is missing"):
        Settings(database_url=url, secret_key=None, key_file=None).secret()


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"secret_key": ""}, "set but empty"),
        ({"secret_key": "   "}, "set but empty"),
        ({"secret_key": "not base64!"}, "not base64"),
        ({"secret_key": base64.b64encode(b"short").decode()}, "exactly 32 bytes"),
        ({"secret_key": "４４" * 22}, "not base64"),
        ({"database_url": "postgresql+psycopg://u@127.0.0.1/x"}, "no secret key is configured"),
    ],
)
def test_a_key_that_is_not_usable_is_a_clear_error(tmp_path: Path, values, match) -> None:  # type: ignore[no-untyped-def]
    chosen = {
        "database_url": f"sqlite:///{tmp_path / 'x.db'}",
        "secret_key": None,
        "key_file": None,
    }
    with pytest.raises(KeyNotUsable, match=match):
        Settings(**(chosen | values)).secret()


def test_a_key_file_must_be_a_private_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(KeyNotUsable, match="is a folder"):
        Settings(database_url=url, secret_key=None, key_file=tmp_path).secret()
    loose = tmp_path / "loose.key"
    loose.write_text(base64.b64encode(b"k" * 32).decode())
    os.chmod(loose, 0o644)
    with pytest.raises(KeyNotUsable, match="chmod 600"):
        Settings(database_url=url, secret_key=None, key_file=loose).secret()
    os.chmod(loose, 0o600)
    assert Settings(database_url=url, secret_key=None, key_file=loose).secret() == b"k" * 32
    with pytest.raises(KeyNotUsable, match="does not exist"):
        Settings(database_url=url, secret_key=None, key_file=tmp_path / "none.key").secret()


def new_database_settings(tmp_path: Path) -> tuple[Settings, Path]:
    """Settings of a new embedded database, and where its key file will be."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    return Settings(database_url=url, secret_key=None, key_file=None), tmp_path / "ledger.db.key"


def secret_or_refusal(settings: Settings) -> bytes | str:
    """``settings.secret()``, or the message of its refusal."""
    try:
        return settings.secret()
    except KeyNotUsable as error:
        return error.message


def secrets_at_once(settings: Settings, callers: int) -> list[bytes | str]:
    """``settings.secret()`` in ``callers`` threads let go at once: each one's key, or the
    message of its refusal."""
    start = threading.Barrier(callers)
    found: list[bytes | str] = []

    def call() -> None:
        start.wait()
        found.append(secret_or_refusal(settings))

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


@pytest.fixture
def slow_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk slow to start a write (0.2 s before a file opened by its descriptor is
    written): what was a rare moment between a file's creation and its content lasts."""
    real_fdopen = os.fdopen

    def slow_fdopen(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.2)
        return real_fdopen(*args, **kwargs)

    monkeypatch.setattr(os, "fdopen", slow_fdopen)


@pytest.mark.usefixtures("slow_disk")
def test_commands_that_make_the_key_at_once_all_use_one_key(tmp_path: Path) -> None:
    """The key file was created under its name, then written: a command that lost the race
    to create it read it in between, empty ("not base64"). Now the key is written first and
    put in place whole: every command reads the one key."""
    settings, key = new_database_settings(tmp_path)
    found = secrets_at_once(settings, 4)
    assert found == [base64.b64decode(key.read_text())] * 4
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [key.name]  # no temporary file left


@pytest.mark.usefixtures("slow_disk")
def test_processes_that_make_the_key_at_once_all_use_one_key(tmp_path: Path) -> None:
    """As the threads above, in processes (forked, with the slow disk)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    processes = 6
    start = context.Barrier(processes)
    answers = context.Queue()
    settings, key = new_database_settings(tmp_path)

    def call() -> None:
        start.wait()
        answers.put(secret_or_refusal(settings))

    started = [context.Process(target=call) for _ in range(processes)]
    for process in started:
        process.start()
    found = [answers.get(timeout=60) for _ in started]
    for process in started:
        process.join(timeout=60)
    assert found == [base64.b64decode(key.read_text())] * processes


def test_a_key_and_database_made_meanwhile_by_another_command_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another command made the key and wrote its new database between this command's look
    for the key file (none yet) and its look at the database (written): this command refused
    the new database as one whose key file is missing. The database is now looked at first."""
    settings, key = new_database_settings(tmp_path)
    other, _ = new_database_settings(tmp_path)
    real_exists = Path.exists
    made: list[bytes] = []

    def exists(self: Path) -> bool:
        found = real_exists(self)
        if self == key and not made:  # the other command, just after this one looked
            made.append(b"")
            made[0] = other.secret()
            (tmp_path / "ledger.db").write_bytes(b"SQLite format 3\x00")
        return found

    monkeypatch.setattr(Path, "exists", exists)
    assert settings.secret() == made[0] == base64.b64decode(key.read_text())


class Crash(BaseException):
    """The process stopped here (a kill, a power cut): nothing after it runs but ``finally``."""


@pytest.mark.parametrize("stopped_in", ["fdopen", "fsync", "link"])
def test_a_command_stopped_while_making_the_key_leaves_no_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stopped_in: str
) -> None:
    """Stopped before the key was written, before it reached the disk, or before it was put
    in place: there is no key file (an empty one refused every later command), and the next
    command makes a good key."""
    real = getattr(os, stopped_in)

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Crash

    settings, key = new_database_settings(tmp_path)
    monkeypatch.setattr(os, stopped_in, crash)
    with pytest.raises(Crash):
        settings.secret()
    monkeypatch.setattr(os, stopped_in, real)
    assert not key.exists() and not key.is_symlink()
    made = settings.secret()
    assert base64.b64decode(key.read_text()) == made and settings.secret() == made


def test_a_key_file_that_cannot_be_made_is_a_clear_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system without hard links (or a full disk) refuses with the way out, leaving
    neither a key file nor a temporary one."""

    def no_links(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    settings, key = new_database_settings(tmp_path)
    with pytest.raises(KeyNotUsable, match=re.escape(f"cannot create the key file {key}")) as no:
        settings.secret()
    assert "SUIREN_KEY_FILE" in no.value.message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("", "is empty"),
        ("\n", "is empty"),
        (base64.b64encode(b"k" * 32)[:20].decode(), "is cut short"),
    ],
    ids=["empty", "a line", "cut"],
)
def test_an_empty_or_cut_key_file_is_refused_and_kept(
    tmp_path: Path, text: str, state: str
) -> None:
    """What a command stopped while an earlier version made the key left behind: refused with
    what to do, never replaced by a new key (the data written with a key needs that key)."""
    settings, key = new_database_settings(tmp_path)
    key.write_text(text)
    key.chmod(0o600)
    for _ in range(2):
        with pytest.raises(KeyNotUsable, match=re.escape(f"{key} {state}")) as refused:
            settings.secret()
        assert "restore it from your copy" in refused.value.message
        assert f"delete {key}" in refused.value.message
        assert key.read_text() == text


def test_a_new_key_and_every_output_file_reach_the_disk_with_their_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file renamed or linked into a folder is there after a power cut only once the folder
    itself is flushed: the new key file, and every file ``services.output_files`` writes."""
    from suiren.services.output_files import write_private

    flushed: list[Path] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            flushed.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    settings, key = new_database_settings(tmp_path)
    settings.secret()
    assert key.exists() and flushed == [tmp_path]
    reports = tmp_path / "reports"
    reports.mkdir()
    write_private(reports / "a.csv", "a\n")
    write_private(reports / "b.key", "b\n", overwrite=False)
    assert flushed == [tmp_path, reports, reports]


# --- what is stored in clear ------------------------------------------------------------------


def candidates(masked: str, sex: str, birth: Month, hukou: str) -> int:
    """People whose id agrees with every column stored in clear (the threat model): the
    shown prefix, sex, birth month and hukou region (at worst the id's own county)."""
    days = (birth + 1).first_day().toordinal() - birth.first_day().toordinal()
    shown = masked.rstrip("*")
    counties = (
        1 if len(hukou) == 6 and hukou[2:] != "0000" else 10
    )  # a county, or ≥ 10 in a province
    assert len(shown) <= 2, "more of the id than its province is shown"
    sequences = 500  # 000–999 of the sex's parity; the check character follows
    return counties * days * sequences


@pytest.mark.parametrize("first17", ["44010619900201001", "11010119800229001", "64010420000301002"])
def test_what_is_stored_in_clear_leaves_at_least_10000_candidates(
    engine: Engine, first17: str
) -> None:
    from suiren.domain.resident_id import check_character

    rid = ResidentId.parse(first17 + check_character(first17))
    hukou = (
        rid.address_code if rid.address_code[:2] in ("11", "44") else rid.address_code[:4] + "00"
    )
    with unit_of_work(engine) as c:
        enrol(c, POLICY, VAULT, rid.number, "440100", hukou, JUNE)  # at worst the id's own county
        row = c.execute(select(workers)).one()
    assert rid.number not in repr(tuple(row)) and rid.number[-4:] not in row.masked_id
    assert candidates(row.masked_id, row.sex, Month(row.birth_month), row.hukou_region) >= 10_000
