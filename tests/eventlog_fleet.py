"""A crashing machine's event log, written in every shape customers send
(tests/fixtures/eventlog/crash_*), from Microsoft's documented message
templates and event schemas; see tests/fixtures/eventlog/README.md.

DESKTOP-1N4R894, Windows 10 1803 (17134) -- the seed case's build: the
AsiaInfo/Trend Micro drivers TmXPFlt and VSApiNt installed on 2018-07-12,
KB4338819 on 07-13, then six blue screens in 19 days (0x1A, 0x139, 0x50)
and two unexpected shutdowns with no bug check.

    python -m tests.eventlog_fleet --write    # rewrite the fixtures"""

from __future__ import annotations

import csv
import io
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "eventlog"
COMPUTER = "DESKTOP-1N4R894"
LOCAL = timedelta(hours=8)  # the machine's clock (China Standard Time)

# (boot time UTC, code, args) -- code 0: power lost / hang, no bug check
CRASHES = [
    ("2018-07-14T01:02:10", 0x1A, (0x41790, 0xFFFFE50000123450, 0xFFFF, 0x0)),
    ("2018-07-17T06:40:00", 0x139, (0x3, 0xFFFF9A81C8F6E9B0, 0xFFFF9A81C8F6E908, 0x0)),
    ("2018-07-20T02:15:30", 0x1A, (0x61941, 0x1E3A1C0C000, 0xD, 0xFFFFD18E2B76FB00)),
    ("2018-07-22T08:00:00", 0, (0, 0, 0, 0)),
    ("2018-07-24T03:30:00", 0x50, (0xFFFFF80C1B2E0000, 0x0, 0xFFFFF80C1A9B1234, 0x2)),
    ("2018-07-28T05:05:05", 0x139, (0x3, 0xFFFF9A81C9000000, 0xFFFF9A81C8FFFF00, 0x0)),
    ("2018-07-30T09:45:00", 0, (0, 0, 0, 0)),
    ("2018-08-01T00:20:00", 0x1A, (0x41792, 0xFFFFF6FB7DBED000, 0x8000, 0x0)),
]
EXPECTED_CODES = [0x1A, 0x139, 0x50]
INSTALLS = [
    ("2018-07-12T02:10:00", "TmXPFlt", r"\SystemRoot\system32\DRIVERS\TmXPFlt.sys", "boot start"),
    ("2018-07-12T02:10:05", "VSApiNt", r"\SystemRoot\system32\DRIVERS\VSApiNt.sys", "system start"),
]
UPDATES = [
    ("2018-07-13T03:00:00", 19, "2018-07 Cumulative Update for Windows 10 Version 1803 for x64-based Systems (KB4338819)"),
    ("2018-07-13T03:00:10", 20, "Security Update for Adobe Flash Player for Windows 10 Version 1803 (KB4338832)"),
]

PROVIDERS = {
    "bugcheck": ("Microsoft-Windows-WER-SystemErrorReporting", "{ABCE23E7-DE45-4366-8631-84FA6C525952}", "BugCheck"),
    "power": ("Microsoft-Windows-Kernel-Power", "{331C3B3A-2005-44C2-AC5E-77220C37D6B4}", "Kernel-Power"),
    "general": ("Microsoft-Windows-Kernel-General", "{A68CA8B7-004F-D7B6-A698-07E2DE0F1F5D}", "Kernel-General"),
    "eventlog": ("EventLog", None, "EventLog"),
    "scm": ("Service Control Manager", "{555908d1-a6d7-4695-8e1e-26931d2012f4}", "Service Control Manager"),
    "wu": ("Microsoft-Windows-WindowsUpdateClient", "{945A8954-C147-4ACD-923F-40C45405A658}", "WindowsUpdateClient"),
}

