"""``case <verb> ...``: the same words on every platform (``/case`` in
Slack, ``case`` in WeCom and the console)."""

from __future__ import annotations

from datetime import timedelta

from analysis.render.doc import Doc
from handlers import closing
from handlers.cards import verdict_line
from handlers.events import Action, Reply
from handlers.parsing import (OBSERVE_WORDS, PRIORITY, CrmSubject, crm_subject, find_due, leading_malformed,
                              OpenArgs, parse_open, split_next_action, take_case)
from handlers.texts import KIND_NAMES, T, t
from store import cases, casemail, ops, timeline
from store.cases import Case, CaseExists
from store.search import search

FOLLOWUP_VERBS = {"call": "phone", "phone": "phone", "电话": "phone", "email": "email", "mail": "email",
                  "邮件": "email", "visit": "visit", "现场": "visit", "note": "note", "备注": "note"}


SEND_WORDS = ("send", "发送")


def email_send_args(rest: str) -> str | None:
    """``case email send [case]`` (or ``case email <case> send``): the case
    part of it; None when the words are an e-mail follow-up's text
    ("case email send the logs" logs that)."""
    words = rest.split()
    if not 1 <= len(words) <= 2 or sum(w.lower() in SEND_WORDS for w in words) != 1:
        return None
    other = next((w for w in words if w.lower() not in SEND_WORDS), "")
    if other and not (take_case(other)[0] or leading_malformed(other)):
        return None
    return other


async def run(desk, ctx, verb: str, rest: str) -> None:
    handler = _VERBS.get(verb)
    send_args = email_send_args(rest) if FOLLOWUP_VERBS.get(verb) == "email" else None
    if send_args is not None:
        await email_send(desk, ctx, send_args)
    elif verb in FOLLOWUP_VERBS:
        await followup(desk, ctx, FOLLOWUP_VERBS[verb], verb, rest)
    elif handler is not None:
        await handler(desk, ctx, rest)
    elif verb and nearest(verb):
        await ctx.send(desk.info(t(ctx.lang, "did_you_mean", word=verb, verb=f"case {nearest(verb)}")))
    else:
        await help_(desk, ctx, rest, unknown=verb or None)


def verbs() -> list[str]:
    return [*_VERBS, *FOLLOWUP_VERBS]


def nearest(word: str) -> str | None:
    """The command a mistyped verb most likely meant ("shwo" -> "show")."""
    import difflib

    found = difflib.get_close_matches(word.lower()[:40], verbs(), n=1, cutoff=0.6)
    return found[0] if found else None


_CASE_WORDS = ("case", "/case", "案例")


def near_command(text: str) -> str | None:
    """A message that wanted to be a command and is not one: "cas show",
    "csae list", "/caes help".  The command it most likely meant."""
    import difflib

    words = text.split(None, 2)
    if len(words) < 2 or words[0].lower() in _CASE_WORDS:
        return None
    if not difflib.get_close_matches(words[0].lower()[:40], _CASE_WORDS, n=1, cutoff=0.6):
        return None
    verb = words[1].lower()
    if verb in verbs():
        return f"case {verb}"
    guess = nearest(verb)
    return f"case {guess}" if guess else None


async def target_case(desk, ctx, rest: str) -> tuple[Case | None, str]:
    """The case a command is about: its number first in the arguments, else
    the thread's (or the conversation's) case.  Says so when there is none."""
    number, rest = take_case(rest)
    if number:
        case = await desk.store.call(cases.get, number)
        if case is None:
            await ctx.send(desk.offer_open(ctx, number))
        return case, rest
    bad = leading_malformed(rest)
    if bad:
        # A mistyped number must not fall back to the thread's case.
        await ctx.send(desk.info(t(ctx.lang, "malformed_number", token=bad)))
        return None, rest
    if ctx.thread_case:
        return ctx.thread_case, rest
    await ctx.send(desk.info(t(ctx.lang, "which_case")))
    return None, rest


# ------------------------------------------------------------------- verbs

