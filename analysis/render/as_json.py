"""The JSON contract of DESIGN.md: codes upper-case hex without padding,
modules without extension as WinDbg prints them, null where unknown."""

from __future__ import annotations

from analysis import catalog
from analysis.model import CaseReport, Culprit, DumpReport, KnownIssue, ModuleInfo, hex_code
from analysis.fingerprint import fingerprint
from analysis.inputs import said_in
from analysis.render.eventlog import machine_json as eventlog_json
from analysis.machines import Machine
from analysis.render.limits import bound_json
from analysis.render.machines import case_summary, machine_label, machine_line
from analysis.render.verdict import known_issue_state, param_meanings, reason_lines, recommendation

ENGINE_VERSION = "2"


def culprit_json(c: Culprit | None) -> dict | None:
    if c is None:
        return None
    return {
        "module": c.module,
        "image": c.image,
        "vendor": c.vendor,
        "vendor_zh": c.vendor_zh,
        "product": c.product,
        "description": c.description,
        "category": c.category,
        "third_party": c.third_party,
        "basis": c.basis,
        "confidence": c.confidence,
        "windbg_blamed": c.windbg_blamed,
        "vendor_basis": c.vendor_basis,
        "vendor_source": c.vendor_source,
        "built": c.built,
        "framework": c.framework,
        "candidates": c.candidates,
        "evidence": [e.text for e in c.evidence],
    }


def bugcheck_json(d: DumpReport, lang: str) -> dict | None:
    if d.bugcheck is None:
        return None
    info = catalog.bugcheck(d.bugcheck.code)
    params = [{"n": i + 1, "value": hex_code(value), "meaning": meaning}
              for i, (value, meaning) in enumerate(zip(d.bugcheck.args, param_meanings(d, lang)))]
    sub_en, sub_zh = info.subtype(d.bugcheck.args) if info else (None, None)
    flagged = {"args_not_used": [{"n": n, "text": text} for n, text in d.bugcheck.unusable.items()]}
    return {
        **(flagged if d.bugcheck.unusable else {}),
        "code": hex_code(d.bugcheck.code),
        "name": info.name if info else None,
        "name_zh": info.zh if info else None,
        "args": [hex_code(a) for a in d.bugcheck.args],
        "params": params,
        "subtype": (sub_zh or sub_en) if lang == "zh" else sub_en,
        "category": info.category if info else None,
        "summary": (info.summary_zh if lang == "zh" else info.summary_en) if info else None,
    }


def module_json(m: ModuleInfo) -> dict:
    return {
        "name": m.name,
        "image": m.image,
        "path": m.path,
        "base": hex_code(m.base),
        "size": m.size,
        "timestamp": m.timestamp,
        "file_version": m.file_version,
        "company": m.company,
        "unloaded": m.unloaded or None,
        "third_party": catalog.is_third_party(m.name, m.path),
    }


def fingerprint_json(d: DumpReport) -> dict | None:
    fp = fingerprint(d)
    if fp is None:
        return None
    return {"bucket": fp.bucket, "exact": fp.exact, "module": fp.module, "version": fp.version,
            "function": fp.function}


def dump_json(d: DumpReport, lang: str) -> dict:
    return {
        "source": d.source,
        "kind": d.kind,
        "bugcheck": bugcheck_json(d, lang),
        "culprit": culprit_json(d.culprit),
        "process": d.process,
        "os_build": d.os.build,
        "os": {
            "build": d.os.build,
            "version": d.os.version,
            "product": d.os.product,
            "release": d.os.release,
            "codename": d.os.codename,
            "buildlab": d.os.buildlab,
            "arch": d.os.arch,
        },
        "arch": d.os.arch,
        "failure_bucket": d.failure_bucket,
        "symbol": d.symbol,
        "module_name": d.module_name,
        "image_name": d.image_name,
        "exception_code": hex_code(d.exception_code),
        "exception_address": hex_code(d.exception_address),
        "fast_fail": d.fast_fail,
        "crash_time": d.crash_time,
        "uptime": d.uptime,
        "processors": d.processors,
        "dump_type": d.dump_type,
        "computer": d.computer,
        "boot_time": d.boot_time,
        "report_id": d.report_id,
        "third_party_modules": d.third_party_modules,
        "stack": [
            {"module": f.module, "function": f.function, "offset": hex_code(f.offset), "address": hex_code(f.address)}
            for f in d.stack
        ],
        "modules": [module_json(m) for m in d.modules.values()],
        "fingerprint": fingerprint_json(d),
        "partial": d.partial,
        "notes": d.notes,
    }


def machine_json(case: CaseReport, m: Machine, lang: str) -> dict:
    return {
        "name": m.name,
        "label": machine_label(m, lang),
        "os_build": m.os.build,
        "os": m.os.product,
        "arch": m.os.arch,
        "dumps": [case.dumps[i].source for i in m.dumps],
        "kinds": sorted({case.dumps[i].kind for i in m.dumps}),
        "bugchecks": list(dict.fromkeys(hex_code(b.code) for b in (case.dumps[i].bugcheck for i in m.dumps) if b)),
        "summary": machine_line(case, m, lang),
    }


def known_issue_json(k: KnownIssue, lang: str) -> dict:
    return {"id": k.id, "title": k.title, "title_zh": k.title_zh, "url": k.url,
            "advice": k.advice_zh if lang == "zh" else k.advice_en,
            "state": k.state, "checks": [{"module": c.module, "seen": c.seen, "limit": c.limit, "by": c.by,
                                          "affected": c.affected, "where": c.where} for c in k.state_why],
            "fixed_by": k.fixed_zh if lang == "zh" and k.fixed_zh else k.fixed_en,
            "fix_kbs": k.fix_kbs, "fix_installed": k.fix_installed,
            "state_text": known_issue_state(k, lang)}


def errors_json(problems: list[tuple[str, str]], lang: str) -> list[dict]:
    """The inputs that could not be (wholly) read, said in the verdict's language."""
    return [{"source": s, "message": said_in(m, lang), "code": getattr(m, "code", None)} for s, m in problems]


def case_json(case: CaseReport, lang: str = "en", errors: list[dict] | None = None) -> dict:
    """The verdict, every string of it cut at 4,000 characters (saying so)."""
    return bound_json({
        "engine": ENGINE_VERSION,
        "lang": lang,
        "dumps": [dump_json(d, lang) for d in case.dumps],
        "case": {
            "vendor": case.vendor,
            "vendor_zh": case.vendor_zh,
            "product": case.product,
            "modules": case.modules,
            "confidence": case.confidence,
            "pattern": case.pattern,
            "bugchecks": [hex_code(c) for c in case.bugcheck_codes],
            "os_builds": case.os_builds,
            "reasons": reason_lines(case, lang),
            "recommendation": recommendation(case, lang) if case.recommendation else None,
            "known_issues": [known_issue_json(k, lang) for k in case.known_issues],
            "dump_count": len(case.dumps),
            "machines": [machine_json(case, m, lang) for m in case.machines],
            "vendor_dumps": [case.dumps[i].source for i in case.vendor_dumps],
            "app_crashes": [case.dumps[i].source for i in case.app_crashes],
            "summary": case_summary(case, lang),
        },
        "errors": errors or [],
        **({"event_logs": [eventlog_json(log, lang) for log in case.timelines]} if case.timelines else {}),
    }, lang)