MESSAGES = {
    "en": {
        1001: "The computer has rebooted from a bugcheck.  The bugcheck was: {code} ({args}). A dump was saved in: C:\\Windows\\MEMORY.DMP. Report Id: {rid}.",
        41: "The system has rebooted without cleanly shutting down first. This error could be caused if the system stopped responding, crashed, or lost power unexpectedly.",
        6008: "The previous system shutdown at {time} on {date} was unexpected.",
        6005: "The Event log service was started.",
        6009: "Microsoft (R) Windows (R) 10.00. 17134  Multiprocessor Free.",
        12: "The operating system started at system time {utc}.",
        7045: "A service was installed in the system.\n\nService Name:  {name}\nService File Name:  {path}\nService Type:  kernel mode driver\nService Start Type:  {start}\nService Account:  ",
        19: "Installation Successful: Windows successfully installed the following update: {title}",
        20: "Installation Failure: Windows failed to install the following update with error 0x80070643: {title}",
    },
    "zh": {
        1001: "计算机已经从检测错误后重新启动。检测错误: {code} ({args})。已将转储的数据保存在: C:\\Windows\\MEMORY.DMP。报告 Id: {rid}。",
        41: "系统已在未先正常关机的情况下重新启动。如果系统停止响应、发生崩溃或意外断电，则可能会导致此错误。",
        6008: "上一次系统的 {time} 在 {date} 上的关闭是意外的。",
        6005: "事件日志服务已启动。",
        6009: "Microsoft (R) Windows (R) 10.00. 17134  Multiprocessor Free.",
        12: "操作系统已在系统时间 {utc} 启动。",
        7045: "系统中安装了一个服务。\n\n服务名称:  {name}\n服务文件名:  {path}\n服务类型:  内核模式驱动程序\n服务启动类型:  {start}\n服务帐户:  ",
        19: "安装成功: Windows 已成功安装以下更新: {title}",
        20: "安装失败: Windows 无法安装以下更新，错误为 0x80070643: {title}",
    },
    "de": {
        1001: "Der Computer wurde nach einem schwerwiegenden Fehler neu gestartet. Der Fehlercode war: {code} ({args}). Ein Speicherabbild wurde gespeichert in: C:\\Windows\\MEMORY.DMP. Berichts-ID: {rid}.",
        41: "Das System wurde neu gestartet, ohne dass es zuvor ordnungsgemäß heruntergefahren wurde. Dieser Fehler kann auftreten, wenn das System nicht mehr reagiert hat, abgestürzt ist oder unerwartet von der Stromversorgung getrennt wurde.",
        6008: "Das System wurde zuvor am {date} um {time} unerwartet heruntergefahren.",
        6005: "Der Ereignisprotokolldienst wurde gestartet.",
        6009: "Microsoft (R) Windows (R) 10.00. 17134  Multiprocessor Free.",
        12: "Das Betriebssystem wurde zur Systemzeit {utc} gestartet.",
        7045: "Ein Dienst wurde im System installiert.\n\nDienstname:  {name}\nDienstdateiname:  {path}\nDiensttyp:  Kernelmodustreiber\nDienststarttyp:  {start}\nDienstkonto:  ",
        19: "Installation erfolgreich: Windows hat das folgende Update erfolgreich installiert: {title}",
        20: "Installationsfehler: Windows konnte das folgende Update nicht installieren. Fehler 0x80070643: {title}",
    },
}
LEVEL_WORDS = {"en": {1: "Critical", 2: "Error", 4: "Information"}, "zh": {1: "关键", 2: "错误", 4: "信息"},
               "de": {1: "Kritisch", 2: "Fehler", 4: "Informationen"}}


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def events() -> list[dict]:
    """Every event of the log, oldest first: provider, id, time (UTC), level, data, message params."""
    out: list[dict] = []
    record = 1000

    def add(kind: str, eid: int, when: datetime, level: int, data: list[tuple[str | None, str]], **params) -> None:
        nonlocal record
        record += 1
        out.append({"kind": kind, "id": eid, "time": when, "level": level, "data": data, "params": params,
                    "record": record})

    def boot(when: datetime) -> None:
        add("general", 12, when, 4, [("MajorVersion", "10"), ("MinorVersion", "0"), ("BuildVersion", "17134"),
                                     ("QfeVersion", "165"), ("StartTime", when.isoformat() + ".4858170Z")],
            utc=when.isoformat() + ".485817000Z")
        add("eventlog", 6009, when + timedelta(seconds=40), 4,
            [(None, "10.00."), (None, "17134"), (None, ""), (None, "Multiprocessor Free"), (None, "165")])
        add("eventlog", 6005, when + timedelta(seconds=40), 4, [])

    boot(_t("2018-07-10T01:00:00"))
    for when, name, path, start in INSTALLS:
        add("scm", 7045, _t(when), 4, [("ServiceName", name), ("ImagePath", path), ("ServiceType", "kernel mode driver"),
                                       ("StartType", start), ("AccountName", "")], name=name, path=path, start=start)
    for when, eid, title in UPDATES:
        data = [("updateTitle", title), ("updateGuid", "2A7D0F6C-1B77-4C3B-9E51-7A0A1C2B3D4E"),
                ("updateRevisionNumber", "1")]
        if eid == 20:
            data.insert(0, ("errorCode", "0x80070643"))
        add("wu", eid, _t(when), 2 if eid == 20 else 4, data, title=title)
    for n, (when, code, args) in enumerate(CRASHES, 1):
        start = _t(when)
        alive = start - timedelta(minutes=7) + LOCAL
        boot(start)
        add("power", 41, start + timedelta(seconds=2), 1,
            [("BugcheckCode", str(code)), *((f"BugcheckParameter{i}", hex(a)) for i, a in enumerate(args, 1)),
             ("SleepInProgress", "0"), ("PowerButtonTimestamp", "0")])
        add("eventlog", 6008, start + timedelta(seconds=40), 2,
            [(None, alive.strftime("%H:%M:%S")), (None, f"{alive.year}/{alive.month}/{alive.day}"), (None, ""),
             (None, ""), (None, "73")], alive=alive)
        if code:
            rid = f"{n:08x}-7a1c-4b2e-9d3f-0a1b2c3d4e5f"
            text = "0x%08x (%s)" % (code, ", ".join("0x%016x" % a for a in args))
            add("bugcheck", 1001, start + timedelta(seconds=95), 2,
                [("param1", text), ("param2", "C:\\Windows\\MEMORY.DMP"), ("param3", rid)],
                code="0x%08x" % code, args=", ".join("0x%016x" % a for a in args), rid=rid)
    return out


