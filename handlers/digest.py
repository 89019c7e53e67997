"""The daily digest of open cases (P3 by default): oldest first, with age,
last contact, overdue next actions and the verdict line.  Sent once a day
at DIGEST_TIME in TZ; the day is claimed in the database before sending, so
neither a restart nor a second process sends it twice."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from analysis.render.doc import Doc
from handlers.cards import age_days, verdict_line
from handlers.events import Reply
from handlers.texts import t
from store import cases, ops, reminders

MAX_LINES = 200


async def digest_reply(desk, lang: str, priorities: tuple[str, ...], now: datetime) -> Reply:
    from handlers.reminders import stale_before

    found = await desk.store.call(cases.listing, priorities=list(priorities), limit=MAX_LINES + 1)
    total = len(found) if len(found) <= MAX_LINES else await desk.store.call(cases.count, priorities=list(priorities))
    today = desk.today(now)
    owed = await desk.store.call(reminders.owed, today.isoformat(), stale_before(desk, now), MAX_LINES)
    return build(found[:MAX_LINES], total, lang, priorities, today, owed)


def build(found, total: int, lang: str, priorities, today, owed=()) -> Reply:
    """``owed``: the reminders (store.reminders.Reminder) still true today,
    of any priority: said again every day until they are dealt with."""
    doc = Doc()
    label = "/".join(priorities)
    if not found:
        doc.para(t(lang, "digest_empty", priorities=label))
        _reminders(doc, owed, lang, today)
        return Reply(doc, kind="digest", lang=lang)
    doc.heading(t(lang, "digest_title", priorities=label, day=today.isoformat()) + f" ({total})")
    lines = []
    for c in found:
        line = t(lang, "digest_line", number=c.number, customer=c.customer or "—", title=c.title or "",
                 age=age_days(c.opened_at, today), last=(c.last_contact_at or "—")[:10])
        if c.next_action or c.next_action_due:
            overdue = c.overdue(today)
            line += " · " + t(lang, "digest_next", action=c.next_action or "—", due=c.next_action_due or "—",
                              overdue=f" {t(lang, 'card_overdue')}" if overdue else "")
        verdict = verdict_line(c.verdict, lang)
        if verdict:
            line += " · " + verdict
        lines.append(line)
    doc.bullets("", lines)
    if total > len(found):
        doc.para(t(lang, "more", n=total - len(found)))
    _reminders(doc, owed, lang, today)
    return Reply(doc, kind="digest", lang=lang)


def _reminders(doc: Doc, owed, lang: str, today) -> None:
    from store.reminders import Kind

    lines = []
    for r in owed:
        c = r.case
        owner = c.owner or "—"
        if r.kind is Kind.DUE:
            lines.append(t(lang, "digest_due", number=c.number, owner=owner,
                           action=c.next_action or t(lang, "next_default"), due=c.next_action_due))
        else:
            lines.append(t(lang, "digest_quiet", number=c.number, owner=owner, last=r.since[:10],
                           days=(today - datetime.fromisoformat(r.since).date()).days))
    if lines:
        doc.heading(t(lang, "digest_reminders") + f" ({len(lines)})")
        doc.bullets("", lines)


def parse_time(value: str | None) -> time:
    try:
        hours, minutes = (value or "09:00").strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"DIGEST_TIME must be HH:MM, not {value!r}") from None


def next_run(now: datetime, at: time, tz) -> datetime:
    """The next DIGEST_TIME in TZ after ``now`` (aware datetimes)."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate


async def send_if_due(desk, channel: str, at: time, post, lang: str | None = None, now: datetime | None = None) -> bool:
    """Send today's digest to ``channel`` if its time has come and nobody has
    sent it yet.  ``post`` delivers the Reply (the platform's send).  True
    when this call sent it."""
    now = now or desk.now()
    local = now.astimezone(desk.tz)
    if local.time() < at:
        return False
    day = local.date().isoformat()
    stale = desk.iso(now - timedelta(minutes=10))
    if not await desk.store.call(ops.claim_digest, channel, day, desk.iso(now), stale):
        return False
    try:
        reply = await digest_reply(desk, lang or desk.config.lang, desk.config.digest_priorities, now)
        await post(reply)
    except BaseException:
        await desk.store.call(ops.release_digest, channel, day)
        raise
    await desk.store.call(ops.digest_sent, channel, day, desk.iso(desk.now()))
    return True
