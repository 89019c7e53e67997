"""Reminders where the case lives: when a follow-up's next action falls
due, and when a case has gone without contact for ``stale_days``, its
owner is told once, in the case's threads (the adapters' delivery); the
daily digest says it again for as long as it stays so.  Sent from the
working day's start (DIGEST_TIME) in TZ; claimed in the database before
sending (store.reminders), so that a restart or a second instance does not
send it twice."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Awaitable, Callable

from analysis.render.doc import Doc
from handlers.events import Action, Reply
from handlers.texts import t
from store import reminders
from store.reminders import Kind, Reminder

log = logging.getLogger("crashdesk.reminders")
Deliver = Callable[[Reply], Awaitable[None]]
CLAIM_TIMEOUT = timedelta(minutes=10)  # a claim this old, never sent, is taken over
# A reminder that could not be delivered (a thread deleted, the bot taken
# out of a channel, a platform away) is tried again after 5, 10, 20, 40 and
# 80 minutes, then given up: the digest still lists the case.
RETRY_FIRST = timedelta(minutes=5)
MAX_ATTEMPTS = 6


def stale_before(desk, now: datetime) -> str:
    return desk.iso(now - timedelta(days=desk.config.stale_days))


def reply_for(reminder: Reminder, lang: str, today) -> Reply:
    case = reminder.case
    who = f"@{case.owner}" if case.owner else t(lang, "remind_nobody", number=case.number)
    what = " · ".join(x for x in (case.number, case.customer, case.title) if x)
    if reminder.kind is Kind.DUE:
        action = case.next_action or t(lang, "next_default")
        key = "remind_due_today" if case.next_action_due == today.isoformat() else "remind_overdue"
        text = t(lang, key, who=who, what=what, action=action, due=case.next_action_due)
    else:
        last = (case.last_contact_at or case.opened_at)[:10]
        days = (today - datetime.fromisoformat(case.last_contact_at or case.opened_at).date()).days
        text = t(lang, "remind_stale", who=who, what=what, days=days, last=last)
    doc = Doc()
    doc.para(text)
    reply = Reply(doc, kind="reminder", case_number=case.number, lang=lang)
    reply.actions = [Action("call", t(lang, "btn_call"), case.number), Action("show", t(lang, "btn_show"), case.number)]
    return reply


async def send_due(desk, deliver: Deliver, at: time = time(0, 0), *, now: datetime | None = None,
                   by: str = "") -> int:
    """Send the reminders owed now (from ``at`` local time on); the number
    this call sent.  A delivery that fails is let go, for the next round."""
    now = now or desk.now()
    local = now.astimezone(desk.tz)
    if local.time() < at:
        return 0
    today = local.date()
    owed = await desk.store.call(reminders.pending, today.isoformat(), stale_before(desk, now), desk.iso(now))
    count = 0
    for reminder in owed:
        claimed = await desk.store.call(reminders.claim, reminder, by, desk.iso(now), desk.iso(now - CLAIM_TIMEOUT))
        if not claimed:
            continue
        try:
            await deliver(reply_for(reminder, reminder.case.lang or desk.config.lang, today))
        except Exception as exc:
            await _failed(desk, reminder, now, exc)
            continue
        await desk.store.call(reminders.sent, reminder.key, desk.iso(desk.now()))
        count += 1
    return count


def retry_time(now: datetime, attempt: int) -> datetime:
    """When a reminder that failed ``attempt`` times is tried again."""
    return now + RETRY_FIRST * 2 ** (attempt - 1)


async def _failed(desk, reminder: Reminder, now: datetime, exc: Exception) -> None:
    """A delivery that failed: tried again later and later, then given up
    (the first failure logged with its trace, the others in a line)."""
    def retry_at(attempt: int) -> str | None:
        return desk.iso(retry_time(now, attempt)) if attempt < MAX_ATTEMPTS else None

    attempt = await desk.store.call(reminders.failed, reminder.key, desk.iso(now), retry_at)
    retry = retry_time(now, attempt) if attempt < MAX_ATTEMPTS else None
    if attempt == 1:
        log.exception("the reminder %s of %s could not be delivered; tried again from %s", reminder.key,
                      reminder.case.number, desk.iso(retry) if retry else "never")
    elif retry is not None:
        log.warning("the reminder %s of %s could not be delivered (attempt %d: %s); tried again from %s",
                    reminder.key, reminder.case.number, attempt, type(exc).__name__, desk.iso(retry))
    else:
        log.warning("the reminder %s of %s could not be delivered in %d attempts (%s); given up, the digest "
                    "still lists the case", reminder.key, reminder.case.number, attempt, type(exc).__name__)