async def help_(desk, ctx, rest: str, unknown: str | None = None) -> None:
    doc = Doc()
    if unknown:
        doc.para(t(ctx.lang, "unknown_command", word=unknown))
    doc.heading(t(ctx.lang, "help_title"))
    doc.para(t(ctx.lang, "help_intro"))
    lines = T[ctx.lang]["help_lines"]
    if ctx.event.platform == "console":
        # The terminal has no attachments: this is how files get in.
        lines += "\n" + t(ctx.lang, "help_upload")
    doc.code(lines)
    doc.para(t(ctx.lang, "help_case_optional"))
    await ctx.send(Reply(doc, kind="help"))


async def open_(desk, ctx, rest: str) -> None:
    subject = crm_subject(rest)
    if subject:
        await open_from_subject(desk, ctx, subject)
        return
    number, tail = take_case(rest)
    if not number:
        bad = leading_malformed(rest)
        await ctx.send(desk.info(t(ctx.lang, "malformed_number", token=bad) if bad else t(ctx.lang, "which_case")))
        return
    # Options may come in any order: P3 customer:ICBC contact:"Li Lei" title...
    await open_number(desk, ctx, number, parse_open(tail))


async def open_number(desk, ctx, number: str, args: OpenArgs) -> Case | None:
    """Open case ``number`` as ``case open`` words it (or show it, when it exists)."""
    return await _open(desk, ctx, number, title=args.title, customer=args.customer, priority=args.priority or "P3",
                       contact=args.contact)


async def open_from_subject(desk, ctx, subject: CrmSubject, quiet: bool = False) -> Case | None:
    """A pasted CRM subject line opens the case it names, or shows it."""
    existing = await desk.store.call(cases.get, subject.number)
    if existing:
        if not quiet:
            await desk.show_card(ctx, existing)
        else:
            await desk.focus(ctx, existing)
        return existing
    return await _open(desk, ctx, subject.number, title=subject.title, customer=subject.customer,
                       priority=subject.priority, contact=None)


async def _open(desk, ctx, number: str, *, title, customer, priority, contact) -> Case | None:
    try:
        case = await desk.store.call(cases.open_case, number, title=title, customer=customer, priority=priority,
                                     contact=contact, who=ctx.who, at=desk.iso(ctx.now), lang=ctx.lang,
                                     platform=ctx.event.platform)
    except CaseExists:
        case = await desk.store.call(cases.get, number)
        await ctx.send(desk.info(t(ctx.lang, "case_exists", number=number)))
        await desk.show_card(ctx, case)
        return case
    opened = desk.info(t(ctx.lang, "opened", number=number))
    if not title:
        opened.doc.para(t(ctx.lang, "need_title", number=number))
    await ctx.send(opened)
    # The card focuses the conversation on the case, which files what was
    # uploaded here before the case existed.
    await desk.show_card(ctx, case)
    return case


async def show(desk, ctx, rest: str) -> None:
    case, _ = await target_case(desk, ctx, rest)
    if not case:
        return
    await desk.show_card(ctx, case)
    recent = (await desk.store.call(timeline.followups, case.id))[-5:]
    if recent:
        doc = Doc()
        lines = []
        for f in recent:
            kind = KIND_NAMES[ctx.lang][f["kind"]]
            line = f"{f['at'][:16].replace('T', ' ')} {kind} ({f['who']}): {f['agreed']}"
            if f.get("next_action") or f.get("due"):
                line += " → " + (f.get("next_action") or t(ctx.lang, "next_default")) + (f" ({f['due']})" if f.get("due") else "")
            lines.append(line)
        doc.bullets(t(ctx.lang, "recent_followups"), lines)
        await ctx.send(Reply(doc, kind="info", case_number=case.number))


_LIST_WORDS = {
    "open": ("open", "observing"), "observing": ("observing",), "archived": ("archived",),
    "all": ("open", "observing", "archived"),
}


