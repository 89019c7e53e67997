"""The store's promises: a locked or damaged database is explained, and
nothing already stored is lost."""

import sqlite3
import threading

import pytest

from store import Store, StoreError
from store import cases, ops, search, timeline
from store.db import connect
from engines import db_for

AT = "2021-09-01T07:23:00+00:00"


def test_damaged_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "cases.db"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a crashdesk database or is damaged"):
        connect(path)
    assert path.read_bytes() == before


def test_locked_database_is_explained_and_the_write_lands_later(tmp_path):
    path = tmp_path / "cases.db"
    store = Store(path, busy_timeout=0.3)
    store.call_sync(cases.open_case, "CAS-00001-AAAAAA", title="t", customer="c", priority="P3", who="a", at=AT)
    blocker = sqlite3.connect(path, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match="busy"):
        store.call_sync(cases.open_case, "CAS-00002-AAAAAA", title="t", customer="c", priority="P3", who="a", at=AT)
    blocker.rollback()
    blocker.close()
    store.call_sync(cases.open_case, "CAS-00002-AAAAAA", title="t", customer="c", priority="P3", who="a", at=AT)
    assert store.call_sync(cases.get, "CAS-00001-AAAAAA") is not None
    assert store.call_sync(cases.count) == 2
    store.close()


def test_concurrent_writers_in_threads_lose_no_update(tmp_path):
    path = tmp_path / "cases.db"
    setup = Store(path)
    case = setup.call_sync(cases.open_case, "CAS-00001-AAAAAA", title="t", customer="c", priority="P3", who="a", at=AT)
    setup.close()

    def writer(n):
        s = Store(path)
        for i in range(25):
            s.call_sync(timeline.add_followup, case.id, kind="note", who=f"w{n}", at=AT, agreed=f"{n}-{i}",
                        next_action=None, due=None)
        s.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    check = Store(path)
    assert len(check.call_sync(timeline.followups, case.id)) == 100
    check.close()


def test_migrations_are_idempotent_and_wal_is_on(tmp_path):
    path = tmp_path / "cases.db"
    for _ in range(2):
        db = connect(path)
        assert db.journal_mode == "wal"
        assert db.execute("pragma foreign_keys").fetchone()[0] == 1
        db.close()


def test_a_database_from_a_newer_crashdesk_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "cases.db"
    connect(path).close()
    raw = sqlite3.connect(path)
    raw.execute("insert into _sqlite_migrations (migration_set, name, applied_at) values ('crashdesk', '099_future', 'x')")
    raw.commit()
    raw.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer crashdesk"):
        connect(path)
    assert path.read_bytes() == before


def test_opening_an_up_to_date_database_does_not_wait_for_a_busy_writer(tmp_path):
    path = tmp_path / "cases.db"
    connect(path).close()
    writer = sqlite3.connect(path)
    writer.execute("BEGIN IMMEDIATE")
    try:
        connect(path, busy_timeout=0.2).close()  # read-only checks: no write lock needed
    finally:
        writer.rollback()
        writer.close()


def test_search_finds_chinese_inside_words_and_short_words(tmp_path, store_backend):
    s = Store(db_for(tmp_path, "c.db"))
    c = s.call_sync(cases.open_case, "CAS-04716-C3F2K9", title="总行 win10 神州网信政府版电脑蓝屏", customer="ICBC",
                    priority="P3", who="a", at=AT)
    s.call_sync(timeline.add_followup, c.id, kind="phone", who="a", at=AT, agreed="客户将升级亚信安全软件",
                next_action=None, due=None)
    assert [x.number for x, _ in s.call_sync(search.search, "亚信安全")] == ["CAS-04716-C3F2K9"]
    assert [x.number for x, _ in s.call_sync(search.search, "蓝屏")] == ["CAS-04716-C3F2K9"]
    assert s.call_sync(search.search, "100%_\"drop") == []
    assert s.call_sync(search.search, "icbc")  # case does not matter
    s.close()


LATER = "2021-09-01T07:24:30+00:00"
LEASE = "2021-09-01T07:24:00+00:00"


