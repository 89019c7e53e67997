"""CaseReport -> Doc, in English or Chinese."""

from __future__ import annotations

import re

from analysis import catalog, ntstatus
from analysis.model import CaseReport, Culprit, DumpReport, Kind, KnownIssue, VersionCheck, hex_code
from analysis.render.doc import Doc
from analysis.render.eventlog import machine_doc
from analysis.render.limits import bound_doc
from analysis.render.machines import app_words, case_summary, machine_line, release_words
from analysis.render.texts import join, t

MAX_STACK_LINES = 12


def code_label(code: int | None, lang: str) -> str:
    if code is None:
        return t(lang, "unknown")
    info = catalog.bugcheck(code)
    if not info:
        return hex_code(code)
    if lang == "zh" and info.zh:
        # A name that has its own brackets ("（_M 变体）") is not bracketed twice.
        zh = info.zh.replace("（", "，").replace("）", "")
        return f"{hex_code(code)} {info.name}（{zh}）"
    return f"{hex_code(code)} {info.name}"


def param_meanings(d: DumpReport, lang: str) -> list[str | None]:
    """What each argument means for this very crash: the subtype's own
    reading of the other parameters when argument 1 picks one."""
    if not d.bugcheck:
        return []
    info = catalog.bugcheck(d.bugcheck.code)
    if not info:
        return [None] * len(d.bugcheck.args)
    sub_en, sub_zh = info.subtype(d.bugcheck.args)
    hints = subtype_hints(sub_zh if lang == "zh" and sub_zh else sub_en)
    out: list[str | None] = []
    for i, value in enumerate(d.bugcheck.args):
        meaning = None
        if lang == "zh" and i < len(info.params_zh):
            meaning = info.params_zh[i]
        elif i < len(info.params):
            meaning = info.params[i]
        if info.subtype_param == i + 1 and (sub_en or sub_zh):
            # The bracketed hints go to the other arguments' lines.
            meaning = _without_hints((sub_zh if lang == "zh" and sub_zh else sub_en) or meaning)
        elif i + 1 in hints:
            meaning = hints[i + 1]
        if i == 0 and value is not None and info.exception_codes:
            exc = info.exception_codes.get(hex_code(value))
            if exc:
                if lang == "zh":
                    exc = exc.split(" ", 1)[0]  # the status name; its gloss is English
                meaning = f"{meaning}: {exc}" if meaning else exc
        out.append(meaning)
    return out


def arg_lines(d: DumpReport, lang: str) -> list[str]:
    if not d.bugcheck:
        return []
    meanings = param_meanings(d, lang)
    lines = []
    for i in range(max([len(d.bugcheck.args), *d.bugcheck.unusable])):
        value = d.bugcheck.args[i] if i < len(d.bugcheck.args) else None
        if value is None:
            written = d.bugcheck.unusable.get(i + 1)
            if written:
                digits = sum(ch in "0123456789abcdefABCDEF" for ch in written)
                lines.append(t(lang, "arg_not_used", n=i + 1, text=written, digits=digits))
            continue
        meaning = meanings[i] if i < len(meanings) else None
        text = f"Arg{i + 1} {hex_code(value)}"
        if meaning and (value or not _RESERVED.search(meaning)):
            text += f" — {meaning}"
        lines.append(text)
    return lines


_RESERVED = re.compile(r"reserved|保留", re.I)


def _without_hints(text: str | None) -> str | None:
    if not text:
        return text
    cut = [i for i in (text.find(" [p"), text.find(" [参数"), text.find("[参数")) if i >= 0]
    return text[: min(cut)].rstrip() if cut else text


def subtype_hints(text: str | None) -> dict[int, str]:
    """'corrupted PTE [p2=PTE address; p3=PTE low part]' -> {2: 'PTE address', 3: 'PTE low part'}.

    The hint block may hold nested tags ('[p2=caller [code addr]]'), so it
    is cut out by bracket depth rather than by the last '['."""
    if not text:
        return {}
    starts = [i for i in range(len(text)) if text.startswith("[p", i) or text.startswith("[参数", i)]
    if not starts:
        return {}
    begin, depth, end = starts[-1], 0, len(text)
    for i in range(begin, len(text)):
        if text[i] == "[":
            depth += 1
        elif text[i] == "]":
            depth -= 1
            if depth == 0:
                end = i
                break
    hints, depth, part = {}, 0, ""
    for ch in text[begin + 1 : end] + ";":
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == ";" and depth == 0:
            key, _, value = part.strip().partition("=")
            key = key.strip()
            value = value.replace("[code addr]", "").replace("[driver/image]", "").strip()
            if key[-1:].isdigit() and value:
                hints[int(key[-1])] = value
            part = ""
        else:
            part += ch
    return hints


