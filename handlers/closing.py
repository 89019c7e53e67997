"""The archive decision's words: the three-part closing summary the team
writes into every archived case (问题定义 / 问题总结 / 问题分析; Definition /
Summary / Analysis), built from the record, and the e-mail that carries it
to the customer."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.render.texts import cjk_space
from handlers.cards import vendor_in
from store.cases import Case

HEADINGS = {
    "zh": ("问题定义", "问题总结", "问题分析"),
    "en": ("Definition", "Summary", "Analysis"),
}


@dataclass(slots=True)
class Closing:
    definition: str
    summary: str
    analysis: str
    lang: str

    def text(self) -> str:
        h = HEADINGS[self.lang]
        colon = ":" if self.lang == "en" else "："
        return f"{h[0]}{colon}\n{self.definition}\n\n{h[1]}{colon}\n{self.summary}\n\n{h[2]}{colon}\n{self.analysis}"


def _join(items: list[str], lang: str) -> str:
    if lang == "zh":
        return " 和 ".join(items) if len(items) == 2 else "、".join(items)
    return " and ".join(items) if len(items) == 2 else ", ".join(items)


# The summary's sentences, per language; build() decides which ones apply.
_PHRASES = {
    "zh": {
        "definition": "{customer} {title}", "os": "（{os}，内部版本 {builds}）", "stop": "。", "trim": "。.",
        "vendor": "从 dump 中分析与{vendor}软件有关", "hardware": "从 dump 中分析指向硬件问题",
        "inbox": "从 dump 中未发现第三方模块，需要继续收集信息", "no_dumps": "未收到可分析的 dump",
        "agreed": "，{text}", "next": "，{text}",
        "analysis": "从上传的 {n} 个 dump 中分析蓝屏的原因（BugCheck {codes}）",
        "analysis_vendor": "，查看 callstack 与{vendor}的相关模块 {modules} 有关，建议升级{what}软件",
        "analysis_hardware": "，BugCheck 由硬件上报，建议进行内存和硬件检测",
        "known_issue": "厂商已知问题：{title} {url}。", "analysis_no_dumps": "本案例未上传 dump。",
        "reason": "\n归档原因：{reason}",
    },
    "en": {
        "definition": "{customer}: {title}", "os": " ({os}, build {builds})", "stop": ".", "trim": ".",
        "vendor": "The dumps point at {what}", "hardware": "The dumps point at a hardware problem",
        "inbox": "The dumps show no third-party module; more data is needed", "no_dumps": "No dump could be analysed",
        "agreed": "; {text}", "next": ", {text}",
        "analysis": "The {n} uploaded dumps show bug check{s} {codes}",
        "analysis_one": "The uploaded dump shows bug check{s} {codes}",
        "analysis_vendor": "; the faulting call stacks run through {vendor}'s modules {modules}. We recommend upgrading {what}",
        "analysis_hardware": "; the bug check is reported by the hardware. We recommend memory and hardware diagnostics",
        "known_issue": " Vendor known issue: {title} {url}.", "analysis_no_dumps": "No dump was uploaded for this case.",
        "reason": "\nReason for archiving: {reason}",
    },
}


def build(case: Case, verdict: dict | None, followups: list[dict], reason: str | None, lang: str) -> Closing:
    lang = "zh" if lang == "zh" else "en"
    say = _PHRASES[lang]
    v = verdict or {}
    cv = v.get("case", {})
    dumps = v.get("dumps", [])
    vendor = vendor_in(cv, lang)
    product = cv.get("product")
    modules = cv.get("modules") or []
    codes = cv.get("bugchecks") or []
    names = {d["bugcheck"]["code"]: d["bugcheck"].get("name") for d in dumps if d.get("bugcheck")}
    code_words = [f"{c} {names[c]}" if names.get(c) else c for c in codes]
    builds = cv.get("os_builds") or []
    os_word = next((d["os"].get("product") for d in dumps if d.get("os", {}).get("product")), None)
    agreed = [f for f in followups if f["kind"] in ("phone", "email", "visit") and f.get("agreed")]
    last = agreed[-1] if agreed else None
    what = f"{vendor} {product}" if vendor and product else vendor
    hardware = cv.get("pattern") == "hardware"

    title = case.title or case.number
    definition = say["definition"].format(customer=case.customer, title=title) if case.customer else title
    if os_word and builds:
        definition += say["os"].format(os=os_word, builds=", ".join(map(str, builds)))
    definition += say["stop"]

    basis = "vendor" if vendor else "hardware" if hardware else "inbox" if dumps else "no_dumps"
    summary = say[basis].format(vendor=vendor, what=what)
    if last:
        summary += say["agreed"].format(text=last["agreed"].rstrip(say["trim"]))
        if last.get("next_action"):
            summary += say["next"].format(text=last["next_action"].rstrip(say["trim"]))
    summary += say["stop"]

    if dumps:
        one = len(dumps) == 1 and "analysis_one" in say
        analysis = say["analysis_one" if one else "analysis"].format(
            n=len(dumps), s="s" if len(codes) > 1 else "", codes=_join(code_words, lang))
        if vendor and modules:
            analysis += say["analysis_vendor"].format(vendor=vendor, modules=_join(modules, lang), what=what)
        elif hardware:
            analysis += say["analysis_hardware"]
        analysis += say["stop"]
        for ki in cv.get("known_issues") or []:
            title_ki = (ki.get("title_zh") if lang == "zh" else None) or ki["title"]
            analysis += say["known_issue"].format(title=title_ki, url=ki["url"])
    else:
        analysis = say["analysis_no_dumps"]
    if reason:
        analysis += say["reason"].format(reason=reason)
    if lang == "zh":
        definition, summary, analysis = cjk_space(definition), cjk_space(summary), cjk_space(analysis)
    return Closing(definition, summary, analysis, lang)


def email(case: Case, closing: Closing, engineer: str | None, by_phone: bool) -> str:
    """The message the engineer sends the customer with the summary."""
    who = case.contact
    if closing.lang == "zh":
        greeting = f"{who} 您好:" if who else "您好:"
        opening = ("根据刚才的电话沟通，我们将暂时归档此案例。" if by_phone
                   else "根据我们的沟通，我们将暂时归档此案例。")
        body = [
            greeting, "", opening, "",
            "案例归档后我们仍会继续为您提供技术支持，如有任何问题，欢迎随时与我们联系。", "",
            f"案例号：{case.number}", "",
            "案例总结:", "", closing.text(), "",
            "以上，如您后续有任何问题，可随时与我们联系，谢谢。", "",
        ]
    else:
        greeting = f"Dear {who}," if who else "Hello,"
        opening = ("As agreed on the phone, we will archive this case for now." if by_phone
                   else "As agreed, we will archive this case for now.")
        body = [
            greeting, "", opening, "",
            "Archiving does not end our support: if anything comes up, reply to this e-mail and we will pick it up again.",
            "", f"Case number: {case.number}", "", "Case summary", "", closing.text(), "",
            "Best regards,",
        ]
    if engineer:
        body.append(engineer)
    return "\n".join(body).rstrip() + "\n"


def written(case: Case, verdict: dict | None, followups: list[dict], reason: str | None, lang: str,
            engineer: str | None) -> tuple[Closing, str]:
    """The summary and the customer e-mail of an archive decision, from the
    follow-ups up to it (the last call or visit says how it was agreed)."""
    summary = build(case, verdict, followups, reason, lang)
    last = next((f for f in reversed(followups) if f["kind"] != "note"), None)
    return summary, email(case, summary, engineer, by_phone=bool(last and last["kind"] == "phone"))