async def list_(desk, ctx, rest: str) -> None:
    words = [w.lower() for w in rest.split()]
    statuses = ("open", "observing")
    priorities = [w.upper() for w in words if PRIORITY.fullmatch(w)]
    owner = stale = None
    what = []
    unknown = [w for w in words if w not in _LIST_WORDS and w not in ("mine", "stale") and not PRIORITY.fullmatch(w)]
    if unknown:
        await ctx.send(desk.info(t(ctx.lang, "list_unknown", words=" ".join(unknown))))
        return
    for w in words:
        if w in _LIST_WORDS:
            statuses = _LIST_WORDS[w]
            what.append(t(ctx.lang, f"list_{w}"))
        elif w == "mine":
            owner = ctx.who
            what.append(t(ctx.lang, "list_mine"))
        elif w == "stale":
            stale = desk.iso(ctx.now - timedelta(days=desk.config.stale_days))
            what.append(t(ctx.lang, "list_stale"))
    what = " ".join(what + priorities) or t(ctx.lang, "list_open")
    found = await desk.store.call(cases.listing, statuses=statuses, priorities=priorities or None, owner=owner,
                                  stale_before=stale, limit=51)
    doc = Doc()
    if not found:
        doc.para(t(ctx.lang, "list_empty", what=what))
    else:
        doc.heading(t(ctx.lang, "list_title", what=what, n=len(found) if len(found) <= 50 else "50+"))
        doc.bullets("", [_case_line(c, ctx.lang, desk.today(ctx.now)) for c in found[:50]])
    await ctx.send(Reply(doc, kind="info"))


def _case_line(c: Case, lang: str, today) -> str:
    status = t(lang, f"status_{c.status}")
    line = f"{c.number} · {c.priority} · {status} · {c.customer or '—'} · {c.title or ''}".rstrip(" ·")
    if c.overdue(today):
        line += f" · {t(lang, 'card_overdue')} {c.next_action_due}"
    verdict = verdict_line(c.verdict, lang)
    if verdict:
        line += f" · {verdict}"
    return line


async def followup(desk, ctx, kind: str, verb: str, rest: str) -> None:
    case, text = await target_case(desk, ctx, rest)
    if not case:
        return
    if not text:
        await ctx.send(desk.info(t(ctx.lang, "need_text", verb=verb)))
        return
    due = find_due(text, desk.today(ctx.now))
    agreed, next_action = split_next_action(text, due)
    archived = case.status == "archived"
    observe = kind != "note" and any(w in text.lower() for w in OBSERVE_WORDS)
    await desk.store.call(timeline.add_followup, case.id, kind=kind, who=ctx.who, at=desk.iso(ctx.now),
                          agreed=agreed, next_action=next_action, due=due.when.isoformat() if due else None,
                          platform=ctx.event.platform, observe=observe,
                          origin=f"{ctx.event.platform}:{ctx.event.channel}:{ctx.event.ts}")
    await desk.focus(ctx, case)
    doc = Doc()
    doc.para(t(ctx.lang, "call_logged", kind=KIND_NAMES[ctx.lang][kind], number=case.number))
    if archived:
        # On the record all the same (a customer may call after the
        # archive), but an archived case has no next action.
        doc.para(t(ctx.lang, "followup_archived", number=case.number, when=(case.archived_at or "")[:10]))
    elif due:
        doc.para(t(ctx.lang, "next_due", action=next_action or t(ctx.lang, "next_default"), due=due.when.isoformat()))
    await ctx.send(Reply(doc, kind="info", case_number=case.number))


async def assign(desk, ctx, rest: str) -> None:
    def owner(text: str) -> str | None:
        if not text.strip():
            return None  # "case assign" alone: to whom is the question, not "me"
        name = " ".join(text.strip().lstrip("@").split())
        return ctx.who if name.lower() in ("", "me", "我") else name

    def reachable(value: str) -> dict:
        # Who took the case themselves can be reminded one to one.
        mine = value == ctx.who and ctx.event.platform in ("slack", "wecom")
        return {"owner_ref": f"{ctx.event.platform}:{ctx.event.user}" if mine else None}

    await _set_field(desk, ctx, rest, "owner", "assign", owner, "assigned", invalid="need_owner", more=reachable)


async def title(desk, ctx, rest: str) -> None:
    def words(text: str) -> str | None:
        return " ".join(text.split()) or None

    await _set_field(desk, ctx, rest, "title", "title", words, "title_set", invalid="need_title_text")


