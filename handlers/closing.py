"""The archive decision's words: the three-part closing summary the team
writes into every archived case (问题定义 / 问题总结 / 问题分析; Definition /
Summary / Analysis), built from the record, and the e-mail that carries it
to the customer."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.render.texts import cjk_space
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


def _vendor(case_v: dict, lang: str) -> str | None:
    if lang == "zh" and case_v.get("vendor_zh"):
        return case_v["vendor_zh"]
    return case_v.get("vendor")


def _join(items: list[str], lang: str) -> str:
    if lang == "zh":
        return " 和 ".join(items) if len(items) == 2 else "、".join(items)
    return " and ".join(items) if len(items) == 2 else ", ".join(items)


def build(case: Case, verdict: dict | None, followups: list[dict], reason: str | None, lang: str) -> Closing:
    lang = "zh" if lang == "zh" else "en"
    v = verdict or {}
    cv = v.get("case", {})
    dumps = v.get("dumps", [])
    vendor = _vendor(cv, lang)
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

    title = case.title or case.number
    if lang == "zh":
        definition = f"{case.customer + ' ' if case.customer else ''}{title}".strip()
        if os_word and builds:
            definition += f"（{os_word}，内部版本 {', '.join(map(str, builds))}）"
        definition += "。"
        if vendor:
            summary = f"从 dump 中分析与{vendor}软件有关"
        elif cv.get("pattern") == "hardware":
            summary = "从 dump 中分析指向硬件问题"
        elif dumps:
            summary = "从 dump 中未发现第三方模块，需要继续收集信息"
        else:
            summary = "未收到可分析的 dump"
        if last:
            summary += f"，{last['agreed'].rstrip('。.')}"
            if last.get("next_action"):
                summary += f"，{last['next_action'].rstrip('。.')}"
        summary += "。"
        if dumps:
            analysis = f"从上传的 {len(dumps)} 个 dump 中分析蓝屏的原因（BugCheck {_join(code_words, lang)}）"
            if vendor and modules:
                analysis += f"，查看 callstack 与{vendor}的相关模块 {_join(modules, lang)} 有关，建议升级{what}软件"
            elif cv.get("pattern") == "hardware":
                analysis += "，BugCheck 由硬件上报，建议进行内存和硬件检测"
            analysis += "。"
            for ki in cv.get("known_issues") or []:
                analysis += f"厂商已知问题：{ki.get('title_zh') or ki['title']} {ki['url']}。"
        else:
            analysis = "本案例未上传 dump。"
        if reason:
            analysis += f"\n归档原因：{reason}"
    else:
        definition = f"{case.customer + ': ' if case.customer else ''}{title}"
        if os_word and builds:
            definition += f" ({os_word}, build {', '.join(map(str, builds))})"
        definition += "."
        if vendor:
            summary = f"The dumps point at {what}"
        elif cv.get("pattern") == "hardware":
            summary = "The dumps point at a hardware problem"
        elif dumps:
            summary = "The dumps show no third-party module; more data is needed"
        else:
            summary = "No dump could be analysed"
        if last:
            summary += f"; {last['agreed'].rstrip('.')}"
            if last.get("next_action"):
                summary += f", {last['next_action'].rstrip('.')}"
        summary += "."
        if dumps:
            analysis = f"The {len(dumps)} uploaded dump(s) show bug check {_join(code_words, lang)}"
            if vendor and modules:
                analysis += (f"; the faulting call stacks run through {vendor}'s modules {_join(modules, lang)}. "
                             f"We recommend upgrading {what}")
            elif cv.get("pattern") == "hardware":
                analysis += "; the bug check is reported by the hardware. We recommend memory and hardware diagnostics"
            analysis += "."
            for ki in cv.get("known_issues") or []:
                analysis += f" Vendor known issue: {ki['title']} {ki['url']}."
        else:
            analysis = "No dump was uploaded for this case."
        if reason:
            analysis += f"\nReason for archiving: {reason}"
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
