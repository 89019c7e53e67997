"""What one machine's event log says around its crashes: the record an
event log adds to a case (``Reading.context``), and from which the case
says "6 blue screens in 19 days, 3 different bug checks" and what changed
before the first one.

Every list is capped (``MAX_ITEMS``); ``counts`` keeps the true totals, so
a log of a million update events still costs a bounded record."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.model import OsInfo

MAX_ITEMS = 500


@dataclass(slots=True)
class Crash:
    """One blue screen: the events one boot wrote about it."""

    logged: str | None  # time of its first event (the boot after the crash)
    code: int | None
    args: list[int] = field(default_factory=list)
    dump: str | None = None
    report_id: str | None = None
    last_alive: str | None = None  # 6008: when the machine was last seen running (its own clock)
    sources: list[str] = field(default_factory=list)  # "BugCheck 1001", "Kernel-Power 41", "EventLog 6008"
    records: list[int] = field(default_factory=list)
    boot_before: str | None = None  # the start of the session that crashed
    bucket: str | None = None  # Windows Error Reporting's failure bucket ("0x3B_lxcore!Lxp...")


@dataclass(slots=True)
class Shutdown:
    """An unexpected shutdown with no bug check recorded: Kernel-Power 41
    with BugcheckCode 0 and/or EventLog 6008 alone.  Power was lost or the
    machine stopped responding; no dump was written."""

    logged: str | None
    last_alive: str | None = None
    sources: list[str] = field(default_factory=list)
    power_button: bool = False  # 41's PowerButtonTimestamp: someone held the power button


@dataclass(slots=True)
class Install:
    time: str | None
    name: str
    image_path: str | None = None
    service_type: str | None = None
    start_type: str | None = None

    @property
    def driver(self) -> bool:
        kind = (self.service_type or "").lower()
        return "driver" in kind or "驱动" in kind or "treiber" in kind


@dataclass(slots=True)
class FailedDrivers:
    time: str | None
    names: list[str]


@dataclass(slots=True)
class Update:
    time: str | None
    title: str
    kbs: list[str]
    status: str  # installed | failed | started
    error: str | None = None


@dataclass(slots=True)
class Hardware:
    """A WHEA-Logger error (the CPU, memory or a bus reported it) or a
    display driver timeout (Display 4101, TDR)."""

    time: str | None
    provider: str  # "WHEA-Logger" | "Display"
    event_id: int
    fatal: bool
    component: str | None = None
    error_source: str | None = None
    driver: str | None = None  # TDR: the display driver that stopped responding


@dataclass(slots=True)
class AppCrash:
    time: str | None
    kind: str  # crash (Application Error 1000) | hang (Application Hang 1002) | report (WER 1001)
    app: str | None
    app_version: str | None = None
    module: str | None = None
    module_version: str | None = None
    exception_code: int | None = None
    offset: str | None = None
    app_path: str | None = None
    module_path: str | None = None
    report_id: str | None = None
    event_name: str | None = None  # WER: APPCRASH, AppHangB1, LiveKernelEvent...


@dataclass
class MachineLog:
    computer: str | None
    aliases: list[str] = field(default_factory=list)  # earlier names of the same machine in this log
    source: str = ""  # the input it was read from
    first_event: str | None = None
    last_event: str | None = None
    records: int = 0
    local_times: bool = False  # times are the machine's clock (text/CSV export), not UTC
    builds: list[int] = field(default_factory=list)  # OS builds seen, oldest first
    os: OsInfo = field(default_factory=OsInfo)  # the latest
    boots: list[str] = field(default_factory=list)
    crashes: list[Crash] = field(default_factory=list)
    shutdowns: list[Shutdown] = field(default_factory=list)
    hardware: list[Hardware] = field(default_factory=list)
    installs: list[Install] = field(default_factory=list)
    failed_drivers: list[FailedDrivers] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    app_crashes: list[AppCrash] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # true totals of every capped list
    notes: list[str] = field(default_factory=list)  # truncated, unreadable_chunk, ...

    def add(self, name: str, item) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1
        items = getattr(self, name)
        if len(items) < MAX_ITEMS:
            items.append(item)

    def total(self, name: str) -> int:
        return self.counts.get(name, len(getattr(self, name)))

    @property
    def codes(self) -> list[int]:
        return list(dict.fromkeys(c.code for c in self.crashes if c.code))