async def priority(desk, ctx, rest: str) -> None:
    def level(text: str) -> str | None:
        value = text.strip().upper()
        return value if PRIORITY.fullmatch(value) else None

    await _set_field(desk, ctx, rest, "priority", "priority", level, "priority_set", invalid="bad_priority")


async def _set_field(desk, ctx, rest: str, name: str, action: str, read, done: str, invalid: str | None = None,
                     more=None) -> None:
    """One field of the case from the command's argument (audited)."""
    case, text = await target_case(desk, ctx, rest)
    if not case:
        return
    value = read(text)
    if value is None:
        await ctx.send(desk.info(t(ctx.lang, invalid)))
        return
    changes = {name: value, **(more(value) if more else {})}
    await desk.store.call(cases.update, case, changes, who=ctx.who, at=desk.iso(ctx.now), action=action,
                          platform=ctx.event.platform)
    await ctx.send(desk.info(t(ctx.lang, done, number=case.number, owner=value, priority=value, title=value)))


async def archive(desk, ctx, rest: str) -> None:
    case, reason = await target_case(desk, ctx, rest)
    if not case:
        return
    if case.status == "archived":
        await ctx.send(desk.info(t(ctx.lang, "already_archived", number=case.number, when=(case.archived_at or "")[:10])))
        return
    if not reason.strip():
        await ctx.send(desk.info(t(ctx.lang, "need_reason")))
        return
    followups = await desk.store.call(timeline.followups, case.id)
    summary, mail = closing.written(case, case.verdict_in(ctx.lang), followups, reason, ctx.lang, ctx.who)
    from handlers.mailout import mail_lang, mailer_of, recipients_text

    # A case with a mail thread gets its e-mail in the customer's language
    # (what `case email send` sends is what this reply shows).
    route = await desk.store.call(casemail.route_of, case.id) if mailer_of(desk) is not None else None
    email_lang = mail_lang(case, route) if route is not None else ctx.lang
    if email_lang != ctx.lang:
        mail = closing.written(case, case.verdict_in(email_lang), followups, reason, email_lang, ctx.who)[1]
    at = desk.iso(ctx.now)
    decided = await desk.store.call(
        timeline.add_decision, case.id, kind="archive", reason=reason, summary=summary.text(), email=mail, who=ctx.who,
        at=at, lang=ctx.lang, platform=ctx.event.platform, case_changes={"status": "archived", "archived_at": at, "next_action": None, "next_action_due": None},
        from_statuses=("open", "observing"), email_lang=email_lang)
    if decided is None:  # someone archived it a moment ago
        case = await desk.store.call(cases.get, case.number)
        await ctx.send(desk.info(t(ctx.lang, "already_archived", number=case.number, when=(case.archived_at or "")[:10])))
        return
    from handlers.memory import propose

    proposal = await propose(desk, ctx, case, case.verdict, reason)
    doc = Doc()
    doc.para(t(ctx.lang, "archived", number=case.number))
    if proposal is not None:
        doc.para(t(ctx.lang, "issue_proposed", id=proposal))
    doc.heading(t(ctx.lang, "summary_title", number=case.number))
    doc.code(summary.text())
    doc.heading(t(ctx.lang, "email_title"))
    doc.code(mail)
    reply = Reply(doc, kind="summary", case_number=case.number)
    if route is not None:
        doc.para(t(ctx.lang, "mail_send_hint", number=case.number, to=recipients_text(route.to, route.cc, ctx.lang)))
        reply.actions = [Action("email_send", t(ctx.lang, "btn_email_send"), case.number)]
    await ctx.send(reply)
    await _state_changed(desk, ctx, case.number)


async def email_send(desk, ctx, rest: str) -> None:
    """Send the case's archive e-mail to the customer (handlers.mailout)."""
    from handlers.mailout import send_archive_email

    case, _ = await target_case(desk, ctx, rest)
    if case:
        await send_archive_email(desk, ctx, case)