def os_line(d: DumpReport, lang: str) -> str | None:
    o = d.os
    if not o.build:
        return None
    extra = [x for x in (release_words(o.release, lang), o.codename) if x]
    head = o.product or "Windows"
    if extra:
        head += f"（{'，'.join(extra)}）" if lang == "zh" else f" ({', '.join(extra)})"
    parts = [head, f"build {o.build}" if lang == "en" else f"内部版本 {o.build}"]
    if o.arch:
        parts.append(o.arch)
    return " ".join(parts)


def culprit_line(c: Culprit | None, lang: str) -> str:
    if c is None or (c.module is None and c.basis != "hardware"):
        return t(lang, "no_culprit")
    if c.module is None:
        return t(lang, "basis_hardware")
    name = c.module
    if c.image and c.image.lower() != c.module.lower():
        name += f" ({c.image})"
    who = []
    vendor = c.vendor_zh if lang == "zh" and c.vendor_zh else c.vendor
    if vendor:
        who.append(vendor + (f" {c.product}" if c.product else ""))
    who.append(t(lang, "third_party_yes") if c.third_party else t(lang, "third_party_no") if c.third_party is False else "")
    if c.built:
        who.append(t(lang, "built", date=c.built))
    who = [w for w in who if w]
    line = name + (" — " + ("，" if lang == "zh" else ", ").join(who) if who else "")
    basis = t(lang, f"basis_{c.basis}")
    conf = t(lang, "conf_" + c.confidence)
    if lang == "zh":
        return f"{line}；依据：{basis}；可信度：{conf}"
    return f"{line}; {basis}; confidence: {conf}"


# Evidence is written in English where it is found; these put its sentence
# parts in Chinese (the names, addresses and offsets stay as they are).
_ZH_EVIDENCE = [(re.compile(a), b) for a, b in (
    (r"^WinDbg: ", "WinDbg 结论："),
    (r"^Driver at fault: ", "内核记录的出错驱动："),
    (r"^Caused by driver: ", "分析工具指出的驱动："),
    (r"^faulting instruction in ", "出错指令位于 "),
    (r"^faulting instruction ", "出错指令 "),
    (r"^fault in ", "出错位置 "),
    (r"^WinDbg blamed ", "WinDbg 指向 "),
    (r"^WinDbg loaded (\S++) while analysing this crash$", r"WinDbg 分析此蓝屏时加载了 \1"),
    (r"^(\S++) points at hardware$", r"\1 指向硬件问题"),
    (r"^no third-party module on the stack$", "callstack 中没有第三方模块"),
    (r"^no third-party driver on the faulting stack$", "出错线程栈上没有第三方驱动"),
    (r"^frame ([0-9a-f]++): ", r"第 \1 帧："),
    (r"^(\S++) on another stack of this dump$", r"\1 出现在此 dump 的另一个 callstack 中"),
    (r"^parameter (\d++) = ", r"参数\1 = "),
    (r"^context (\w++) = ", r"上下文 \1 = "),
    (r"^stack: ", "栈上："),
    (r"^third-party drivers loaded but not implicated: ", "已加载但未涉及的第三方驱动："),
    (r"^exception address ", "异常地址 "),
    (r"^the kernel recorded (\S++) as the broken driver$", r"内核记录的出错驱动：\1"),
    (r"^nearest stack value into it: ", "栈上指向该模块的最近地址："),
    (r" \(the target address, not the code at fault\)$", "（目标地址，并非出错代码）"),
    (r" \(an unloaded driver\)$", "（已卸载的驱动）"),
    (r" \(in no listed module\)$", "（不在任何已加载模块中）"),
    (r"^exception address (\S++) lies in no listed module$", r"异常地址 \1 不在任何已加载模块中"),
)]


def _in_zh(text: str) -> str:
    for pattern, replacement in _ZH_EVIDENCE:
        text = pattern.sub(replacement, text)
    return text


def evidence_lines(c: Culprit | None, lang: str) -> list[str]:
    if not c:
        return []
    lines = [e.text for e in c.evidence if e.kind not in ("windbg_overruled", "framework")]
    if c.windbg_blamed and c.basis == "stack":
        lines.insert(0, t(lang, "overruled", windbg=c.windbg_blamed, module=c.module))
    lines = [_in_zh(line) for line in lines] if lang == "zh" else lines
    lead = framework_line(c, lang)
    if lead:
        lines.append(lead)
    vendor = vendor_basis_line(c, lang)
    if vendor:
        lines.append(vendor)
    return lines


