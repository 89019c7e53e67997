"""Who may use the desk.

A support organisation says who its engineers are in the settings
(bot.config.Settings.access), in the terms its chat platform already has:

  CRASHDESK_USERS              user ids, any platform (``U0ABC``), or one
                               platform's (``slack:U0ABC``, ``wecom:zhangsan``)
  CRASHDESK_SLACK_CHANNELS     Slack channels: anyone in them is served there
  CRASHDESK_SLACK_USERGROUPS   Slack user groups (S...): their members anywhere
  CRASHDESK_WECOM_DEPARTMENTS  WeCom departments (ids): their members and the
                               members of their sub-departments
  CRASHDESK_WECOM_TAGS         WeCom tags (ids): the people and departments
                               tagged

A person matching any rule is served (the leads of CRASHDESK_LEADS
always); anyone else who addresses the bot is told they are not on the
desk, and nothing they sent is stored.  With none of these set the desk
serves everyone who can reach the bot (the workspace, or the WeCom app's
visible range) and says so in the log once.  The terminal is always
served.  Memberships are asked of the platform and kept five minutes; when
the platform cannot be asked, the person is refused and told to try again
(never let in on a failure)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from handlers.events import ChatEvent, Reply

log = logging.getLogger("crashdesk.access")
CACHE_SECONDS = 300.0

REFUSED = {
    "en": "You are not on this support desk, so crashdesk cannot take requests from you. "
          "Ask your support lead to add you (README: Who may use the desk).",
    "zh": "您不在本支持组的授权名单中，crashdesk 无法处理您的请求。如需使用，请联系支持组负责人添加权限。",
}
UNCHECKED = {
    "en": "crashdesk could not check your access just now; please try again in a few minutes.",
    "zh": "暂时无法确认您的使用权限，请几分钟后再试。",
}


class LookupFailed(Exception):
    """The platform could not say who belongs to a group."""


@dataclass(frozen=True)
class Rules:
    users: frozenset[str] = frozenset()  # "U0ABC" (any platform) or "slack:U0ABC"
    slack_channels: frozenset[str] = frozenset()
    slack_usergroups: frozenset[str] = frozenset()
    wecom_departments: frozenset[int] = frozenset()
    wecom_tags: frozenset[str] = frozenset()
    leads: frozenset[str] = frozenset()

    @property
    def restricted(self) -> bool:
        return bool(self.users or self.slack_channels or self.slack_usergroups or self.wecom_departments
                    or self.wecom_tags)


# What the platforms answer, each behind one call (the adapters give them).
Members = Callable[[str], Awaitable[set[str]]]  # Slack user group -> user ids
Departments = Callable[[str], Awaitable[set[int]]]  # WeCom user -> department ids
SubDepartments = Callable[[int], Awaitable[set[int]]]  # WeCom department -> it and those under it
Tagged = Callable[[str], Awaitable[tuple[set[str], set[int]]]]  # WeCom tag -> (users, departments)


@dataclass
class _Cache:
    values: dict = field(default_factory=dict)

    async def get(self, key, make, now: float):
        hit = self.values.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        value = await make()
        self.values[key] = (now, value)
        return value


class Gate:
    """The desk's front door: ``allows(event)`` for each person's message."""

    def __init__(self, rules: Rules, clock: Callable[[], float] = time.monotonic):
        self.rules = rules
        self.clock = clock
        self.slack_members: Members | None = None
        self.wecom_departments: Departments | None = None
        self.wecom_subdepartments: SubDepartments | None = None
        self.wecom_tagged: Tagged | None = None
        self._cache = _Cache()
        if not rules.restricted:
            log.warning("access: no CRASHDESK_USERS, CRASHDESK_SLACK_CHANNELS, CRASHDESK_SLACK_USERGROUPS, "
                        "CRASHDESK_WECOM_DEPARTMENTS or CRASHDESK_WECOM_TAGS set: everyone who can reach the bot "
                        "may use the desk and get board links")

    async def allows(self, event: ChatEvent) -> bool:
        """Whether the desk serves this person here.  Raises LookupFailed
        when a membership could not be asked of the platform."""
        r = self.rules
        if not r.restricted or event.platform == "console":
            return True
        user = event.user or ""
        names = {user, f"{event.platform}:{user}"} | ({event.user_name} if event.user_name else set())
        if names & (r.users | r.leads):
            return True
        if event.platform == "slack":
            if event.channel in r.slack_channels:
                return True
            for group in sorted(r.slack_usergroups):
                if user in await self._slack_group(group):
                    return True
            return False
        if event.platform in ("wecom", "wecom_bot"):  # the app, the callback bot, the long connection
            if r.wecom_departments or r.wecom_tags:
                mine = await self._wecom_user_departments(user)
                if mine & await self._wecom_allowed_departments(r.wecom_departments):
                    return True
                for tag in sorted(r.wecom_tags):
                    users, departments = await self._wecom_tag(tag)
                    if user in users or mine & await self._wecom_allowed_departments(departments):
                        return True
            return False
        return False

    # -- memberships, asked of the platform and kept a while --------------------
    async def _ask(self, key, ask):
        if ask is None:
            raise LookupFailed(f"no way to ask the platform about {key[0]}")
        try:
            return await self._cache.get(key, ask, self.clock())
        except LookupFailed:
            raise
        except Exception as exc:  # the platform's own errors, whatever their type
            raise LookupFailed(f"{key[0]} {key[1]}: {exc}") from exc

    async def _slack_group(self, group: str) -> set[str]:
        members = self.slack_members
        return await self._ask(("slack user group", group), (lambda: members(group)) if members else None)

    async def _wecom_user_departments(self, user: str) -> set[int]:
        ask = self.wecom_departments
        return await self._ask(("wecom user", user), (lambda: ask(user)) if ask else None)

    async def _wecom_allowed_departments(self, roots) -> set[int]:
        out: set[int] = set()
        ask = self.wecom_subdepartments
        for root in sorted(roots):
            out |= await self._ask(("wecom department", root), (lambda root=root: ask(root)) if ask else None)
        return out

    async def _wecom_tag(self, tag: str) -> tuple[set[str], set[int]]:
        ask = self.wecom_tagged
        return await self._ask(("wecom tag", tag), (lambda: ask(tag)) if ask else None)


async def admit(gate: Gate | None, desk, event: ChatEvent, send: Callable[[Reply], Awaitable[None]]) -> bool:
    """True when the desk serves this message; otherwise the refusal is
    logged (and said to the person, when they addressed the bot) and
    nothing of the message is handled or stored."""
    if gate is None:
        return True
    unchecked = False
    try:
        if await gate.allows(event):
            return True
    except LookupFailed as exc:
        log.warning("access: could not check %s user %s, refused for now: %s", event.platform, event.user, exc)
        unchecked = True
    log.warning("access: refused %s user %s in %s (not on the desk)", event.platform, event.user, event.channel)
    if addressed(event):
        reply = desk.info(refusal(await desk.lang_for(event), unchecked))
        reply.ephemeral = True
        await send(reply)
    return False


def addressed(event: ChatEvent) -> bool:
    """Whether a message asks the bot for something: what the desk takes as
    said to it (one to one, a slash command, a mention), files, or a
    command; only those get the refusal, so that a channel's ordinary talk
    is not answered."""
    from handlers.desk import Desk
    from handlers.parsing import parse_command

    return Desk.addressed(event) or bool(event.files) or parse_command(event.text or "") is not None


def refusal(lang: str, unchecked: bool = False) -> str:
    table = UNCHECKED if unchecked else REFUSED
    return table.get(lang, table["en"])
