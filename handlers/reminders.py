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
    owed = await desk.store.call(reminders.pending, today.isoformat(), stale_before(desk, now))
    count = 0
    for reminder in owed:
        claimed = await desk.store.call(reminders.claim, reminder, by, desk.iso(now), desk.iso(now - CLAIM_TIMEOUT))
        if not claimed:
            continue
        try:
            await deliver(reply_for(reminder, reminder.case.lang or desk.config.lang, today))
        except Exception:
            log.exception("the reminder %s could not be delivered; will try again", reminder.key)
            await desk.store.call(reminders.release, reminder.key)
            continue
        await desk.store.call(reminders.sent, reminder.key, desk.iso(desk.now()))
        count += 1
    return count
