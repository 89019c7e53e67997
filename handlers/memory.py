"""Memory across cases on the desk (issue 11): "seen in 4 other cases of 3
customers, last on 2021-09-01; 2 archived: upgrade OfficeScan" on the card
and under a verdict, `case similar`, and the known issues proposed when a
case is archived, which a support lead confirms with `case issue confirm`."""

from __future__ import annotations

from analysis.render.doc import Doc
from handlers.events import Reply
from handlers.texts import t
from store import memory
from store.cases import Case
from store.memory import Similar

SHOWN = 5  # other cases named in a line; `case similar` lists more
REASON_CHARS = 120


def seen_line(similar: Similar, lang: str) -> str | None:
    """One line for the card and the verdict, or None when nothing matches."""
    same = similar.same_bug
    if not same:
        if similar.same_module:
            return t(lang, "seen_module", n=len(similar.same_module),
                     numbers=_numbers(similar.same_module, lang))
        return None
    line = t(lang, "seen_bug", n=len(same), customers=similar.customers, last=same[0].last,
             numbers=_numbers(same, lang))
    archived = similar.archived
    if archived:
        reason = next((s.archived_reason for s in archived if s.archived_reason), None)
        key = "seen_archived_reason" if reason else "seen_archived"
        line += t(lang, key, n=len(archived), reason=_cut(reason or ""), number=archived[0].number)
    return line


def _numbers(seen, lang: str) -> str:
    names = [s.number for s in seen[:SHOWN]]
    more = len(seen) - len(names)
    text = ("、" if lang == "zh" else ", ").join(names)
    return text + (t(lang, "seen_more", n=more) if more > 0 else "")


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 1] + "…"


async def similar_of(desk, case: Case) -> Similar:
    return await desk.store.call(memory.similar, case.id)


async def similar_command(desk, ctx, case: Case) -> None:
    """`case similar [case]`: every case where the same bug or module was seen."""
    found = await similar_of(desk, case)
    doc = Doc()
    doc.heading(t(ctx.lang, "similar_title", number=case.number))
    if not found.same_bug and not found.same_module:
        doc.para(t(ctx.lang, "similar_none"))
    for label, group in (("similar_same_bug", found.same_bug), ("similar_same_module", found.same_module)):
        lines = []
        for s in group:
            status = t(ctx.lang, f"status_{s.status}")
            line = f"{s.number} · {s.customer or '—'} · {status} · {s.last}"
            if s.buckets:
                line += " · " + ", ".join(s.buckets[:3])
            if s.archived_reason:
                line += " · " + _cut(s.archived_reason)
            lines.append(line)
        doc.bullets(t(ctx.lang, label), lines)
    await ctx.send(Reply(doc, kind="info", case_number=case.number))


def proposal_rule(case: Case, verdict: dict | None, reason: str) -> dict | None:
    """A known issue made of an archived case whose verdict names a vendor:
    that vendor's modules, the Windows builds and bug checks of the crashes
    that show it, and the reason it was archived as the advice."""
    cv = (verdict or {}).get("case") or {}
    vendor = cv.get("vendor")
    if not vendor or not cv.get("modules"):
        return None
    shown = set(cv.get("vendor_dumps") or [])
    dumps = [d for d in (verdict or {}).get("dumps", []) if not shown or d.get("source") in shown]
    builds = sorted({d["os_build"] for d in dumps if d.get("os_build")})
    codes = sorted({d["bugcheck"]["code"] for d in dumps if d.get("bugcheck")})
    reason = " ".join(reason.split())[:500]
    title = f"{vendor}: {reason}"[:200]
    return {
        "id": f"desk-{case.number}", "title": title, "title_zh": f"{cv.get('vendor_zh') or vendor}：{reason}"[:200],
        "url": case.number, "vendors": [vendor], "modules": list(cv["modules"])[:20], "os_builds": builds,
        "bugchecks": codes, "advice_en": reason, "advice_zh": reason,
        "sources": [f"crashdesk case {case.number}"],
    }


async def propose(desk, ctx, case: Case, verdict: dict | None, reason: str) -> int | None:
    rule = proposal_rule(case, verdict, reason)
    if rule is None:
        return None
    return await desk.store.call(memory.propose_issue, case.id, rule, who=ctx.who, at=desk.iso(ctx.now),
                                 platform=ctx.event.platform)


def is_lead(desk, ctx) -> bool:
    """Who may confirm a proposed known issue: the people CRASHDESK_LEADS
    names (ids or names); with none named, anyone on the desk."""
    leads = desk.config.leads
    if not leads:
        return True
    return bool({ctx.event.user, ctx.event.user_name or ""} & set(leads))


async def issues_command(desk, ctx, rest: str) -> None:
    """`case issues` lists the proposals; `case issue confirm|reject <id>` decides one."""
    words = rest.split()
    if len(words) >= 2 and words[0].lower() in ("confirm", "reject", "确认", "拒绝") and words[1].lstrip("#").isdigit():
        if not is_lead(desk, ctx):
            await ctx.send(desk.info(t(ctx.lang, "issue_not_lead")))
            return
        status = "confirmed" if words[0].lower() in ("confirm", "确认") else "rejected"
        row = await desk.store.call(memory.decide_issue, int(words[1].lstrip("#")), status, who=ctx.who,
                                    at=desk.iso(ctx.now), platform=ctx.event.platform)
        if row is None:
            await ctx.send(desk.info(t(ctx.lang, "issue_none", id=words[1].lstrip("#"))))
            return
        await ctx.send(desk.info(t(ctx.lang, f"issue_{status}", id=row["id"], title=row["rule"]["title"])))
        return
    if words and words[0].lower() not in ("list", "列表"):
        await ctx.send(desk.info(t(ctx.lang, "issue_usage")))
        return
    rows = await desk.store.call(memory.proposals)
    doc = Doc()
    doc.heading(t(ctx.lang, "issues_title", n=len(rows)))
    if not rows:
        doc.para(t(ctx.lang, "issues_none"))
    doc.bullets("", [f"#{r['id']} · {r['number']} · {r['rule']['title']}" for r in rows[:50]])
    if rows:
        doc.para(t(ctx.lang, "issue_usage"))
    await ctx.send(Reply(doc, kind="info"))
