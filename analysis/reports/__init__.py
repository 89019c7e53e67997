"""Readers of the crash evidence that is not debugger output: the blue
screen itself, BlueScreenView, WhoCrashed, dump headers (dumpchk,
Volatility) and installed-software listings (driverquery, systeminfo,
msinfo32).  Each is a function from decoded text to a ``Reading``, or None
when the text is not its shape; each rejects on literal marks before any
pattern runs.  None decides a culprit."""

from __future__ import annotations

from collections.abc import Callable

from analysis.eventlog.message_paste import read_message_paste
from analysis.findings import Reading
from analysis.reports.bluescreen import read_blue_screen
from analysis.reports.bluescreenview import read_bluescreenview
from analysis.reports.common import forget
from analysis.reports.dumpheader import read_dump_header
from analysis.reports.inventory import Inventory, InstalledDriver, XmlRefused, read_driverquery, read_msinfo, read_systeminfo
from analysis.reports.whocrashed import read_whocrashed

__all__ = ["READERS", "read_reports", "Inventory", "InstalledDriver", "XmlRefused"]

Reader = Callable[[str, str], Reading | None]

# Tool reports before the screen: a WhoCrashed or BlueScreenView report
# quotes the bug check name the way a screen shows it.
READERS: tuple[Reader, ...] = (
    read_bluescreenview, read_whocrashed, read_dump_header, read_driverquery, read_systeminfo, read_msinfo,
    read_message_paste,  # an event's message pasted without its event
)


def read_reports(text: str, source: str) -> list[Reading]:
    """Every reading the report readers make of one text.  The stop screen
    is read only when no crash report is there: a tool's report names the
    bug check the way the screen does and would count it twice."""
    try:
        readings = [r for r in (reader(text, source) for reader in READERS) if r is not None]
        if not any(r.crashes for r in readings):
            screen = read_blue_screen(text, source)
            if screen is not None:
                readings.append(screen)
    finally:
        forget()  # the lines and the folded copy the readers shared
    return readings
