"""The clocks: the daily digest at DIGEST_TIME in TZ to every configured
target, and the reminders (handlers.reminders) from that time on, where
each case lives.  The once-only guarantees live in the database
(handlers.digest.send_if_due, store.reminders.claim), not here: any number
of instances may run these loops."""

from __future__ import annotations

import asyncio
import logging

from bot.config import Settings
from handlers.desk import Desk
from handlers.digest import next_run, parse_time, send_if_due
from handlers.events import Reply
from handlers.reminders import Deliver, send_due
from store import cases

log = logging.getLogger("crashdesk.digest")


async def digest_loop(desk: Desk, targets, settings: Settings, *, poll: float = 60.0) -> None:
    at = parse_time(settings.get("DIGEST_TIME", "09:00"))
    while True:
        for key, post in targets:
            try:
                if await send_if_due(desk, key, at, post):
                    log.info("daily digest sent to %s", key)
            except Exception:
                log.exception("daily digest to %s failed; will try again", key)
        now = desk.now()
        wait = (next_run(now, at, desk.tz) - now).total_seconds()
        await asyncio.sleep(max(1.0, min(poll, wait)))


async def reminder_loop(desk: Desk, deliver: Deliver, settings: Settings, *, poll: float = 60.0,
                        by: str = "") -> None:
    at = parse_time(settings.get("DIGEST_TIME", "09:00"))
    while True:
        try:
            sent = await send_due(desk, deliver, at, by=by)
            if sent:
                log.info("%d reminder(s) sent", sent)
        except Exception:
            log.exception("sending reminders failed; will try again")
        await asyncio.sleep(poll)


class NotDelivered(RuntimeError):
    """No outlet took the reminder: it is tried again next round."""


def case_outlets(desk: Desk, platforms) -> Deliver:
    """Where a case lives, for a reply about it: its owner one to one when
    they took it themselves (a Slack direct message, a WeCom message), else
    every thread of the case (handlers.deliver).  A case no platform knows
    (the terminal's) has no outlet: its reminders are in the digest."""
    from handlers.deliver import case_threads, deliver as to_case, doors

    async def deliver(reply: Reply) -> None:
        case = await desk.store.call(cases.get, reply.case_number) if reply.case_number else None
        if case is None:
            return
        slack, wecom = platforms.slack, platforms.wecom
        platform, _, user = (case.owner_ref or "").partition(":")
        if platform == "slack" and slack is not None and user:
            if await slack.post(reply, user, thread=None) is None:
                raise NotDelivered(f"Slack did not take the reminder for {case.number}")
            return
        if platform == "wecom" and wecom is not None and user:
            await wecom.send({"to": user, "group": None, "response_url": None, "channel": user}, reply)
            return
        reachable = [th for th in await case_threads(desk, case.number) if th.platform in doors(desk)]
        if reachable and not await to_case(desk, case.number, reply):
            raise NotDelivered(f"no thread of {case.number} took the reminder")

    return deliver
