"""The case verdict said machine by machine (issue 11): "3 machines; the 2
dumps from build 17134 point at AsiaInfo Security; the 19041 dump shows no
third-party driver; the calc.exe dump is an application crash"."""

from __future__ import annotations

from analysis import ntstatus
from analysis.correlate import family_of, says_windows
from analysis.machines import Machine
from analysis.model import CaseReport, DumpReport, Kind, hex_code, module_key
from analysis.render.texts import join, t
from analysis.winbuilds import release_zh


def os_words(os, lang: str) -> str | None:
    """'Windows 10 1803, x64' / 'Windows 10 1803，x64'."""
    parts = [p for p in (os.product, os.arch) if p]
    if not parts:
        return None
    return ("，" if lang == "zh" else ", ").join(parts)


def machine_label(m: Machine, lang: str) -> str:
    """'DESKTOP-1N4R894 (Windows 10 1803, x64)', 'build 17134 (Windows 10 1803, x64)'."""
    if m.name:
        head = m.name
    elif m.os.build:
        head = t(lang, "m_build", build=m.os.build)
    else:
        head = t(lang, "m_unknown")
    os = os_words(m.os, lang)
    if not os:
        return head
    return f"{head}（{os}）" if lang == "zh" else f"{head} ({os})"


def _codes(dumps: list[DumpReport], lang: str) -> str:
    return join(list(dict.fromkeys(hex_code(d.bugcheck.code) or "" for d in dumps if d.bugcheck)), lang)


def _distinct(names) -> list[str]:
    """Module names once each, as first spelled (VSapiNt and VSApiNt are one)."""
    seen: dict[str, str] = {}
    for name in names:
        if name and module_key(name) not in seen:
            seen[module_key(name)] = name
    return list(seen.values())


def _vendor_name(d: DumpReport, lang: str) -> str | None:
    c = d.culprit
    if not c:
        return None
    return (c.vendor_zh if lang == "zh" and c.vendor_zh else c.vendor) or None


def machine_line(case: CaseReport, m: Machine, lang: str) -> str:
    """What one machine's evidence says, each kind of evidence in its own words."""
    dumps = [case.dumps[i] for i in m.dumps]
    parts: list[str] = []
    logged = [d for d in dumps if d.kind == Kind.EVENT_LOG]
    apps = [d for d in dumps if d.kind == Kind.APP_MINIDUMP]
    crashes = [d for d in dumps if d not in logged and d not in apps]
    by_family: dict[str, list[DumpReport]] = {}
    for d in crashes:
        fam = family_of(d.culprit)
        if fam:
            by_family.setdefault(fam, []).append(d)
    for group in by_family.values():
        mods = _distinct(d.culprit.module for d in group if d.culprit)
        parts.append(t(lang, "m_vendor", n=len(group), codes=_codes(group, lang), vendor=_vendor_name(group[0], lang),
                       modules=join(mods, lang)))
    windows = [d for d in crashes if not family_of(d.culprit) and says_windows(d)]
    hardware = [d for d in windows if d.culprit and d.culprit.basis == "hardware"]
    inbox = [d for d in windows if d not in hardware]
    if inbox:
        where = _distinct(d.culprit.module for d in inbox if d.culprit)
        key = "m_inbox_where" if where else "m_inbox"
        parts.append(t(lang, key, n=len(inbox), codes=_codes(inbox, lang), modules=join(where, lang)))
    if hardware:
        parts.append(t(lang, "m_hardware", n=len(hardware), codes=_codes(hardware, lang)))
    silent = [d for d in crashes if not family_of(d.culprit) and not says_windows(d)]
    if silent:
        parts.append(t(lang, "m_silent", n=len(silent), codes=_codes(silent, lang)))
    if logged:
        parts.append(t(lang, "m_logged", n=len(logged), codes=_codes(logged, lang)))
    for d in apps:
        parts.append(app_words(d, lang))
    sep = "；" if lang == "zh" else "; "
    return f"{machine_label(m, lang)}{'：' if lang == 'zh' else ': '}{sep.join(parts)}"


def app_words(d: DumpReport, lang: str) -> str:
    """'the calc.exe dump is an application crash (0x80000003 STATUS_BREAKPOINT: a breakpoint ...)'."""
    process = d.process or t(lang, "m_some_process")
    exc = ntstatus.exception(d.exception_code)
    if exc and exc.breakpoint:
        return t(lang, "m_app_breakpoint", process=process, code=hex_code(d.exception_code), name=exc.name)
    if d.exception_code is not None:
        what = f"{hex_code(d.exception_code)} {exc.name}" if exc else hex_code(d.exception_code)
        module = d.culprit.module if d.culprit and d.culprit.module else None
        key = "m_app_in" if module else "m_app"
        return t(lang, key, process=process, code=what, module=module)
    return t(lang, "m_app_plain", process=process)


def case_summary(case: CaseReport, lang: str) -> str:
    """The first line of the verdict: what the case holds, what it points at."""
    blue = [d for d in case.dumps if d.kind != Kind.APP_MINIDUMP]
    dumps = [d for d in blue if d.kind != Kind.EVENT_LOG]
    logged = [d for d in blue if d.kind == Kind.EVENT_LOG]
    apps = len(case.app_crashes)
    counts = []
    if dumps:
        counts.append(t(lang, "s_dumps", n=len(dumps)))
    if logged:
        counts.append(t(lang, "s_logged", n=len(logged)))
    if apps:
        counts.append(t(lang, "s_apps", n=apps))
    codes = t(lang, "s_codes", n=len(case.bugcheck_codes)) if case.bugcheck_codes else None
    what = join(counts, lang)
    if codes:
        what += ("，" if lang == "zh" else ", ") + codes
    if len(case.machines) > 1:
        what = t(lang, "s_machines", n=len(case.machines)) + ("，" if lang == "zh" else ", ") + what
    vendor = case.vendor_zh if lang == "zh" and case.vendor_zh else case.vendor
    if vendor and case.pattern == "single-vendor":
        evidence = [d for d in blue if family_of(d.culprit) or says_windows(d)]
        if len(case.vendor_dumps) < len(evidence):
            tail = t(lang, "s_vendor_some", vendor=vendor, n=len(case.vendor_dumps), total=len(evidence))
        else:
            tail = t(lang, "one_vendor", vendor=vendor)
    elif case.pattern == "mixed":
        names: list[str] = next((r.params["vendors"] for r in case.reasons if r.code == "several_vendors"), [])
        tail = t(lang, "several_vendors", vendors=", ".join(names))
    elif blue:
        tail = t(lang, "no_vendor")
    else:
        tail = ""
    sep = "，" if lang == "zh" else ", "
    return what + (sep + tail if tail else "")


def release_words(release: str | None, lang: str) -> str | None:
    return release_zh(release) if lang == "zh" else release
