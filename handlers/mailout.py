"""The archive e-mail, sent to the customer rather than only copied.

A platform that can mail a case's thread (the case mailbox, bot.mail)
registers a *mailer* with the desk; ``send_archive_email`` is what
``case email send`` in chat and the case board's button both run: the
e-mail of the case's last archive decision, in the case's language, to the
mail thread the case came in on (its last message's sender, the others in
Cc, threaded under it), once per archive decision, and on the case's
timeline as an e-mail follow-up.  A second send is refused, saying when it
went and to whom: a customer gets one archive e-mail per archive (a case
reopened and archived again gets a new one)."""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from handlers import closing
from handlers.texts import t
from store import casemail, timeline
from store.casemail import Claim, MailRoute
from store.cases import Case
from store.errors import Refused, Transient

log = logging.getLogger("crashdesk.mailout")
# A claim this old that never became 'sent' was left by a sender that died.
STALE_CLAIM = timedelta(minutes=10)
MAX_TOLD = 10  # refused recipients named in the reply


@dataclass(frozen=True, slots=True)
class Sent:
    """A mail the server took: its Message-ID, and the recipients it
    refused while taking it for the others (address, SMTP code)."""

    message_id: str
    refused: tuple[tuple[str, int], ...] = ()


class Mailer(Protocol):
    async def mail_case(self, route: MailRoute, body: str) -> Sent:
        """Send ``body`` into the thread.  Raises Transient (the mail server
        away or busy: nothing was sent, try again) or Refused (the server
        will not take it as it is, for any recipient)."""
        ...


_mailers: "weakref.WeakKeyDictionary[object, Mailer]" = weakref.WeakKeyDictionary()


def register(desk, mailer: Mailer) -> None:
    _mailers[desk] = mailer


def unregister(desk) -> None:
    _mailers.pop(desk, None)


def mailer_of(desk) -> Mailer | None:
    return _mailers.get(desk)


def stale_before(desk, now: datetime) -> str:
    """A claim made before this and never sent was left by a sender that died."""
    return desk.iso(now - STALE_CLAIM)


def recipients_text(route_to: tuple[str, ...], cc: tuple[str, ...], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    text = sep.join(route_to)
    if cc:
        text += t(lang, "mail_cc", cc=sep.join(cc))
    return text


def _when(desk, at: str | None) -> str:
    if not at:
        return "—"
    return datetime.fromisoformat(at).astimezone(desk.tz).strftime("%Y-%m-%d %H:%M")


def mail_lang(case: Case, route: MailRoute) -> str:
    """The customer's language: the case's, else their mail's."""
    return case.lang if case.lang in ("zh", "en") else route.lang


async def archive_email_text(desk, case: Case, decision: dict, lang: str) -> str:
    """The decision's e-mail in ``lang``: as the archive reply showed it,
    or (a decision worded in the other language before the case had a mail
    thread) written again from the record up to the decision."""
    if (decision.get("email_lang") or decision.get("lang")) == lang and decision.get("email"):
        return decision["email"]
    followups = [f for f in await desk.store.call(timeline.followups, case.id) if f["at"] <= decision["at"]]
    return closing.written(case, case.verdict_in(lang), followups, decision.get("reason"), lang, decision.get("who"))[1]


async def send_archive_email(desk, ctx, case: Case) -> None:
    lang = ctx.lang
    decision = await desk.store.call(timeline.last_decision, case.id, "archive") if case.status == "archived" else None
    if decision is None:
        await ctx.send(desk.info(t(lang, "mail_not_archived", number=case.number)))
        return
    mailer = mailer_of(desk)
    if mailer is None:
        await ctx.send(desk.info(t(lang, "mail_off", number=case.number)))
        return
    route = await desk.store.call(casemail.route_of, case.id)
    if route is None:
        await ctx.send(desk.info(t(lang, "mail_no_route", number=case.number)))
        return
    at = desk.iso(ctx.now)
    state = await desk.store.call(casemail.claim_archive_mail, decision["id"], who=ctx.who, at=at,
                                  stale_before=stale_before(desk, ctx.now))
    if state.claim is Claim.SENT:
        await ctx.send(desk.info(t(lang, "mail_already_sent", number=case.number, who=state.by or "—",
                                   when=_when(desk, state.at), to=recipients_text(state.to, (), lang))))
        return
    if state.claim is Claim.SENDING:
        await ctx.send(desk.info(t(lang, "mail_sending", number=case.number, who=state.by or "—")))
        return
    if state.claim is Claim.GONE:
        await ctx.send(desk.info(t(lang, "mail_not_archived", number=case.number)))
        return
    sent = unknown = False
    try:
        body = await archive_email_text(desk, case, decision, mail_lang(case, route))
        try:
            done = await mailer.mail_case(route, body)
        except asyncio.CancelledError:
            # The SMTP exchange goes on in its thread: whether the mail went
            # is not known, so the claim stays (one left runs out after
            # STALE_CLAIM) rather than letting a second send go at once.
            unknown = True
            raise
        sent = True
    except Transient as exc:
        log.warning("the archive e-mail of %s was not sent: %s", case.number, exc)
        await ctx.send(desk.error(t(lang, "mail_transient", number=case.number)))
        return
    except Refused as exc:
        log.warning("the archive e-mail of %s was refused: %s %s", case.number, exc.key, exc.fields)
        await ctx.send(desk.error(t(lang, exc.key, number=case.number, **exc.fields)))
        return
    finally:
        if not sent and not unknown:
            await desk.store.call(casemail.release_archive_mail, decision["id"])
    # Those the server refused did not get it: neither recorded nor said to have.
    refused = {address for address, _ in done.refused}
    to = tuple(a for a in route.to if a not in refused)
    cc = tuple(a for a in route.cc if a not in refused)
    if not to:
        to, cc = cc[:1], cc[1:]
    whom = recipients_text(to, cc, lang)
    await desk.store.call(casemail.archive_mail_sent, decision["id"], case.id, message_id=done.message_id, to=to + cc,
                          who=ctx.who, at=at, line=t(lang, "mail_sent_line", to=whom), platform=ctx.event.platform)
    text = t(lang, "mail_sent", number=case.number, to=whom)
    if done.refused:
        sep = "、" if lang == "zh" else ", "
        text += t(lang, "mail_refused_some", refused=sep.join(
            t(lang, "mail_refused_one", address=address, code=code) for address, code in done.refused[:MAX_TOLD]))
    reply = desk.info(text)
    reply.case_number = case.number
    await ctx.send(reply)
