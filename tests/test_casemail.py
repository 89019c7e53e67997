"""A case's mail route and the archive e-mail's one sending (store.casemail),
on both engines."""

import pytest

from engines import db_for
from store import Store, cases, casemail, timeline
from store.casemail import Claim, MailRoute

pytestmark = pytest.mark.usefixtures("store_backend")

AT = "2021-09-01T07:23:00+00:00"


def route(mid: str, at: str, to=("win10sup@sdicbc.com.cn",)) -> MailRoute:
    return MailRoute("desk@x", "<c1@sdicbc.com.cn>", to, ("hongbo@icbc.com.cn",), "答复: [案例号: CAS-04716-C3F2K9] x",
                     mid, ("<c1@sdicbc.com.cn>", mid), "zh", at)


@pytest.fixture
def store(tmp_path):
    s = Store(db_for(tmp_path, "c.db"))
    yield s
    s.close()


def _archived(store) -> tuple[int, int]:
    case = store.call_sync(cases.open_case, "CAS-04716-C3F2K9", title="t", customer="ICBC", priority="P3", who="a", at=AT)
    did = store.call_sync(timeline.add_decision, case.id, kind="archive", reason="r", summary="s", email="e", who="a",
                          at=AT, lang="zh", case_changes={"status": "archived", "archived_at": AT},
                          from_statuses=("open",))
    return case.id, did


def test_the_route_is_the_latest_messages(store):
    case_id, _ = _archived(store)
    assert store.call_sync(casemail.route_of, case_id) is None
    store.call_sync(casemail.remember_route, case_id, route("<c2@x>", "2021-09-01T08:00:00+00:00"))
    # A message read earlier (a retry of an older one) does not move it back.
    store.call_sync(casemail.remember_route, case_id, route("<c1@x>", "2021-09-01T07:59:00+00:00", to=("old@x",)))
    got = store.call_sync(casemail.route_of, case_id)
    assert got == route("<c2@x>", "2021-09-01T08:00:00+00:00")
    store.call_sync(casemail.remember_route, case_id, route("<c3@x>", "2021-09-01T09:00:00+00:00"))
    assert store.call_sync(casemail.route_of, case_id).in_reply_to == "<c3@x>"


def test_one_sender_wins_and_a_dead_ones_claim_runs_out(store):
    case_id, did = _archived(store)
    first = store.call_sync(casemail.claim_archive_mail, did, who="a", at="2021-09-01T08:00:00+00:00",
                            stale_before="2021-09-01T07:50:00+00:00")
    assert first.claim is Claim.TAKEN
    second = store.call_sync(casemail.claim_archive_mail, did, who="b", at="2021-09-01T08:01:00+00:00",
                             stale_before="2021-09-01T07:51:00+00:00")
    assert second.claim is Claim.SENDING and second.by == "a"
    # Ten minutes on, a's claim never became 'sent': b may send.
    late = store.call_sync(casemail.claim_archive_mail, did, who="b", at="2021-09-01T08:11:00+00:00",
                           stale_before="2021-09-01T08:01:00+00:00")
    assert late.claim is Claim.TAKEN
    store.call_sync(casemail.archive_mail_sent, did, case_id, message_id="<m@x>", to=("a@x", "c@x"), who="b",
                    at="2021-09-01T08:11:05+00:00", line="Archive e-mail sent to a@x", platform="console")
    store.call_sync(casemail.archive_mail_sent, did, case_id, message_id="<m@x>", to=("a@x", "c@x"), who="b",
                    at="2021-09-01T08:11:05+00:00", line="Archive e-mail sent to a@x", platform="console")
    done = store.call_sync(casemail.claim_archive_mail, did, who="a", at="2021-09-02T08:00:00+00:00",
                           stale_before="2021-09-02T07:50:00+00:00")
    assert (done.claim, done.by, done.message_id, done.to) == (Claim.SENT, "b", "<m@x>", ("a@x", "c@x"))
    assert [f["agreed"] for f in store.call_sync(timeline.followups, case_id)] == ["Archive e-mail sent to a@x"]
    assert store.call_sync(casemail.claim_archive_mail, 999, who="a", at=AT, stale_before=AT).claim is Claim.GONE


def test_a_failed_send_releases_the_claim(store):
    _, did = _archived(store)
    store.call_sync(casemail.claim_archive_mail, did, who="a", at=AT, stale_before=AT)
    store.call_sync(casemail.release_archive_mail, did)
    assert store.call_sync(casemail.archive_mail, did) is None
    assert store.call_sync(casemail.claim_archive_mail, did, who="b", at=AT, stale_before=AT).claim is Claim.TAKEN


def test_instances_claiming_at_once_give_it_to_one(tmp_path):
    """Six instances (a store each, on one database) claim the same
    decision's e-mail at the same moment, fifteen times: one takes it."""
    import threading

    url = db_for(tmp_path, "c.db")
    first = Store(url)
    _, did = _archived(first)
    stores = [Store(url) for _ in range(6)]
    try:
        for _ in range(15):
            first.call_sync(casemail.release_archive_mail, did)
            got: list[Claim] = []
            barrier = threading.Barrier(len(stores))

            def claim(s: Store, i: int) -> None:
                barrier.wait()
                got.append(s.call_sync(casemail.claim_archive_mail, did, who=f"w{i}", at=AT, stale_before=AT).claim)

            threads = [threading.Thread(target=claim, args=(s, i)) for i, s in enumerate(stores)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(c.value for c in got) == ["sending"] * 5 + ["taken"], got
    finally:
        for s in stores + [first]:
            s.close()