def framework_line(c: Culprit, lang: str) -> str | None:
    """'NETIO calls WFP callout drivers ...: tmwfp, tmlwf' in the reply's language."""
    fw = catalog.framework(c.framework) if c.framework else None
    if fw is None:
        return None
    calls = fw.calls_zh if lang == "zh" else fw.calls_en
    if c.candidates:
        return t(lang, "framework_candidates", module=c.module, calls=calls, candidates=join(c.candidates, lang))
    return t(lang, "framework_none", module=c.module, calls=calls)


def vendor_basis_line(c: Culprit, lang: str) -> str | None:
    """Where the vendor came from, in the reply's language."""
    where, source = c.vendor_where, c.vendor_source
    if not where or not source:
        return None
    if source == "install":
        if lang == "zh":
            other = c.catalog_vendor_zh or c.catalog_vendor
            return f"lmvm：{where}" + (f"（驱动目录中记为{other}）" if other else "")
        return f"lmvm: {where}" + (f" (the catalog lists {c.catalog_vendor})" if c.catalog_vendor else "")
    if source == "company":
        return f"lmvm 中的公司名：{where}" if lang == "zh" else f"lmvm CompanyName: {where}"
    if lang == "zh":
        return f"驱动目录：{where}"
    return f"catalog: {where}" + (f" — {c.description}" if c.description else "")


def dump_doc(d: DumpReport, i: int, lang: str) -> Doc:
    doc = Doc()
    if d.kind == Kind.EVENT_LOG:
        return logged_doc(d, i, lang)
    doc.heading(t(lang, "dump_title", i=i, source=d.source))
    if d.kind == Kind.APP_MINIDUMP:
        exc = ntstatus.exception(d.exception_code)
        doc.para(app_words(d, lang))
        doc.field(t(lang, "app_process"), d.process)
        if d.exception_code is not None:
            doc.field(t(lang, "exception_code"), hex_code(d.exception_code) + (f" {exc.name}" if exc else ""))
        if exc:
            doc.field(t(lang, "exception_meaning"), exc.meaning(lang))
        doc.field(t(lang, "faulting_module"), culprit_line(d.culprit, lang))
        doc.bullets(t(lang, "evidence"), evidence_lines(d.culprit, lang))
        doc.field(t(lang, "os"), os_line(d, lang))
        doc.field(t(lang, "crash_time"), d.crash_time)
        if exc and exc.breakpoint:
            doc.para(t(lang, "breakpoint_note", code=f"{hex_code(d.exception_code)} {exc.name}"))
        else:
            doc.para(t(lang, "app_advice"))
        return doc
    info = catalog.bugcheck(d.bugcheck.code) if d.bugcheck else None
    doc.field(t(lang, "bugcheck"), code_label(d.bugcheck.code if d.bugcheck else None, lang))
    doc.bullets(t(lang, "args"), arg_lines(d, lang))
    if info:
        doc.field(t(lang, "meaning"), info.summary_zh if lang == "zh" else info.summary_en)
    doc.field(t(lang, "culprit"), culprit_line(d.culprit, lang))
    doc.bullets(t(lang, "evidence"), evidence_lines(d.culprit, lang))
    if d.third_party_modules:
        doc.field(t(lang, "third_party_on_stack"), ", ".join(d.third_party_modules))
    doc.field(t(lang, "process"), d.process)
    if d.exception_code is not None:
        doc.field(t(lang, "exception"), hex_code(d.exception_code) + (f" {d.fast_fail}" if d.fast_fail else ""))
    doc.field(t(lang, "os"), os_line(d, lang))
    doc.field(t(lang, "bucket"), d.failure_bucket)
    doc.field(t(lang, "crash_time"), d.crash_time)
    doc.field(t(lang, "uptime"), uptime_words(d.uptime, lang))
    if d.stack:
        label = t(lang, "stack") if d.kind == "windbg-text" else t(lang, "stack_scan")
        doc.bullets(label, [f.label() for f in d.stack[:MAX_STACK_LINES]])
    if info and d.culprit and d.culprit.third_party is not True:
        doc.field(t(lang, "usual_cause"), info.likely_zh if lang == "zh" else info.likely_en)
    for note in d.notes:
        # "stop_code_corrected:<as typed>:<real name>" (analysis.reports.common)
        if note.startswith("stop_code_corrected:"):
            typed, _, name = note.removeprefix("stop_code_corrected:").rpartition(":")
            doc.para(t(lang, "stop_code_corrected", typed=typed, name=name))
    if d.partial:
        doc.para(t(lang, "partial"))
    # "crashes_left:<how many>:<line>" says which crashes "crashes_cut" left out.
    # "time_limit_at:<line>:<share read>" says where "time_limit" stopped.
    left = _note_parts(d.notes, "crashes_left:")
    stopped = _note_parts(d.notes, "time_limit_at:")
    for note in d.notes:
        if note == "crashes_cut" and left:
            doc.para(t(lang, "note_crashes_left", count=_number(left[0], lang), line=_number(left[1], lang)))
        elif note == "time_limit" and stopped:
            doc.para(t(lang, "note_time_limit_at", line=_number(stopped[0], lang), share=stopped[1]))
        elif note in _NOTE_LINES:
            doc.para(t(lang, _NOTE_LINES[note]))
    return doc