def message(e: dict, lang: str) -> str:
    template = MESSAGES[lang][e["id"]]
    p = dict(e["params"])
    if e["id"] == 6008:
        alive: datetime = p["alive"]
        p["time"] = {"en": alive.strftime("%I:%M:%S %p").lstrip("0"), "zh": alive.strftime("%H:%M:%S"),
                     "de": alive.strftime("%H:%M:%S")}[lang]
        p["date"] = {"en": f"\u200e{alive.month}/\u200e{alive.day}/\u200e{alive.year}",
                     "zh": f"\u200e{alive.year}/\u200e{alive.month}/\u200e{alive.day}",
                     "de": f"\u200e{alive.day:02d}.\u200e{alive.month:02d}.\u200e{alive.year}"}[lang]
    return template.format(**p)


def local(when: datetime, lang: str) -> str:
    t = when + LOCAL
    if lang == "en":
        return f"{t.month}/{t.day}/{t.year} {t.strftime('%I:%M:%S %p').lstrip('0')}"
    if lang == "zh":
        return f"{t.year}/{t.month}/{t.day} {t.strftime('%H:%M:%S')}"
    return t.strftime("%d.%m.%Y %H:%M:%S")


def _event_xml(e: dict, rendering: str | None, indent: str = "") -> str:
    name, guid, _ = PROVIDERS[e["kind"]]
    guid_attr = f' Guid="{guid}"' if guid else ""
    qualifiers = ' Qualifiers="32768"' if e["kind"] == "eventlog" else (' Qualifiers="16384"' if e["kind"] == "scm" else "")
    data = "".join(f'<Data Name="{escape(k)}">{escape(v)}</Data>' if k else f"<Data>{escape(v)}</Data>"
                   for k, v in e["data"])
    xml = (f'<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="{name}"{guid_attr} />'
           f'<EventID{qualifiers}>{e["id"]}</EventID><Version>0</Version><Level>{e["level"]}</Level><Task>0</Task>'
           f'<Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords>'
           f'<TimeCreated SystemTime="{e["time"].isoformat()}.{e["record"] % 1000:03d}000000Z" />'
           f'<EventRecordID>{e["record"]}</EventRecordID><Correlation /><Execution ProcessID="4" ThreadID="8" />'
           f'<Channel>System</Channel><Computer>{COMPUTER}</Computer><Security UserID="S-1-5-18" /></System>'
           f'<EventData>{data}</EventData>')
    if rendering is not None:
        level = LEVEL_WORDS["en"][e["level"]]
        xml += (f'<RenderingInfo Culture="en-US"><Message>{escape(rendering)}</Message><Level>{level}</Level>'
                f'<Task></Task><Opcode>Info</Opcode><Channel>System</Channel><Provider>{PROVIDERS[e["kind"]][2]}</Provider>'
                f'</RenderingInfo>')
    return indent + xml + "</Event>"


