"""Which machine each piece of evidence came from (issue 11).

A case often mixes machines: the customer's two crashing PCs, an
engineer's test box, an application dump from somewhere else.  A vendor
claim holds for the evidence that shows it, so the case verdict is said per
machine.  A machine is known by its computer name where the evidence gives
one (event logs, BlueScreenView, systeminfo), else by its Windows build and
architecture: two nameless dumps of build 17134 are told as "the 2 dumps
from build 17134", one machine for all the case can tell."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.model import DumpReport, Kind, OsInfo


@dataclass
class Machine:
    key: str  # "name:desktop-1n4r894", "build:17134/x64", "unknown"
    name: str | None  # the computer name, as the evidence spells it
    os: OsInfo
    dumps: list[int] = field(default_factory=list)  # indices into the case's dumps, in order

    def label(self) -> str:
        return self.name or (f"build {self.os.build}" if self.os.build else "unknown")


def _same_os(a: OsInfo, b: OsInfo) -> bool:
    """Same build, and no contradiction in the architecture."""
    return bool(a.build) and a.build == b.build and (not a.arch or not b.arch or a.arch == b.arch)


def group(dumps: list[DumpReport]) -> list[Machine]:
    """Machines in the order their evidence first appears."""
    machines: dict[str, Machine] = {}
    for d in dumps:
        if d.computer and d.computer.strip():
            key = "name:" + d.computer.strip().lower()
            if key not in machines:
                machines[key] = Machine(key, d.computer.strip(), d.os)
            elif not machines[key].os.build and d.os.build:
                machines[key].os = d.os
    named = list(machines.values())
    # The machines the dumps placed so far of each file are on, in the order
    # the first of each was placed (kept as they are placed: looking back
    # over every earlier dump for each was quadratic in a case's dumps).
    by_source: dict[str, dict[str, Machine]] = {}

    def place(i: int, m: Machine) -> None:
        m.dumps.append(i)
        by_source.setdefault(dumps[i].source, {}).setdefault(m.key, m)

    for i, d in enumerate(dumps):
        if d.computer and d.computer.strip():
            place(i, machines["name:" + d.computer.strip().lower()])
            continue
        # The only named machine of that build: the nameless dump is its.
        owners = [m for m in named if _same_os(m.os, d.os)]
        if len(owners) == 1:
            place(i, owners[0])
            continue
        if not d.os.build:
            # A dump that does not say its build, told in the same file as
            # others that do (a support thread about one fleet): theirs.
            siblings = by_source.get(d.source, {})
            if len(siblings) == 1:
                place(i, next(iter(siblings.values())))
                continue
            key = "unknown"
        else:
            alike = [m for m in machines.values() if m.name is None and _same_os(m.os, d.os)]
            key = alike[0].key if len(alike) == 1 else f"build:{d.os.build}/{d.os.arch or '?'}"
        if key not in machines:
            machines[key] = Machine(key, None, d.os)
        elif not machines[key].os.arch and d.os.arch:
            machines[key].os = d.os
        place(i, machines[key])
    return [m for m in machines.values() if m.dumps]


def is_blue_screen(d: DumpReport) -> bool:
    return d.kind != Kind.APP_MINIDUMP