def test_jobs_are_durable_deduplicated_and_leased(tmp_path, store_backend):
    location = db_for(tmp_path, "c.db")
    s = Store(location)
    assert s.call_sync(ops.enqueue, "analyse", {"file": "F1"}, dedupe="slack:F1", at=AT)
    assert s.call_sync(ops.enqueue, "analyse", {"file": "F1"}, dedupe="slack:F1", at=AT) is None
    job = s.call_sync(ops.claim_job, AT, "one", LEASE, ("analyse",))
    assert job["payload"] == {"file": "F1"} and job["attempts"] == 1 and job["owner"] == "one"
    # Another instance (or a restart of this one) does not take a job whose lease holds.
    assert s.call_sync(ops.claim_job, AT, "two", LEASE, ("analyse",)) is None
    assert s.call_sync(ops.renew_job, job["id"], "one", LEASE)
    s.close()
    # "one" died: once its lease has run out, another instance takes the job over.
    s = Store(location)
    again = s.call_sync(ops.claim_job, LATER, "two", "2021-09-01T07:30:00+00:00", ("analyse",))
    assert again["id"] == job["id"] and again["attempts"] == 2 and again["owner"] == "two"
    assert not s.call_sync(ops.renew_job, job["id"], "one", LEASE)  # the old owner learns it lost it
    assert not s.call_sync(ops.finish_job, job["id"], "one", LATER)
    assert s.call_sync(ops.finish_job, again["id"], "two", LATER)
    assert s.call_sync(ops.pending_jobs) == 0
    s.close()


def test_a_job_that_outlives_every_lease_is_failed_and_reported(tmp_path, store_backend):
    s = Store(db_for(tmp_path, "c.db"))
    s.call_sync(ops.enqueue, "analyse", {"file": "F2"}, dedupe="slack:F2", at=AT)
    for n in range(3):
        when = f"2021-09-01T{8 + n:02d}:00:00+00:00"
        assert s.call_sync(ops.claim_job, when, f"i{n}", when.replace(":00:00", ":01:00"), ("analyse",), 3)
    assert s.call_sync(ops.claim_job, "2021-09-01T12:00:00+00:00", "i4", "2021-09-01T12:01:00+00:00", ("analyse",), 3) is None
    dead = s.call_sync(ops.expired_jobs, "2021-09-01T12:00:00+00:00", ("analyse",), 3)
    assert [d["payload"] for d in dead] == [{"file": "F2"}]
    assert s.call_sync(ops.pending_jobs) == 0
    s.close()


def test_a_lease_has_one_holder_until_it_runs_out(tmp_path, store_backend):
    s = Store(db_for(tmp_path, "c.db"))
    assert s.call_sync(ops.take_lease, "slack-socket", "one", AT, LEASE)
    assert not s.call_sync(ops.take_lease, "slack-socket", "two", AT, LEASE)
    assert s.call_sync(ops.take_lease, "slack-socket", "one", AT, LATER)  # renewed
    assert s.call_sync(ops.lease_holder, "slack-socket", LEASE) == "one"
    assert s.call_sync(ops.take_lease, "slack-socket", "two", "2021-09-01T07:25:00+00:00", "2021-09-01T07:26:00+00:00")
    s.call_sync(ops.release_lease, "slack-socket", "two")
    assert s.call_sync(ops.lease_holder, "slack-socket", AT) is None
    s.close()


def test_the_send_budget_is_one_for_every_instance(tmp_path, store_backend):
    location = db_for(tmp_path, "c.db")
    a, b = Store(location), Store(location)
    start = "2021-09-01T07:00:00.000000+00:00"
    for i in range(15):
        assert a.call_sync(ops.reserve_sends, "zhangsan", 1, f"2021-09-01T07:00:{i:02d}.000000+00:00", "2021-09-01T06:59:30+00:00", 30) is None
        assert b.call_sync(ops.reserve_sends, "zhangsan", 1, f"2021-09-01T07:00:{i:02d}.500000+00:00", "2021-09-01T06:59:30+00:00", 30) is None
    oldest = b.call_sync(ops.reserve_sends, "zhangsan", 1, "2021-09-01T07:00:20.000000+00:00", "2021-09-01T06:59:30+00:00", 30)
    assert oldest == start  # the 31st waits for the first to leave the minute
    assert a.call_sync(ops.reserve_sends, "lisi", 1, "2021-09-01T07:00:20.000000+00:00", "2021-09-01T06:59:30+00:00", 30) is None
    assert a.call_sync(ops.reserve_sends, "zhangsan", 1, "2021-09-01T07:01:00.100000+00:00",
                       "2021-09-01T07:00:00.100000+00:00", 30) is None
    a.close()
    b.close()