def saved_xml() -> str:
    """Event Viewer, Save Selected Events..., XML."""
    body = "".join(_event_xml(e, message(e, "en")) for e in events())
    return '<?xml version="1.0" encoding="utf-8" standalone="yes"?>\r\n<Events>' + body + "</Events>"


def wevtutil_xml() -> str:
    """wevtutil qe System /f:xml: one event per line, no root."""
    return "".join(_event_xml(e, None) + "\r\n" for e in events())


def _labelled_block(e: dict, lang: str, labels: dict[str, str], width: int) -> str:
    name, _, source = PROVIDERS[e["kind"]]
    rows = [
        (labels["log"], "System"), (labels["source"], name), (labels["date"], local(e["time"], lang)),
        (labels["id"], str(e["id"])), (labels["task"], "None" if lang == "en" else "无" if lang == "zh" else "Keine"),
        (labels["level"], LEVEL_WORDS[lang][e["level"]]), (labels["keywords"], "Classic"), (labels["user"], "SYSTEM"),
        (labels["computer"], COMPUTER),
    ]
    text = "".join(f"{(label + ':').ljust(width)}{value}\r\n" for label, value in rows)
    return text + f"{labels['description']}:\r\n" + message(e, lang).replace("\n", "\r\n") + "\r\n"


GENERAL = {
    "en": dict(log="Log Name", source="Source", date="Date", id="Event ID", task="Task Category", level="Level",
               keywords="Keywords", user="User", computer="Computer", description="Description"),
    "zh": dict(log="日志名称", source="来源", date="日期", id="事件 ID", task="任务类别", level="级别",
               keywords="关键字", user="用户", computer="计算机", description="描述"),
    "de": dict(log="Protokollname", source="Quelle", date="Datum", id="Ereignis-ID", task="Aufgabenkategorie",
               level="Ebene", keywords="Schlüsselwörter", user="Benutzer", computer="Computer",
               description="Beschreibung"),
}


def general_text(lang: str) -> str:
    """The General pane of each event, copied one after another."""
    return "\r\n".join(_labelled_block(e, lang, GENERAL[lang], 15) for e in events())


def wevtutil_text(lang: str) -> str:
    """wevtutil qe System /f:text (labels in English; the message in the machine's language)."""
    out = []
    for i, e in enumerate(events()):
        name = PROVIDERS[e["kind"]][0]
        stamp = (e["time"] + LOCAL).isoformat() + ".000"
        out.append(f"Event[{i}]:\r\n  Log Name: System\r\n  Source: {name}\r\n  Date: {stamp}\r\n  Event ID: {e['id']}\r\n"
                   f"  Task: N/A\r\n  Level: {LEVEL_WORDS['en'][e['level']]}\r\n  Opcode: Info\r\n  Keyword: Classic\r\n"
                   f"  User: S-1-5-18\r\n  User Name: NT AUTHORITY\\SYSTEM\r\n  Computer: {COMPUTER}\r\n  Description: \r\n"
                   + message(e, lang).replace("\n", "\r\n") + "\r\n")
    return "\r\n".join(out)


