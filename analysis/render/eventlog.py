"""A machine's event log (analysis.eventlog.MachineLog) as Doc lines and
as JSON, in English and Chinese: the crashes over time, what changed
before the first, and what else the log shows around them.

Its sentences live here, not in texts.py, until the lead folds the event
log into the case verdict; they follow texts.py's register."""

from __future__ import annotations

from collections import Counter

from analysis import catalog
from analysis.eventlog.interpret import changes_before
from analysis.eventlog.machine import Crash, Install, MachineLog, Update
from analysis.model import hex_code
from analysis.render.doc import Doc
from analysis.render.texts import cjk_space

MAX_LINES = 12
CHANGE_DAYS = 7

T: dict[str, dict[str, str]] = {
    "en": {
        "title": "Event log: {machine}",
        "machine_os": "{computer} ({os})",
        "os": "{product}, build {build}",
        "os_build": "build {build}",
        "crashes": "{n} blue screens in {days} days, {k} different bug checks ({codes})",
        "crashes_same": "{n} blue screens in {days} days, all {codes}",
        "crash_one": "1 blue screen, on {date}: {code}",
        "no_crash": "no blue screen recorded between {first} and {last}",
        "shutdowns_one": "1 unexpected shutdown with no bug check recorded (Kernel-Power 41 / EventLog 6008 without a bug check code: power lost or the machine stopped responding; no dump was written)",
        "shutdowns": "{n} unexpected shutdowns with no bug check recorded (Kernel-Power 41 / EventLog 6008 without a bug check code: power lost or the machine stopped responding; no dump was written)",
        "button": "{n} of them with the power button held",
        "before_first": "Before the first one ({days} days)",
        "nothing_before": "nothing installed or updated in the {days} days before the first one",
        "crash_list": "Blue screens",
        "crash_line": "{when} — {code}{via}",
        "via": " ({sources})",
        "dump": "; dump {dump}",
        "last_alive": "; last running {time}",
        "shutdown_list": "Unexpected shutdowns",
        "shutdown_line": "{when} — {sources}",
        "hardware": "Hardware",
        "whea": "WHEA-Logger: {n} hardware error(s), {fatal} fatal ({what})",
        "tdr": "display driver {driver} stopped responding and recovered {n} time(s) (Display 4101)",
        "installs": "Drivers and services installed",
        "install_line": "{date} {kind} {name}{path}",
        "driver": "driver",
        "service": "service",
        "failed": "Boot drivers that failed to load (7026)",
        "failed_updates": "Updates that failed",
        "updates": "Windows updates",
        "updates_summary": "{installed} installed, {failed} failed",
        "update_line": "{date} {what}",
        "update_failed": "{date} {what} failed ({error})",
        "installed_kb": "{kb} installed",
        "app_crashes": "Application crashes",
        "app_line": "{app}{module}{code} ×{n}",
        "in_module": " in {module}",
        "hang": "{app} stopped responding ×{n}",
        "aliases": "also named {names} in this log",
        "span": "Log",
        "span_line": "{records} events from {first} to {last}; {boots} boots; OS builds {builds}",
        "span_line_1": "{records} events from {first} to {last}; 1 boot; OS builds {builds}",
        "utc": "times in UTC",
        "local": "times as the machine's clock shows them",
        "truncated": "the file ends inside a chunk: its last events are missing",
        "unreadable_chunk": "part of the log was damaged and skipped",
        "cut_short": "the export breaks off; what came before was read",
        "and_more": "… and {n} more",
        "unnamed": "unnamed computer",
        "no_date": "date unknown",
    },
    "zh": {
        "title": "事件日志：{machine}",
        "machine_os": "{computer}（{os}）",
        "os": "{product}，内部版本 {build}",
        "os_build": "内部版本 {build}",
        "crashes": "{days} 天内蓝屏 {n} 次，{k} 种不同的 BugCheck（{codes}）",
        "crashes_same": "{days} 天内蓝屏 {n} 次，BugCheck 均为 {codes}",
        "crash_one": "{date} 蓝屏 1 次：{code}",
        "no_crash": "{first} 至 {last} 期间没有蓝屏记录",
        "shutdowns_one": "意外关机 1 次，未记录 BugCheck（Kernel-Power 41 / EventLog 6008 没有 BugCheck 代码：断电或系统停止响应，未生成 dump）",
        "shutdowns": "意外关机 {n} 次，未记录 BugCheck（Kernel-Power 41 / EventLog 6008 没有 BugCheck 代码：断电或系统停止响应，未生成 dump）",
        "button": "其中 {n} 次为长按电源键",
        "before_first": "第一次蓝屏前 {days} 天内的变更",
        "nothing_before": "第一次蓝屏前 {days} 天内没有安装驱动或更新",
        "crash_list": "蓝屏记录",
        "crash_line": "{when} — {code}{via}",
        "via": "（{sources}）",
        "dump": "；dump 保存在 {dump}",
        "last_alive": "；最后运行时间 {time}",
        "shutdown_list": "意外关机记录",
        "shutdown_line": "{when} — {sources}",
        "hardware": "硬件",
        "whea": "WHEA-Logger 记录硬件错误 {n} 次，其中致命错误 {fatal} 次（{what}）",
        "tdr": "显示驱动 {driver} 停止响应后恢复 {n} 次（Display 4101）",
        "installs": "安装的驱动和服务",
        "install_line": "{date} 安装{kind} {name}{path}",
        "driver": "驱动",
        "service": "服务",
        "failed": "未能加载的启动驱动（7026）",
        "failed_updates": "安装失败的更新",
        "updates": "Windows 更新",
        "updates_summary": "安装成功 {installed} 个，失败 {failed} 个",
        "update_line": "{date} {what}",
        "update_failed": "{date} {what} 安装失败（{error}）",
        "installed_kb": "安装了 {kb}",
        "app_crashes": "应用程序崩溃",
        "app_line": "{app}{module}{code} ×{n}",
        "in_module": "，出错模块 {module}",
        "hang": "{app} 停止响应 ×{n}",
        "aliases": "此日志中该机器还曾使用名称 {names}",
        "span": "日志",
        "span_line": "{first} 至 {last} 共 {records} 条事件；启动 {boots} 次；系统内部版本 {builds}",
        "utc": "时间为 UTC",
        "local": "时间为该机器的本地时间",
        "truncated": "文件在数据块中间结束，最后的事件缺失",
        "unreadable_chunk": "日志有部分内容损坏，已跳过",
        "cut_short": "导出内容不完整，已读取中断前的部分",
        "and_more": "……另有 {n} 条",
        "unnamed": "未注明计算机名",
        "no_date": "日期不详",
    },
}

