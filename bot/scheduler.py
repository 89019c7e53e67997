"""The daily digest clock: wakes up at DIGEST_TIME in TZ and hands the
digest to every configured target.  The once-a-day guarantee lives in the
database (handlers.digest.send_if_due), not here."""

from __future__ import annotations

import asyncio
import logging

from bot.config import Settings
from handlers.desk import Desk
from handlers.digest import next_run, parse_time, send_if_due

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
