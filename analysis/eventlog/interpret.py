"""Events -> what a support engineer reads out of a System/Application log:
the blue screens (one per boot: the Kernel-Power 41, BugCheck 1001 and
EventLog 6008 one crash leaves are one crash), the unexpected shutdowns
with no bug check, hardware errors, and what was installed around them.

An event log names no module, except through the failure bucket Windows
Error Reporting's analysis gave a blue screen ("0x3B_lxcore!Lxp..."): the
crashes it yields carry that bucket's claim or nothing, never a verdict."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from analysis import catalog, winbuilds
from analysis.eventlog.event import Event, LocalTimes, parse_iso, provider_key, utc_iso
from analysis.eventlog.machine import (
    AppCrash, Crash, FailedDrivers, Hardware, Install, MachineLog, Shutdown, Update,
)
from analysis.eventlog import messages as msg
from analysis.findings import Claim, Claimant, Findings, Reading
from analysis.model import BugCheck, DumpReport, Kind, OsInfo

# The events that matter, by id, with the providers that write them (as
# provider_key spells them).  Everything else in a log is counted, not read.
_WHEA = frozenset({"whea-logger"})
WANTED: dict[int, frozenset[str] | None] = {
    1001: frozenset({"bugcheck", "wer", "save dump"}),
    41: frozenset({"kernel-power"}),
    6005: frozenset({"eventlog"}), 6006: frozenset({"eventlog"}),
    6008: frozenset({"eventlog"}), 6009: frozenset({"eventlog"}),
    12: frozenset({"kernel-general"}),
    17: _WHEA, 18: _WHEA, 46: _WHEA, 47: _WHEA,
    19: _WHEA | {"windowsupdateclient"}, 20: _WHEA | {"windowsupdateclient"},
    43: frozenset({"windowsupdateclient"}),
    4101: frozenset({"display"}),
    7045: frozenset({"service control manager"}), 7026: frozenset({"service control manager"}),
    1000: frozenset({"application error"}), 1002: frozenset({"application hang"}),
}

SAME_CRASH = timedelta(minutes=15)  # the events one boot writes about the crash before it
SAME_BOOT = timedelta(minutes=2)  # a start's Kernel-General 12 and EventLog 6005


def wanted(event: Event) -> bool:
    providers = WANTED.get(event.event_id, ())
    return providers is None or event.key in (providers or ())


@dataclass
class _Evidence:
    time: str | None
    kind: str  # bugcheck | kernel_power | unexpected | wer_bluescreen
    code: int | None
    args: list[int]
    event: Event
    bucket: str | None = None  # WER's failure bucket ("0x3B_lxcore!Lxp..."), when the report gives one
    # A BugCheck 1001's message as read here (its dump and report id are
    # read again where the crash is made: kept, not parsed a second time).
    told: msg.BugCheckText | None = None


@dataclass
class _Machine:
    names: dict[str, list[str]] = field(default_factory=dict)  # computer -> [first, last]
    log: MachineLog = field(default_factory=lambda: MachineLog(None))
    evidence: list[_Evidence] = field(default_factory=list)
    boots: list[tuple[str, str]] = field(default_factory=list)  # (time, "kernel" | "eventlog")
    builds: list[tuple[str, int, int | None]] = field(default_factory=list)  # (time, build, revision)


class Interpreter:
    """Fed events one by one (streaming); ``reading()`` at the end."""

    def __init__(self, source: str, local_times: LocalTimes | None = None) -> None:
        self.source = source
        self.times = local_times or LocalTimes()
        self.computers: dict[str, _Machine] = {}
        self.first: str | None = None
        self.last: str | None = None
        self.seen = 0
        self.local = False
        self.notes: list[str] = []
        self.forwarded = False
        self.cut_reason: str | None = None

    def feed(self, events: Iterable[Event]) -> None:
        for event in events:
            self.seen += 1
            if event.time:
                if not event.time.endswith("Z"):
                    self.local = True
                self._span(event.time)
            if event.channel == "ForwardedEvents":
                self.forwarded = True
            if wanted(event):
                self._take(event)

    def _span(self, time: str) -> None:
        if self.first is None or time < self.first:
            self.first = time
        if self.last is None or time > self.last:
            self.last = time

    def _machine(self, event: Event) -> _Machine:
        name = (event.computer or "").strip()
        m = self.computers.get(name)
        if m is None:
            m = self.computers[name] = _Machine()
        if event.time:
            span = m.names.setdefault(name, [event.time, event.time])
            span[0] = min(span[0], event.time)
            span[1] = max(span[1], event.time)
        return m

    def _take(self, e: Event) -> None:
        m = self._machine(e)
        log = m.log
        key, eid, d, text = e.key, e.event_id, e.data, e.message
        if eid == 1001 and key in ("bugcheck", "save dump") or (eid == 1001 and key == "wer" and msg.says_bugcheck(text)
                                                                and not d):
            found = msg.bugcheck_message(d.get("param1") and " ".join(d.values()) or text)
            if found:
                m.evidence.append(_Evidence(e.time, "bugcheck", found.code, found.args, e, told=found))
            return
        if eid == 1001 and key == "wer":
            self._wer(m, e)
            return
        if eid == 41:
            fields = d if "BugcheckCode" in d else {**msg.kernel_power_fields(text), **d}
            code = _int(fields.get("BugcheckCode"), 10)
            args = [_int(fields.get(f"BugcheckParameter{i}"), 16) or 0 for i in range(1, 5)]
            ev = _Evidence(e.time, "kernel_power", code, args if code else [], e)
            m.evidence.append(ev)
            return
        if key == "eventlog":
            if eid == 6008:
                m.evidence.append(_Evidence(e.time, "unexpected", None, [], e))
            elif eid == 6005 and e.time:
                m.boots.append((e.time, "eventlog"))
            elif eid == 6009:
                build = _int(d.get("param2"), 10) or msg.os_build_message(text)
                if build:
                    m.builds.append((e.time or "", build, None))
            return
        if eid == 12 and key == "kernel-general":
            start = utc_iso(d.get("StartTime")) or e.time
            if start:
                m.boots.append((start, "kernel"))
            build = _int(d.get("BuildVersion"), 10)
            if build:
                m.builds.append((e.time or "", build, _int(d.get("QfeVersion"), 10)))
            return
        if key == "whea-logger":
            component, source, fatal = msg.whea_message(text)
            level_fatal = e.level is not None and e.level <= 2
            log.add("hardware", Hardware(e.time, "WHEA-Logger", eid, fatal or level_fatal or eid in (18, 20, 46),
                                         d.get("Component") or component, d.get("ErrorSource") or source))
            return
        if eid == 4101 and key == "display":
            log.add("hardware", Hardware(e.time, "Display", eid, False, driver=d.get("param1") or msg.tdr_driver(text)))
            return
        if eid == 7045:
            parsed = msg.service_message(text)
            name = d.get("ServiceName") or parsed.get("name")
            if name:
                log.add("installs", Install(e.time, name, d.get("ImagePath") or parsed.get("path"),
                                            d.get("ServiceType") or parsed.get("type"),
                                            d.get("StartType") or parsed.get("start")))
            return
        if eid == 7026:
            raw = d.get("param1") or msg.after_colon(text)
            names = [n.strip() for n in raw.replace(",", "\n").split() if n.strip()][:50]
            if names:
                log.add("failed_drivers", FailedDrivers(e.time, names))
            return
        if key == "windowsupdateclient":
            title = d.get("updateTitle") or msg.after_colon(text)
            status = {19: "installed", 20: "failed", 43: "started"}[eid]
            log.add("updates", Update(e.time, title[:300], msg.kb_numbers(title) or msg.kb_numbers(text), status,
                                      _hex_text(d.get("errorCode")) or (msg.error_code(text) if eid == 20 else None)))
            return
        if eid == 1000:
            self._app_error(m, e)
        elif eid == 1002:
            app, version = d.get("param1") or d.get("AppName"), d.get("param2") or d.get("AppVersion")
            if not app:
                app, version = msg.hang_message(text)
            log.add("app_crashes", AppCrash(e.time, "hang", app, version))

    def _app_error(self, m: _Machine, e: Event) -> None:
        d = e.data
        # Named fields (Windows 10 1903 and later) or the classic order.
        order = ("AppName", "AppVersion", "AppTimeStamp", "ModuleName", "ModuleVersion", "ModuleTimeStamp",
                 "ExceptionCode", "FaultingOffset", "ProcessId", "ProcessCreationTime", "AppPath", "ModulePath",
                 "IntegratorReportId")
        f = {name: d.get(name) or d.get(f"param{i}") for i, name in enumerate(order, 1)}
        if not f["AppName"]:
            t = msg.app_crash_message(e.message)
            f.update(AppName=t.get("app"), AppVersion=t.get("app_version"), ModuleName=t.get("module"),
                     ModuleVersion=t.get("module_version"), ExceptionCode=t.get("exception"),
                     FaultingOffset=t.get("offset"), AppPath=t.get("app_path"), ModulePath=t.get("module_path"),
                     IntegratorReportId=t.get("report"))
        if f["AppName"]:
            m.log.add("app_crashes", AppCrash(
                e.time, "crash", f["AppName"], f["AppVersion"], f["ModuleName"], f["ModuleVersion"],
                _int(f["ExceptionCode"], 16), f["FaultingOffset"], f["AppPath"], f["ModulePath"],
                f["IntegratorReportId"]))

    def _wer(self, m: _Machine, e: Event) -> None:
        d = e.data
        parsed = msg.wer_message(e.message)
        if d.get("param3") is not None:
            # The event's fields: param1 the bucket, param3 the event name,
            # param6-param15 the report's P1-P10.
            name = d.get("param3")
            params = {i: d.get(f"param{i + 5}") or "" for i in range(1, 11)}
            report = d.get("param20")
            bucket = d.get("param1") or parsed.bucket
        else:
            name, params, bucket = parsed.name, parsed.params, parsed.bucket
            report = msg.app_crash_message(e.message, ("report",)).get("report")
        if not name:
            return
        if name.lower() == "bluescreen":
            # P1 is the bug check, P2-P5 its parameters, P6 the OS version.
            code = _int(params.get(1), 16)
            if code:
                args = [_int(params.get(i), 16) or 0 for i in (2, 3, 4, 5)]
                ev = _Evidence(e.time, "wer_bluescreen", code, args, e)
                ev.bucket = msg.bucket_text(bucket)
                m.evidence.append(ev)
            return
        m.log.add("app_crashes", AppCrash(
            e.time, "report", params.get(1) or None, params.get(2) or None, params.get(4) or None,
            params.get(5) or None, _int(params.get(7), 16), params.get(8) or None, report_id=report or None,
            event_name=name))

    # -- the end: machines, crashes -------------------------------------

    def reading(self, records: int | None = None, first: str | None = None, last: str | None = None,
                notes: list[str] | None = None) -> Reading:
        machines = _merge_renames(self.computers, self.forwarded)
        reading = Reading()
        for m in machines:
            log = m.log
            log.source = self.source
            log.records = records if records is not None and len(machines) == 1 else self.seen
            log.first_event = (first if len(machines) == 1 and first else None) or _min_time(m) or self.first
            log.last_event = (last if len(machines) == 1 and last else None) or _max_time(m) or self.last
            log.local_times = self.local
            log.notes = list(dict.fromkeys((notes or []) + self.notes))
            _boots(m)
            _os(m)
            _crashes(m)
            for name in ("installs", "updates", "hardware", "app_crashes", "failed_drivers"):
                getattr(log, name).sort(key=lambda item: item.time or "")
            for crash in log.crashes:
                reading.crashes.append((_report(crash, log, self.source, m), _findings(crash)))
            reading.context.append(log)
        return reading


def _int(text: str | None, base: int) -> int | None:
    if text is None:
        return None
    text = str(text).strip()
    if base == 16 and text[:2].lower() == "0x":
        text = text[2:]
    try:
        return int(text, base) if text else None
    except ValueError:
        return None


def _hex_text(text: str | None) -> str | None:
    value = _int(text, 16) if text and text.lower().startswith("0x") else _int(text, 10)
    return "0x%08X" % value if value else None


def _merge_renames(computers: dict[str, _Machine], forwarded: bool) -> list[_Machine]:
    """A log is one machine's own, under however many names it was given
    over time (an image's name, then the customer's): all its names are one
    machine, called by its latest.  Only a ForwardedEvents log (collected
    from many machines) keeps its computers apart."""
    named = sorted((m for name, m in computers.items() if name), key=lambda m: _max_time(m) or "")
    # Each machine is called by the first name it is kept under, found in
    # one walk: a search of the names for each machine was quadratic (an
    # export of 46,000 computers, one event each: 34 s for its 8 MB).
    first_name: dict[int, str] = {}
    for name, m in computers.items():
        first_name.setdefault(id(m), name)
    for m in named:
        m.log.computer = first_name[id(m)]
    if forwarded:
        out = named
    elif named:
        into = named[-1]
        for other in sorted(named[:-1], key=lambda m: _min_time(m) or ""):
            _absorb(into, other)
            into.log.aliases.append(other.log.computer or "")
        out = [into]
    else:
        out = []
    unnamed = computers.get("")
    if unnamed is not None:
        if len(out) == 1:
            _absorb(out[0], unnamed)
        else:
            out.append(unnamed)
    return out


def _close(a: str, b: str) -> bool:
    ta, tb = parse_iso(a), parse_iso(b)
    if ta is None or tb is None or (ta.tzinfo is None) != (tb.tzinfo is None):
        return False
    return abs(tb - ta) <= SAME_BOOT


def _absorb(into: _Machine, other: _Machine) -> None:
    into.names.update(other.names)
    for list_name in ("hardware", "installs", "failed_drivers", "updates", "app_crashes"):
        for item in getattr(other.log, list_name):
            into.log.add(list_name, item)
    into.evidence += other.evidence
    into.boots += other.boots
    into.builds += other.builds


def _min_time(m: _Machine) -> str | None:
    return min((s[0] for s in m.names.values()), default=None)


def _max_time(m: _Machine) -> str | None:
    return max((s[1] for s in m.names.values()), default=None)


def _boots(m: _Machine) -> None:
    """A start writes Kernel-General 12 and, a minute later, EventLog
    6005: the pair counts once."""
    paired = False
    previous: tuple[str, str] | None = None
    for time, kind in sorted(set(m.boots)):
        if (previous is not None and kind == "eventlog" and previous[1] == "kernel" and not paired
                and _close(previous[0], time)):
            paired = True
            continue
        m.log.add("boots", time)
        previous, paired = (time, kind), False


def _os(m: _Machine) -> None:
    builds = sorted(m.builds)
    m.log.builds = list(dict.fromkeys(b for _, b, _ in builds))
    if builds:
        build = builds[-1][1]
        revision = next((r for _, b, r in reversed(builds) if b == build and r is not None), None)
        m.log.os = winbuilds.fill(OsInfo(build=build, revision=revision))


def _os_at(m: _Machine, time: str | None) -> OsInfo:
    before = [b for b in sorted(m.builds) if time is None or b[0] <= time] or sorted(m.builds)[:1]
    if not before:
        return OsInfo()
    _, build, revision = before[-1]
    return winbuilds.fill(OsInfo(build=build, revision=revision))


def _crashes(m: _Machine) -> None:
    """Group the evidence by the boot that wrote it: events of different
    kinds within SAME_CRASH of the first are one crash, unless their bug
    check codes disagree."""
    clusters: list[list[_Evidence]] = []
    for ev in sorted(m.evidence, key=lambda e: (e.time or "", e.kind)):
        c = clusters[-1] if clusters else None
        if c is not None and _joins(c, ev):
            c.append(ev)
        else:
            clusters.append([ev])
    for c in clusters:
        coded = [e for e in c if e.code]
        start = c[0].time
        unexpected = next((e for e in c if e.kind == "unexpected"), None)
        last_alive = None
        if unexpected is not None:
            d = unexpected.event.data
            stamp = msg.shutdown_stamp(d.get("param1"), d.get("param2"), unexpected.event.message)
            last_alive = LocalTimes().iso(stamp) if stamp else None
        sources = [_SOURCE_NAMES[e.kind] for e in c]
        if coded:
            best = min(coded, key=lambda e: _PREFERENCE.index(e.kind))
            bc = next((e for e in c if e.kind == "bugcheck"), None)
            dump = report = None
            if bc is not None:
                d = bc.event.data
                # The event's fields: param1 the bug check, param2 the dump, param3 the report id.
                found = bc.told
                dump = d.get("param2") or (found.dump if found else None)
                report = d.get("param3") or (found.report_id if found else None)
            crash = Crash(start, best.code, best.args, dump, report, last_alive, sources,
                          [e.event.record_id for e in c if e.event.record_id is not None],
                          _boot_before(m, start), next((e.bucket for e in c if e.bucket), None))
            m.log.add("crashes", crash)
        else:
            kp = next((e for e in c if e.kind == "kernel_power"), None)
            button = bool(kp and (kp.event.data.get("PowerButtonTimestamp") or "0") not in ("0", ""))
            m.log.add("shutdowns", Shutdown(start, last_alive, sources, button))


_PREFERENCE = ("bugcheck", "wer_bluescreen", "kernel_power")
_SOURCE_NAMES = {"bugcheck": "BugCheck 1001", "kernel_power": "Kernel-Power 41", "unexpected": "EventLog 6008",
                 "wer_bluescreen": "Windows Error Reporting 1001 (BlueScreen)"}


def _joins(cluster: list[_Evidence], ev: _Evidence) -> bool:
    if any(e.kind == ev.kind for e in cluster):
        return False
    first = parse_iso(cluster[0].time)
    this = parse_iso(ev.time)
    if first is None or this is None or (first.tzinfo is None) != (this.tzinfo is None) or this - first > SAME_CRASH:
        return False
    codes = [e.code for e in cluster if e.code]
    return not (ev.code and codes and not catalog.same_bugcheck(codes[0], ev.code))


def _boot_before(m: _Machine, time: str | None) -> str | None:
    """The start of the session that crashed: the boot before the one that
    logged the crash (which lies just before, or a moment after, its
    first event)."""
    when = parse_iso(time)
    if when is None:
        return None
    times = [(b, t) for b in m.log.boots if (t := parse_iso(b)) is not None and (t.tzinfo is None) == (when.tzinfo is None)]
    before = [(b, t) for b, t in times if t <= when + timedelta(minutes=1)]
    if before and when - before[-1][1] <= SAME_CRASH:
        before.pop()
    return before[-1][0] if before else None


def _report(crash: Crash, log: MachineLog, source: str, m: _Machine) -> DumpReport:
    report = DumpReport(source=source, kind=Kind.EVENT_LOG)
    report.bugcheck = BugCheck(crash.code or 0, list(crash.args)) if crash.code else None
    report.crash_time = crash.logged
    report.dump_file = crash.dump
    report.report_id = crash.report_id
    report.computer = log.computer
    report.boot_time = crash.boot_before
    report.os = _os_at(m, crash.logged)
    if crash.code and len(crash.args) == 4 and any(a > 0xFFFF for a in crash.args):
        # The same key a dump or a WinDbg log of this crash carries: the
        # dump then stands for it, and this log adds the timeline.
        report.identity = (str(("bugcheck", crash.code, tuple(crash.args))),)
    return report


def _findings(crash: Crash) -> Findings:
    """An event log names no module, except through Windows Error
    Reporting's failure bucket, which Microsoft's analysis of the crash
    computed: that is a claim of the report's, never the verdict."""
    findings = Findings()
    module = msg.bucket_module(crash.bucket)
    if module and crash.bucket:
        findings.claims.append(Claim(by=Claimant.TOOL, name=module[:120], tool=WER,
                                     quote=f"{WER}: failure bucket {crash.bucket}"))
    return findings


WER = "Windows Error Reporting"


def changes_before(log: MachineLog, days: int = 7) -> list[Install | Update]:
    """Drivers, services and updates installed (or failing to install) in
    the ``days`` before the first blue screen, oldest first."""
    if not log.crashes:
        return []
    first = min((c.logged for c in log.crashes if c.logged), default=None)
    # The boot that logged the first crash: minutes after it, and on the
    # same clock as the installs (a 6008's last-alive time is local).
    when = parse_iso(first)
    if when is None:
        return []
    start = when - timedelta(days=days)
    found: list[Install | Update] = []
    candidates: list[Install | Update] = [*log.installs, *(u for u in log.updates if u.status != "started")]
    for item in candidates:
        t = parse_iso(item.time)
        if t is not None and (t.tzinfo is None) == (when.tzinfo is None) and start <= t <= when:
            found.append(item)
    return sorted(found, key=lambda i: i.time or "")