def _note_parts(notes: list[str], head: str) -> list[str] | None:
    return next((note[len(head):].split(":") for note in notes if note.startswith(head)), None)


def _number(text: str, lang: str) -> str:
    """A count or a line number as each language writes it (12,345 / 12345)."""
    return text if lang == "zh" else f"{int(text):,}"


# Notes of a report that change what the verdict covers, said in its words.
_NOTE_LINES = {
    "crashes_cut": "note_crashes_cut",
    "time_limit": "note_time_limit",
}


_UPTIME_DAYS = re.compile(r"(\d{1,6}) days? ")


def uptime_words(uptime: str | None, lang: str) -> str | None:
    """WinDbg's '0 days 00:00:03.7' as the language says it ('0 天 00:00:03.7')."""
    if not uptime or lang != "zh":
        return uptime
    return _UPTIME_DAYS.sub(lambda m: f"{m[1]} 天 ", uptime, count=1)


def logged_doc(d: DumpReport, i: int, lang: str) -> Doc:
    """A blue screen an event log recorded: code, parameters, when, where the
    dump went -- and no culprit, for the log names none."""
    doc = Doc()
    doc.heading(t(lang, "logged_title", i=i, source=d.source))
    info = catalog.bugcheck(d.bugcheck.code) if d.bugcheck else None
    doc.field(t(lang, "bugcheck"), code_label(d.bugcheck.code if d.bugcheck else None, lang))
    doc.bullets(t(lang, "args"), arg_lines(d, lang))
    if info:
        doc.field(t(lang, "meaning"), info.summary_zh if lang == "zh" else info.summary_en)
    doc.field(t(lang, "computer"), d.computer)
    doc.field(t(lang, "os"), os_line(d, lang))
    doc.field(t(lang, "crash_time"), d.crash_time)
    doc.field(t(lang, "dump_path"), d.dump_file)
    doc.field(t(lang, "report_id"), d.report_id)
    doc.para(t(lang, "logged_note", path=d.dump_file) if d.dump_file else t(lang, "logged_note_nopath"))
    return doc


def _codes(codes: list[int], lang: str) -> str:
    return join([hex_code(c) or "" for c in codes], lang)


def reason_lines(case: CaseReport, lang: str) -> list[str]:
    lines = []
    for r in case.reasons:
        p = dict(r.params)
        if "codes" in p:
            p["codes"] = _codes(p["codes"], lang)
        if "vendors" in p:
            p["vendors"] = join(p["vendors"], lang)
        if lang == "zh" and p.get("vendor_zh"):
            p["vendor"] = p["vendor_zh"]
        if "basis" in p and r.code == "single_dump_vendor":
            p["basis"] = t(lang, f"basis_{p['basis']}")
        key = "r_" + r.code
        if r.code == "same_vendor_all_dumps" and p.get("distinct") == 1:
            key += "_same"
        if r.code == "vendor_some_dumps" and p.get("total", 0) - p.get("n", 0) == 1:
            key += "_other"
        if r.code == "installed_before":
            p["drivers"] = join([n + (f"（{vz or v}）" if lang == "zh" and (vz or v) else f" ({v})" if v else "")
                                 for n, v, vz in p["drivers"]], lang)
        if r.code == "vendor_from_lmvm" and p.get("catalog"):
            key += "_catalog"
            if lang == "zh" and p.get("catalog_zh"):
                p["catalog"] = p["catalog_zh"]
        lines.append(t(lang, key, **p))
    return lines