async def reopen(desk, ctx, rest: str) -> None:
    case, reason = await target_case(desk, ctx, rest)
    if not case:
        return
    if case.status != "archived":
        await ctx.send(desk.info(t(ctx.lang, "not_archived", number=case.number, status=t(ctx.lang, f"status_{case.status}"))))
        return
    decided = await desk.store.call(
        timeline.add_decision, case.id, kind="reopen", reason=reason or None, summary=None, email=None, who=ctx.who,
        at=desk.iso(ctx.now), lang=ctx.lang, platform=ctx.event.platform,
        case_changes={"status": "open", "archived_at": None}, from_statuses=("archived",))
    if decided is None:  # reopened a moment ago
        await ctx.send(desk.info(t(ctx.lang, "not_archived", number=case.number, status=t(ctx.lang, "status_open"))))
        return
    await ctx.send(desk.info(t(ctx.lang, "reopened", number=case.number)))
    await _state_changed(desk, ctx, case.number)


async def _state_changed(desk, ctx, number: str) -> None:
    """The case card again, marked so that adapters can update the thread's
    root message (Slack shows the state at a glance)."""
    case = await desk.store.call(cases.get, number)
    await desk.show_card(ctx, case, state_changed=True)


async def search_(desk, ctx, rest: str) -> None:
    words = rest.strip()
    if not words:
        await ctx.send(desk.info(t(ctx.lang, "no_results", words="")))
        return
    found = await desk.store.call(search, words)
    doc = Doc()
    if not found:
        doc.para(t(ctx.lang, "no_results", words=words))
    else:
        doc.heading(t(ctx.lang, "search_title", words=words))
        doc.bullets("", [_case_line(c, ctx.lang, desk.today(ctx.now)) + f" [{', '.join(hits)}]" for c, hits in found])
    await ctx.send(Reply(doc, kind="info"))


async def digest(desk, ctx, rest: str) -> None:
    from handlers.digest import digest_reply

    bad = [w for w in rest.split() if not PRIORITY.fullmatch(w)]
    if bad:
        await ctx.send(desk.info(t(ctx.lang, "digest_bad", words=" ".join(bad))))
        return
    priorities = tuple(w.upper() for w in rest.split()) or desk.config.digest_priorities
    await ctx.send(await digest_reply(desk, ctx.lang, priorities, ctx.now))


async def lang(desk, ctx, rest: str) -> None:
    value = rest.strip().lower()
    if value not in T:
        await ctx.send(desk.info(t(ctx.lang, "bad_lang")))
        return
    await set_lang(desk, ctx.event.platform, ctx.event.channel, value)
    await ctx.send(desk.info(t(value, "lang_set")))


async def set_lang(desk, platform: str, channel: str, value: str) -> None:
    """The language a channel's replies are worded in, from now on."""
    await desk.store.call(ops.set_setting, f"lang:{platform}:{channel}", value)


async def board(desk, ctx, rest: str) -> None:
    signer = desk.config.board
    if signer is None:
        await ctx.send(desk.info(t(ctx.lang, "board_off")))
        return
    # `case board CAS-...` opens that case only; `case board` the whole
    # board (the desk's access rule already let this person in).
    number, _ = take_case(rest)
    url, hours = await signer.link_for(ctx.who, ctx.event.platform, case=number, lang=ctx.lang)
    reply = desk.info(t(ctx.lang, "board_link", url=url, hours=hours))
    reply.ephemeral = True
    reply.actions = [Action("board", t(ctx.lang, "btn_board"), url)]
    await ctx.send(reply)


async def similar(desk, ctx, rest: str) -> None:
    from handlers.memory import similar_command

    case, _ = await target_case(desk, ctx, rest)
    if case:
        await similar_command(desk, ctx, case)


async def issues(desk, ctx, rest: str) -> None:
    from handlers.memory import issues_command

    await issues_command(desk, ctx, rest)


_VERBS = {
    "help": help_, "帮助": help_, "open": open_, "new": open_, "show": show, "list": list_, "ls": list_,
    "assign": assign, "priority": priority, "prio": priority, "archive": archive, "close": archive,
    "reopen": reopen, "search": search_, "find": search_, "digest": digest, "lang": lang, "board": board,
    "similar": similar, "相似": similar, "issues": issues, "issue": issues, "title": title, "标题": title,
}