def format_list() -> str:
    """Get-WinEvent -LogName System | Format-List (TimeCreated, ProviderName, Id, Message)."""
    out = []
    for e in reversed(events()):
        wrapped: list[str] = []
        for line in message(e, "en").split("\n"):
            # Format-List wraps the value at the console's width, between words.
            wrapped += textwrap.wrap(line, 100, break_long_words=False) or [""]
        body = ("\r\n" + " " * 15).join(wrapped)
        out.append(f"TimeCreated  : {local(e['time'], 'en')}\r\nProviderName : {PROVIDERS[e['kind']][0]}\r\n"
                   f"Id           : {e['id']}\r\nMessage      : {body}\r\n")
    return "\r\n\r\n" + "\r\n".join(out) + "\r\n\r\n"


CSV_HEADER = {"en": ["Level", "Date and Time", "Source", "Event ID", "Task Category"],
              "zh": ["级别", "日期和时间", "来源", "事件 ID", "任务类别"],
              "de": ["Ebene", "Datum und Uhrzeit", "Quelle", "Ereignis-ID", "Aufgabenkategorie"]}


def eventviewer_csv(lang: str) -> str:
    """Event Viewer, Save All Events As..., CSV: five titled columns and the message in a sixth."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER[lang])
    for e in reversed(events()):
        w.writerow([LEVEL_WORDS[lang][e["level"]], local(e["time"], lang), PROVIDERS[e["kind"]][2], e["id"],
                    "None" if lang == "en" else "无" if lang == "zh" else "Keine", message(e, lang)])
    return buf.getvalue()


def export_csv() -> str:
    """Get-WinEvent -LogName System | Export-Csv (Windows PowerShell 5.1)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    buf.write("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n")
    w.writerow(["Message", "Id", "Version", "Qualifiers", "Level", "Task", "Opcode", "Keywords", "RecordId",
                "ProviderName", "ProviderId", "LogName", "ProcessId", "ThreadId", "MachineName", "UserId",
                "TimeCreated", "LevelDisplayName", "Properties"])
    for e in reversed(events()):
        name, guid, _ = PROVIDERS[e["kind"]]
        w.writerow([message(e, "en"), e["id"], "0", "", e["level"], "0", "0", "-9223372036854775808", e["record"],
                    name, (guid or "").strip("{}"), "System", "4", "8", COMPUTER, "S-1-5-18", local(e["time"], "en"),
                    LEVEL_WORDS["en"][e["level"]],
                    "System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]"])
    return buf.getvalue()


SHAPES = {
    "crash_saved_events.xml": (saved_xml, "utf-8"),
    "crash_wevtutil.xml": (wevtutil_xml, "utf-8"),
    "crash_wevtutil_text_zh.txt": (lambda: wevtutil_text("zh"), "utf-16"),
    "crash_general_en.txt": (lambda: general_text("en"), "utf-8"),
    "crash_general_zh.txt": (lambda: general_text("zh"), "gb18030"),
    "crash_general_de.txt": (lambda: general_text("de"), "cp1252"),
    "crash_format_list.txt": (format_list, "utf-16"),
    "crash_eventviewer_en.csv": (lambda: eventviewer_csv("en"), "utf-8-sig"),
    "crash_eventviewer_zh.csv": (lambda: eventviewer_csv("zh"), "utf-8-sig"),
    "crash_eventviewer_de.csv": (lambda: eventviewer_csv("de"), "utf-8-sig"),
    "crash_export_csv.csv": (export_csv, "utf-8"),
}


def write() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (make, encoding) in SHAPES.items():
        text = make()
        if encoding == "cp1252":
            text = text.replace("\u200e", "")  # cp1252 has no left-to-right mark
        (OUT / name).write_bytes(text.encode(encoding))
        print("wrote", name)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        print(__doc__)
        sys.exit(2)
    write()