def case_doc(case: CaseReport, lang: str = "en", with_dumps: bool = True, only: set[str] | None = None) -> Doc:
    """The verdict of a case; ``only`` limits the per-dump detail to dumps
    from these sources (the files just uploaded), the case part always
    covers every dump."""
    doc = Doc()
    vendor = (case.vendor_zh if lang == "zh" and case.vendor_zh else case.vendor)
    doc.heading(t(lang, "case_title"))
    doc.para(case_summary(case, lang))
    if len(case.machines) > 1 or case.app_crashes or any(d.kind == Kind.EVENT_LOG for d in case.dumps):
        doc.bullets(t(lang, "machines"), [machine_line(case, m, lang) for m in case.machines])
    if case.vendor:
        label = vendor
        if case.product:
            # "McAfee McAfee Core Protection" says the name twice.
            repeats = lang != "zh" and case.product.lower().startswith(case.vendor.lower())
            label = case.product if repeats else f"{vendor} {case.product}"
        doc.field(t(lang, "vendor"), label)
    doc.field(t(lang, "modules"), join(case.modules, lang))
    doc.field(t(lang, "bugcheck"), join([code_label(c, lang) for c in case.bugcheck_codes], lang))
    doc.field(t(lang, "confidence"), t(lang, "conf_" + case.confidence))
    doc.bullets(t(lang, "why"), reason_lines(case, lang))
    for ki in case.known_issues:
        doc.link(f"{t(lang, 'known_issue')}: {ki.title_zh if lang == 'zh' and ki.title_zh else ki.title}", ki.url)
        doc.para(ki.advice_zh if lang == "zh" else ki.advice_en)
        doc.para(known_issue_state(ki, lang))
    if case.recommendation:
        doc.field(t(lang, "recommendation"), recommendation(case, lang))
    for log in case.timelines:
        if only is None or log.source in only or log.source.split(":", 1)[0] in only:
            doc.divider()
            doc.extend(machine_doc(log, lang))
    if with_dumps:
        for i, d in enumerate(case.dumps, 1):
            if only is not None and d.source not in only and d.source.split(":", 1)[0] not in only:
                continue
            if d.kind == Kind.EVENT_LOG:
                continue  # told in its event log's section
            doc.divider()
            doc.extend(dump_doc(d, i, lang))
    return bound_doc(doc, lang)


def version_words(c: VersionCheck, lang: str) -> str:
    """'VSApiNt built 2019-09-15, after 2018-06-01' / 'tmxpflt 12.0.0.1300, below the fixed 12.0.1.2144'."""
    key = f"ki_{c.by}_{'affected' if c.affected else 'fixed'}"
    return t(lang, key, module=c.module, seen=c.seen, limit=c.limit)


def known_issue_state(ki: KnownIssue, lang: str) -> str | None:
    """Which side of the article's line the evidence is on, and the fix."""
    fixed = ki.fixed_zh if lang == "zh" and ki.fixed_zh else ki.fixed_en
    parts = []
    why = join([version_words(c, lang) for c in ki.state_why[:4]], lang)
    if ki.state == "affected":
        parts.append(t(lang, "ki_affected", why=why))
    elif ki.state == "fixed":
        parts.append(t(lang, "ki_fixed", why=why))
    elif ki.versioned:
        parts.append(t(lang, "ki_unknown"))
    if fixed:
        parts.append(t(lang, "ki_fixed_by", fixed=fixed))
    if ki.fix_kbs:
        key = {True: "ki_kb_installed", False: "ki_kb_missing", None: "ki_kb_ask"}[ki.fix_installed]
        parts.append(t(lang, key, kbs=join(ki.fix_kbs, lang)))
    return ("" if lang == "zh" else " ").join(parts) or None


def recommendation(case: CaseReport, lang: str) -> str:
    vendor = (case.vendor_zh if lang == "zh" and case.vendor_zh else case.vendor) or ""
    affected = next((k for k in case.known_issues if k.state == "affected" and (k.fixed_en or k.fixed_zh)), None)
    if affected is not None:
        fixed = affected.fixed_zh if lang == "zh" and affected.fixed_zh else affected.fixed_en
        return t(lang, "rec_apply_fix", vendor=vendor, fixed=fixed)
    if case.known_issues and all(k.state == "fixed" for k in case.known_issues):
        return t(lang, "rec_beyond_known_issue", vendor=vendor)
    return t(lang, "rec_" + (case.recommendation or "collect_more"), vendor=vendor, product=case.product or "").replace("  ", " ")
