"""The case card: a case at a glance, the same on every platform."""

from __future__ import annotations

from datetime import date, datetime

from analysis.render.doc import Doc
from handlers.events import Action, Reply
from analysis.render.texts import join
from handlers.texts import counted, t
from store.cases import Case


def verdict_line(verdict: dict | None, lang: str) -> str | None:
    """'0x1A, 0x139 → AsiaInfo Security (VSApiNt, TmXPFlt) · high' from a
    stored case verdict."""
    if not verdict:
        return None
    case = verdict.get("case", {})
    codes = join(case.get("bugchecks") or [], lang) or "?"
    vendor = vendor_in(case, lang)
    conf_word = t(lang, f"vl_conf_{case.get('confidence') or 'low'}")
    what = _counts(verdict.get("dumps", []), lang)
    colon = "：" if lang == "zh" else ": "
    if vendor:
        mods = join(case.get("modules") or [], lang)
        return f"{what}{colon}{codes} → {vendor}" + ((f"（{mods}）" if lang == "zh" else f" ({mods})") if mods else "") \
            + f" · {conf_word}"
    if case.get("pattern") == "hardware":
        return f"{what}{colon}{codes} → {t(lang, 'vl_hardware')}"
    key = "vl_logged_only" if case.get("pattern") == "logged" else "vl_no_third_party"
    return f"{what}{colon}{codes} → {t(lang, key)} · {conf_word}"


def _counts(dumps: list[dict], lang: str) -> str:
    """'2 dumps', '6 blue screens in event logs', '1 dump, 1 application crash'."""
    from analysis.render.texts import t as say

    kinds = [d.get("kind") for d in dumps]
    logged = kinds.count("event-log")
    apps = kinds.count("app-minidump")
    rest = len(kinds) - logged - apps
    parts = [say(lang, key, n=n) for key, n in (("s_dumps", rest), ("s_logged", logged), ("s_apps", apps)) if n]
    return join(parts, lang) or say(lang, "s_dumps", n=0)


def vendor_in(case_verdict: dict, lang: str) -> str | None:
    """The case verdict's vendor, by its Chinese name in Chinese when it has one."""
    if lang == "zh" and case_verdict.get("vendor_zh"):
        return case_verdict["vendor_zh"]
    return case_verdict.get("vendor")


def _day(iso: str | None) -> str | None:
    return iso[:10] if iso else None


def age_days(opened_at: str, today: date) -> int:
    return max(0, (today - datetime.fromisoformat(opened_at).date()).days)


def card(case: Case, lang: str, today: date, *, dumps: int = 0, actions: bool = True, seen: str | None = None,
         decision: dict | None = None) -> Reply:
    """``decision``: the case's last archive or reopen, said with its reason."""
    doc = Doc()
    status = t(lang, f"status_{case.status}")
    doc.heading(f"{case.number} · {case.priority} · {status}")
    doc.para(case.title)
    doc.field(t(lang, "card_customer"), case.customer)
    doc.field(t(lang, "card_contact"), case.contact)
    days = age_days(case.opened_at, today)
    age = t(lang, "card_age_today") if days == 0 else t(lang, "card_age", days=days)
    doc.field(t(lang, "card_opened"), f"{_day(case.opened_at)} ({age})")
    doc.field(t(lang, "card_owner"), case.owner)
    doc.field(t(lang, "card_first_response"), _day(case.first_response_at))
    doc.field(t(lang, "card_last_contact"), _day(case.last_contact_at))
    if case.status != "archived" and (case.next_action or case.next_action_due):
        overdue = case.overdue(today)
        action = case.next_action or t(lang, "next_default")
        text = " ".join(x for x in (action, f"({case.next_action_due})" if case.next_action_due else None) if x)
        doc.field(t(lang, "card_next"), text + (f" — {t(lang, 'card_overdue')}" if overdue else ""))
    if decision is not None and decision.get("kind") in ("archive", "reopen") \
            and (decision["kind"] == "archive") == (case.status == "archived"):
        said = _day(decision.get("at")) or ""
        if decision.get("reason"):
            said += ("，" if lang == "zh" else " — ") + decision["reason"]
        doc.field(t(lang, "card_archived" if decision["kind"] == "archive" else "card_reopened"), said)
    doc.field(t(lang, "card_verdict"), verdict_line(case.verdict, lang))
    doc.field(t(lang, "card_seen"), seen)
    if dumps:
        doc.field(t(lang, "card_dumps"), counted(lang, "card_file", dumps))
    reply = Reply(doc, kind="card", case_number=case.number, binds_case=case.number)
    if actions and case.status == "archived":
        # An archived case takes no call and no owner (handlers.commands says
        # so to whoever tries): what it offers is to be worked on again.
        reply.actions = [Action("reopen", t(lang, "btn_reopen"), case.number)]
    elif actions:
        reply.actions = [Action("call", t(lang, "btn_call"), case.number),
                         Action("archive", t(lang, "btn_archive"), case.number),
                         Action("assign_me", t(lang, "btn_assign_me"), case.number)]
    return reply