# Why an input was refused, by the code analysis.inputs.Rejected carries.
def _t(lang: str, key: str, **params: object) -> str:
    table = T.get(lang) or T["en"]
    text = (table.get(key) or T["en"][key]).format(**params)
    return cjk_space(text) if lang == "zh" else text


def _join(items: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def _day(time: str | None) -> str:
    return (time or "?")[:10]


def _minute(time: str | None) -> str:
    return (time or "?")[:16].replace("T", " ")


def _code(code: int | None, lang: str) -> str:
    if code is None:
        return "?"
    info = catalog.bugcheck(code)
    name = info.name if info else None
    return f"{hex_code(code)} {name}" if name else hex_code(code) or "?"


def machine_line(log: MachineLog, lang: str) -> str:
    """'DESKTOP-1N4R894 (Windows 10 1803, build 17134)'"""
    computer = log.computer or _t(lang, "unnamed")
    if log.os.build:
        os = _t(lang, "os", product=log.os.product, build=log.os.build) if log.os.product else _t(
            lang, "os_build", build=log.os.build)
        return _t(lang, "machine_os", computer=computer, os=os)
    return computer


def _days(crashes: list[Crash]) -> int:
    from analysis.eventlog.event import parse_iso

    # Days, not moments: one export may hold UTC times ("...Z") and local
    # ones, which cannot be compared with each other.
    days = [t.date() for c in crashes if (t := parse_iso(c.logged)) is not None]
    if len(days) < 2:
        return 1
    return (max(days) - min(days)).days + 1


def summary(log: MachineLog, lang: str) -> str:
    """The one line: "{machine}: 6 blue screens in 19 days, 3 different bug
    checks (0x1A, 0x139, 0x50)", or "no blue screen recorded between X and
    Y; 2 unexpected shutdowns (...)"."""
    parts = [crash_summary(log, lang)]
    if log.shutdowns:
        n = log.total("shutdowns")
        parts.append(_t(lang, "shutdowns_one") if n == 1 else _t(lang, "shutdowns", n=n))
    sep = "；" if lang == "zh" else "; "
    return f"{machine_line(log, lang)}{'：' if lang == 'zh' else ': '}{sep.join(parts)}"


def crash_summary(log: MachineLog, lang: str) -> str:
    n = log.total("crashes")
    codes = log.codes
    listed = ("、" if lang == "zh" else ", ").join(hex_code(c) or "?" for c in codes)
    if n == 0:
        return _t(lang, "no_crash", first=_day(log.first_event), last=_day(log.last_event))
    if n == 1:
        crash = log.crashes[0]
        date = _day(crash.logged) if crash.logged else _t(lang, "no_date")
        return _t(lang, "crash_one", date=date, code=_code(crash.code, lang))
    if len(codes) <= 1:
        return _t(lang, "crashes_same", n=n, days=_days(log.crashes), codes=listed)
    return _t(lang, "crashes", n=n, days=_days(log.crashes), k=len(codes), codes=listed)


def change_line(item: Install | Update, lang: str) -> str:
    if isinstance(item, Install):
        kind = _t(lang, "driver") if item.driver else _t(lang, "service")
        path = (f"（{item.image_path}）" if lang == "zh" else f" ({item.image_path})") if item.image_path else ""
        if lang == "zh":
            return cjk_space(f"{_day(item.time)} 安装{kind} {item.name}{path}")
        return f"{_day(item.time)} {kind} {item.name} installed{path}"
    what = ", ".join(item.kbs) or item.title
    if item.status == "failed":
        return _t(lang, "update_failed", date=_day(item.time), what=what, error=item.error or "?")
    return _t(lang, "update_line", date=_day(item.time), what=_t(lang, "installed_kb", kb=what))


def machine_doc(log: MachineLog, lang: str = "en") -> Doc:
    doc = Doc()
    doc.heading(_t(lang, "title", machine=log.computer or log.source or _t(lang, "unnamed")))
    doc.para(summary(log, lang))
    if log.aliases:
        doc.para(_t(lang, "aliases", names=("、" if lang == "zh" else ", ").join(log.aliases)))
    if log.crashes:
        changes = changes_before(log, CHANGE_DAYS)
        if changes:
            doc.bullets(_t(lang, "before_first", days=CHANGE_DAYS), _capped([change_line(c, lang) for c in changes], lang))
        elif _covers_days_before(log, CHANGE_DAYS):
            # Said only of a log that reaches back that far: a pasted event or
            # two cannot tell what was installed before.
            doc.para(_t(lang, "nothing_before", days=CHANGE_DAYS))
        doc.bullets(_t(lang, "crash_list"), _capped([_crash_line(c, lang) for c in log.crashes], lang,
                                                     log.total("crashes")))
    if log.shutdowns:
        doc.bullets(_t(lang, "shutdown_list"), _capped(
            [_t(lang, "shutdown_line", when=_minute(s.logged), sources=_join(s.sources, lang))
             + (_t(lang, "last_alive", time=_minute(s.last_alive)) if s.last_alive else "") for s in log.shutdowns],
            lang, log.total("shutdowns")))
    doc.bullets(_t(lang, "hardware"), hardware_lines(log, lang))
    if log.installs:
        lines = _repeats([change_line(i, lang) for i in log.installs])
        doc.bullets(_t(lang, "installs"), _capped(lines[-MAX_LINES:], lang, len(lines), min(MAX_LINES, len(lines))))
    if log.failed_drivers:
        names = Counter(n for f in log.failed_drivers for n in f.names)
        doc.field(_t(lang, "failed"), ", ".join(f"{n} ×{k}" for n, k in names.most_common(10)))
    if log.updates:
        installed = sum(1 for u in log.updates if u.status == "installed")
        failed = [u for u in log.updates if u.status == "failed"]
        doc.field(_t(lang, "updates"), _t(lang, "updates_summary", installed=installed, failed=len(failed)))
        if failed:
            doc.bullets(_t(lang, "failed_updates"), [change_line(u, lang) for u in failed[-MAX_LINES:]])
    doc.bullets(_t(lang, "app_crashes"), app_lines(log, lang))
    builds = ", ".join(str(b) for b in log.builds) or "?"
    if log.first_event and log.last_event:
        key = "span_line_1" if log.total("boots") == 1 and lang != "zh" else "span_line"
        doc.field(_t(lang, "span"), _t(lang, key, records=log.records, first=_minute(log.first_event),
                                        last=_minute(log.last_event), boots=log.total("boots"), builds=builds)
                  + ("；" if lang == "zh" else "; ") + _t(lang, "local" if log.local_times else "utc"))
    for note in log.notes:
        if note in T["en"]:
            doc.para(_t(lang, note))
    return doc


def _covers_days_before(log: MachineLog, days: int) -> bool:
    from datetime import timedelta

    from analysis.eventlog.event import parse_iso

    first = parse_iso(log.first_event)
    crash = min((t for c in log.crashes if (t := parse_iso(c.logged)) is not None), default=None)
    if first is None or crash is None or (first.tzinfo is None) != (crash.tzinfo is None):
        return False
    return first <= crash - timedelta(days=days)


def _crash_line(c: Crash, lang: str) -> str:
    line = _t(lang, "crash_line", when=_minute(c.logged), code=_code(c.code, lang),
              via=_t(lang, "via", sources=_join(c.sources, lang)))
    if c.dump:
        line += _t(lang, "dump", dump=c.dump)
    if c.last_alive:
        line += _t(lang, "last_alive", time=_minute(c.last_alive))
    return line


def _repeats(lines: list[str]) -> list[str]:
    """The same install written again the same day is one line, "×n"."""
    counts = Counter(lines)
    return [f"{line} ×{counts[line]}" if counts[line] > 1 else line for line in dict.fromkeys(lines)]


def _capped(lines: list[str], lang: str, total: int | None = None, already: int | None = None) -> list[str]:
    shown = lines[:MAX_LINES]
    more = (total if total is not None else len(lines)) - (already if already is not None else len(shown))
    if more > 0:
        shown.append(_t(lang, "and_more", n=more))
    return shown


def hardware_lines(log: MachineLog, lang: str) -> list[str]:
    lines = []
    whea = [h for h in log.hardware if h.provider == "WHEA-Logger"]
    if whea:
        what = ", ".join(dict.fromkeys(h.component or h.error_source or f"WHEA {h.event_id}" for h in whea))
        lines.append(_t(lang, "whea", n=len(whea), fatal=sum(h.fatal for h in whea), what=what))
    tdr = Counter(h.driver or "?" for h in log.hardware if h.provider == "Display")
    for driver, n in tdr.most_common(5):
        lines.append(_t(lang, "tdr", driver=driver, n=n))
    return lines


def app_lines(log: MachineLog, lang: str) -> list[str]:
    crashes = Counter((a.app or "?", a.module, a.exception_code) for a in log.app_crashes if a.kind == "crash")
    hangs = Counter(a.app or "?" for a in log.app_crashes if a.kind == "hang")
    lines = [_t(lang, "app_line", app=app, module=_t(lang, "in_module", module=module) if module else "",
                code=f" ({hex_code(code)})" if code is not None else "", n=n)
             for (app, module, code), n in crashes.most_common(MAX_LINES)]
    lines += [_t(lang, "hang", app=app, n=n) for app, n in hangs.most_common(5)]
    return lines


# --- JSON ------------------------------------------------------------------

def machine_json(log: MachineLog, lang: str = "en") -> dict:
    """The machine record for ``crashdesk analyze --json`` ("machines": [...]):
    codes as the dump JSON writes them, times as read, null where unknown."""
    def code(c: int | None) -> dict | None:
        if c is None:
            return None
        info = catalog.bugcheck(c)
        return {"code": hex_code(c), "name": info.name if info else None}

    return {
        "computer": log.computer,
        "aliases": log.aliases,
        "source": log.source,
        "summary": summary(log, lang),
        "os": {"build": log.os.build, "revision": log.os.revision, "product": log.os.product,
               "release": log.os.release},
        "os_builds": log.builds,
        "first_event": log.first_event,
        "last_event": log.last_event,
        "records": log.records,
        "times": "local" if log.local_times else "utc",
        "boots": log.total("boots"),
        "crashes": [{**(code(c.code) or {"code": None, "name": None}), "logged": c.logged,
                     "args": [hex_code(a) for a in c.args], "dump": c.dump, "report_id": c.report_id,
                     "last_alive": c.last_alive, "boot_before": c.boot_before, "sources": c.sources}
                    for c in log.crashes],
        "bugchecks": [hex_code(c) for c in log.codes],
        "unexpected_shutdowns": [{"logged": s.logged, "last_alive": s.last_alive, "sources": s.sources,
                                  "power_button": s.power_button} for s in log.shutdowns],
        "hardware": [{"time": h.time, "provider": h.provider, "event_id": h.event_id, "fatal": h.fatal,
                      "component": h.component, "error_source": h.error_source, "driver": h.driver}
                     for h in log.hardware],
        "installed": [{"time": i.time, "name": i.name, "image_path": i.image_path, "service_type": i.service_type,
                       "start_type": i.start_type, "driver": i.driver} for i in log.installs],
        "failed_boot_drivers": [{"time": f.time, "names": f.names} for f in log.failed_drivers],
        "updates": [{"time": u.time, "title": u.title, "kbs": u.kbs, "status": u.status, "error": u.error}
                    for u in log.updates if u.status != "started"],
        "app_crashes": [{"time": a.time, "kind": a.kind, "app": a.app, "app_version": a.app_version,
                         "module": a.module, "module_version": a.module_version,
                         "exception_code": hex_code(a.exception_code), "offset": a.offset,
                         "app_path": a.app_path, "module_path": a.module_path, "report_id": a.report_id,
                         "event_name": a.event_name} for a in log.app_crashes],
        "changed_before_first_crash": [change_line(c, lang) for c in changes_before(log, CHANGE_DAYS)],
        "counts": dict(sorted(log.counts.items())),
        "notes": log.notes,
    }


def event_logs_doc(context: list[object], lang: str = "en") -> Doc:
    """The machine sections of every event log among a case's context
    (which also holds other readers' records, such as inventories)."""
    doc = Doc()
    for log in context:
        if isinstance(log, MachineLog):
            doc.extend(machine_doc(log, lang))
    return doc


def event_logs_json(context: list[object], lang: str = "en") -> list[dict]:
    return [machine_json(log, lang) for log in context if isinstance(log, MachineLog)]
