"""The report and event-log readers read only the lines their literal
marks find (issue 14); each is checked here against the straightforward
read of every line that it replaced (kept below as the reference), on
texts mixed from the fixtures' lines and lines made to sit on the marks'
edges: one delimiter short, a mark in another case, a carriage return,
a line past the length the readers cut at."""

from __future__ import annotations

import csv
import re
import random
from pathlib import Path

from analysis.reports import bluescreenview as bsv
from analysis.reports.common import MAX_CRASHES, MAX_LINE, MAX_VALUE, forget, lines

FIXTURES = Path(__file__).resolve().parent / "fixtures"

_EDGES = [
    "a\tb", "a\tb\tc", "\t\t", " \t \t ", "x,y", "x,y,z", ",,", '"a,b",c', '"a\tb"\tc', "Dump File\tCrash Time\tBug Check Code",
    "Dump File,Crash Time,Bug Check String,Bug Check Code", "Filename\tAddress In Stack\tFrom Address\tTo Address",
    "Mini010121-01.dmp\t1/1/2021\tIRQL_NOT_LESS_OR_EQUAL\t0x0000000a\t1\t2\t3\t4\tntoskrnl.exe\tntoskrnl.exe+1",
    "Mini010121-01.dmp,1/1/2021,IRQL_NOT_LESS_OR_EQUAL,0x0000000a,1,2,3,4,ntoskrnl.exe,ntoskrnl.exe+1",
    "MINI.DMP x", "a.dmp 1/1/2021 IRQL_NOT_LESS_OR_EQUAL 0x0000000a 0x1 0x2 0x3 0x4 x.sys x.sys+12", "\r", "a,b\r,c",
    "Bug Check Code : 0x0000000a", "==========", "", "x" * (MAX_LINE - 1) + "\t\t", "y" * (MAX_LINE + 3) + ",a,b",
    "a\tb\r\tc", "Caused By Driver,ntoskrnl.exe,x", "\x85\t\x85\t",
]


def _fixture_lines() -> list[str]:
    out = []
    for path in sorted(FIXTURES.rglob("*.txt")):
        out.extend(path.read_bytes().decode("utf-8", "replace").split("\n"))
    return out


def texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pool = _fixture_lines()
    made = []
    for _ in range(count):
        rows = [rng.choice(_EDGES) if rng.random() < 0.3 else rng.choice(pool) for _ in range(rng.randint(1, 200))]
        ends = rng.choice(["\n", "\r\n", "\n", "\r\r\n"])
        made.append(ends.join(rows) + rng.choice(["", "\n", "\r"]))
    return made


# ------------------------------------------------------------- references

def delimited_every_line(text: str) -> list[dict[str, str]]:
    """bluescreenview._delimited_records as it was: csv.reader on every line."""
    rows = [line for line in lines(text) if line.strip()]
    out: list[dict[str, str]] = []
    header: list[str | None] | None = None
    for line in rows:
        delim = "\t" if "\t" in line else ","
        try:
            cells = next(csv.reader([line], delimiter=delim))
        except (csv.Error, StopIteration):
            continue
        keys = [bsv.label_key(c) for c in cells]
        if sum(k is not None for k in keys) >= 3:
            header = keys
            continue
        if header is not None and len(cells) >= 3:
            out.append({k: v.strip()[:MAX_VALUE] for k, v in zip(header, cells) if k and v.strip()})
        elif bsv._looks_like_row(cells):
            out.append({k: v.strip()[:MAX_VALUE] for k, v in zip(bsv._DEFAULT_COLUMNS, cells) if v.strip()})
        if len(out) >= MAX_CRASHES:
            break
    return out


def flattened_every_line(text: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for line in lines(text):
        if ".dmp" not in line:
            continue
        start = line.find(bsv._HEADER_RUN)
        words = line[start + len(bsv._HEADER_RUN):].split() if start >= 0 else line.split()
        at = next((i for i, w in enumerate(words) if w.lower().endswith(".dmp")), None)
        if at is None:
            continue
        record = bsv._flattened(words[at:])
        if record:
            out.append(record)
        if len(out) >= MAX_CRASHES:
            break
    return out


def lines_every_line(text: str) -> list[str]:
    rows = text.split("\n")
    if rows and max(map(len, rows)) > MAX_LINE:
        return [line[:MAX_LINE].rstrip("\r") for line in rows]
    return [line.rstrip("\r") for line in rows]


# ------------------------------------------------------------------ tests

def test_lines_by_c_calls_are_the_lines_cut_one_by_one() -> None:
    for text in texts(300, 1) + ["a\r", "\r\r\n", "a\r\r", "\r", "", "x" * MAX_LINE + "\r\nb", "x" * MAX_LINE + "\r"]:
        forget()
        assert lines(text) == lines_every_line(text), text[:200]


def test_bluescreenview_delimited_rows_read_only_where_two_delimiters_are() -> None:
    for text in texts(400, 2):
        forget()
        assert bsv._delimited_records(text) == delimited_every_line(text), text[:200]


def test_bluescreenview_lines_with_one_delimiter_each_are_passed_over_without_a_call_each() -> None:
    """Lines with one tab and one comma (prose, a two-column list) are no
    delimited row: the scan for the lines that may be one passes over them
    in C, the calls it makes (counted by a profile hook, which sees calls
    into C too) do not grow with them.  One str.find and two str.count a
    line made 4 MB of them cost 1.7 s where the pattern of 1c147f6 took 0.26 s."""
    import sys

    text = "Caused By Driver\n" + "a\tb, c\n" * 20_000 + "x\ty\tz\n" + "d, e\tf\n" * 20_000 + "1,2,3"
    calls = 0

    def count(frame, event, arg) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        found = list(bsv._delimited_lines(text))
    finally:
        sys.setprofile(None)
    assert found == ["x\ty\tz", "1,2,3"]
    assert calls < 100, calls


def test_bluescreenview_flattened_rows_read_only_where_a_dump_is_named() -> None:
    for text in texts(400, 3):
        forget()
        assert bsv._flattened_records(text) == flattened_every_line(text), text[:200]


# ------------------------------------------------------- event-log exports

from analysis.eventlog import text_export as tx  # noqa: E402
from analysis.eventlog.event import MAX_MESSAGE, Event, LocalTimes, bounded, level_of, set_field, utc_iso  # noqa: E402
from analysis.eventlog.event import lines_of  # noqa: E402


def text_every_line(pieces, head: str):
    """text_export.read_text as it was: every line through the labels' test."""
    times = LocalTimes(head)
    format_list = tx._is_format_list(head)
    current = None
    for line in lines_of(pieces, tx.MAX_LINE):
        stripped = line.strip()
        if stripped.startswith("Event[") and stripped.endswith("]:"):
            if current:
                yield from tx._finish(current, times)
            current = tx._Record()
            continue
        found = tx._label(line)
        key = None
        if found:
            label, value, indent = found
            key = (tx.FORMAT_LIST.get(label) if indent == 0 else None) if format_list else tx.LABELS.get(label)
        if current is not None and current.mode == "message" and key is not None and not format_list:
            if key not in ("log", "xml") and not (key == "source" and current.fields.get("source")):
                key = None
        if current is not None and current.mode == "xml" and key != "log":
            if len(current.xml) < tx.MAX_XML_LINES:
                current.xml.append(line)
            continue
        if key is None:
            if current is not None and current.mode == "message" and current.size < MAX_MESSAGE:
                kept = line.strip() if format_list else line.rstrip()
                current.message.append(kept)
                current.size += len(kept)
            continue
        if key == "":
            if current is not None:
                current.mode = ""
            continue
        if current is None or key == "log" or key in current.fields or (key == "message" and current.message):
            if current:
                yield from tx._finish(current, times)
            current = tx._Record()
        if key == "message":
            current.mode = "message"
            current.fields["message"] = ""
            if value:
                current.message.append(value)
                current.size += len(value)
        elif key == "xml":
            current.mode = "xml"
        else:
            current.mode = ""
            current.fields[key] = bounded(value, 512)
    if current:
        yield from tx._finish(current, times)


def friendly_every_line(pieces):
    event = None
    section = ""
    for line in lines_of(pieces, tx.MAX_LINE):
        text = line.strip().lstrip("-+ ").strip()
        if not text:
            continue
        if text == "System" or (text.startswith(("Event ID:", "Event ID ")) and (event is None or event.event_id >= 0)):
            if event and event.event_id >= 0:
                yield tx._kernel_power(event)
            event = Event(provider="", event_id=-1)
            section = "System"
            if text == "System":
                continue
            text = "EventID " + text[9:].strip()
        if event is None:
            continue
        if text in ("EventData", "UserData"):
            section = "EventData"
            continue
        if text.startswith("["):
            name, _, value = text[1:].partition("]")
            name, value = name.strip(), value.strip()
            if name == "Name" and not event.provider:
                event.provider = bounded(value, 256)
            elif name == "SystemTime":
                event.time = utc_iso(value)
            continue
        name, _, value = text.partition(" ")
        value = value.strip()
        if section == "EventData":
            if name.isidentifier():
                set_field(event.data, name, value)
        elif name == "EventID" and value.split()[:1] and value.split()[0].isdigit():
            event.event_id = int(value.split()[0])
        elif name == "EventRecordID" and value.isdigit():
            event.record_id = int(value)
        elif name == "Computer":
            event.computer = bounded(value, 256) or None
        elif name == "Channel":
            event.channel = bounded(value, 256) or None
        elif name == "Level":
            event.level = level_of(value)
    if event and event.event_id >= 0:
        yield tx._kernel_power(event)


_EVENT_EDGES = [
    "Event[0]:", "  Event[12]:", "event[1]:", "Log Name: System", "  Log Name:      System", "LOG NAME: System",
    "Source: Microsoft-Windows-Kernel-Power", "Event ID: 41", "Event  ID: 41", "事件 ID: 1001", "事件 ID：41",
    "Description:", "Description: The system has rebooted", "Event Xml:", "<Event xmlns=\"x\"><System>", "</Event>",
    "Level: Critical", "\u212aeywords: 0x8000", "SCHLÜSSELWÖRTER: x", "Id : 41", "TimeCreated : 7/12/2018 10:15:02 AM",
    "ProviderName : Microsoft-Windows-Kernel-Power", "Message : The system has rebooted", "   Message : indented",
    "Service Name: x", "Date: 2018-07-12T10:15:02.123", "Time: 10:15", ":Log Name: x", "- System", "+ System",
    "System", "  - EventData", "UserData", "[ Name]  Microsoft-Windows-Kernel-Power", "[ SystemTime] 2021-01-01T00:00:00.1Z",
    "EventID 41", "EventRecordID 77", "Computer PC-1", "Channel System", "Level 1", "BugcheckCode 159",
    "BugcheckParameter1 0x3", "Event ID: 41", "Event ID 1001", "x" * 9000, "", "   ", "\t-+ System",
    # the edges of the data lines' test: a first word cut at the line's bound, or after it the blanks it cuts
    "y" * (tx.MAX_LINE + 5) + ":", "z" * (tx.MAX_LINE - 3) + ":", "Cut" + "\t" * tx.MAX_LINE + ":x", " Tab\tx",
    "_under 1", "9digit 1", "Value: 1", "\u2118x 1", "  - Fieldé 1", "Wide\u3000x", "End\u3000", "-\t-Dash 1",
    "Computer: PC-1", "Computer", "Level:", "Channel\tSystem", "UserData2", "System Uptime: 1", "Level  ",
    " " * (tx.MAX_LINE - 8) + "Computer:x", " " * (tx.MAX_LINE - 6) + "System\t:", "- Computer PC-2",
] + [f"Field{i} {i}" for i in range(70)] + [f"  Field{i} again" for i in range(0, 70, 3)]


def _event_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pool = [line for path in sorted((FIXTURES / "eventlog").glob("*.txt"))
            for line in path.read_bytes().decode("utf-8", "replace").split("\n")] + _fixture_lines()[:3000]
    made = []
    for _ in range(count):
        rows = [rng.choice(_EVENT_EDGES) if rng.random() < 0.4 else rng.choice(pool)
                for _ in range(rng.choice([5, 50, 400, 2000]))]
        made.append(rng.choice(["\n", "\r\n"]).join(rows))
    return made


def _pieces(text: str, rng: random.Random) -> list[str]:
    cuts = sorted(rng.randint(0, len(text)) for _ in range(rng.randint(0, 6)))
    return [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]


def test_event_text_export_read_on_its_label_lines_only() -> None:
    rng = random.Random(4)
    for text in _event_texts(250, 5):
        head = text[:65536]
        assert list(tx.read_text(_pieces(text, rng), head)) == list(text_every_line([text], head)), text[:300]


def test_format_list_settled_on_the_first_lines_as_on_all() -> None:
    def every_line(head: str) -> bool:  # _is_format_list as it was: all 64 KB split, each label line tried
        for line in head[:65536].splitlines():
            found = tx._label(line) if tx._TEXT_LINE.match("\n" + line) else None
            if found and found[2] == 0:
                return found[0] in tx.FORMAT_LIST and " :" in line[:40] and found[0] not in tx.LABELS
        return False

    for text in _event_texts(150, 17):
        for variant in (text, "x\n" * 70 + text, "  Log Name: x\n" * 80 + text, "\u2028" * 63 + "\rId : 1\n" + text):
            assert tx._is_format_list(variant) == every_line(variant), variant[:300]


def test_event_friendly_view_read_on_its_marked_lines_only() -> None:
    rng = random.Random(6)
    full = "\n".join(["- System", "EventID 41", "- EventData"] + [f"Field{i} {i}" for i in range(70)])
    crafted = [full + "\n  Field5 again\nnoise\n Field69 late\n+ Field7\n- System\nEventID 1\n" + full,
               full + "\nField3:x\nField4\tx\nField2\nField10x 1\nField1\nField12  \n" + " " * (tx.MAX_LINE - 7) + "Field9:"]
    for text in crafted + _event_texts(250, 7):
        assert list(tx.read_friendly(_pieces(text, rng))) == list(friendly_every_line([text])), text[:300]


def test_event_friendly_view_full_data_reads_lines_whose_first_word_starts_many_names() -> None:
    # Once an event's data is full, a line whose first word starts like many
    # of its names (64 names "A" * 65 .. "A" * 128, then "A" * 128 + "-"
    # lines) is read as the every-line reference reads it; what it costs is
    # bench/bench_hostile.py's "friendly names sharing a start" (the names
    # tried one by one, each looking back for a cut: 0.16 s a MB).
    head = "- System\nEventID 41\n- EventData\n" + "".join(f"  {'A' * (65 + k)} 1\n" for k in range(64))
    for tail in ("  " + "A" * 128 + "-\n", "  " + "A" * 97 + " 2\n", "  " + "A" * 129 + "\n"):
        text = head + tail * 50
        assert list(tx.read_friendly([text])) == list(friendly_every_line([text])), tail


def test_lines_in_blocks_are_the_lines_one_by_one() -> None:
    from analysis.eventlog.event import RowWalk, blocks_of, cut_lines

    rng = random.Random(8)
    for text in texts(100, 9) + ["a\rb\r", "x" * 50000, "\r\n" * 3, ""]:
        pieces = _pieces(text, rng)
        rest, expected = "", []
        for piece in pieces:  # lines_of as it was
            rest += piece
            split = rest.split("\n")
            rest = split.pop()
            expected.extend(line[:100].rstrip("\r") for line in split)
            if len(rest) > 400:
                rest = rest[-100:]
        if rest:
            expected.append(rest[:100].rstrip("\r"))
        assert [row for block in blocks_of(pieces, 100) for row in cut_lines(block, 100)] == expected
        walked = []
        for block in blocks_of(pieces, 100):
            walk = RowWalk(block, 100)
            while (line := walk.take()) is not None:
                walked.append(line)
        assert walked == expected


def test_labelled_fields_found_from_their_labels_as_by_the_whole_pattern() -> None:
    from analysis.eventlog import messages

    patterns = [p for p in vars(messages).values() if isinstance(p, re.Pattern) and p.pattern in messages._LABELS_ALONE]
    patterns += [p for d in (messages._SERVICE, messages._APP) for p in d.values()]
    assert len(patterns) >= 12
    rng = random.Random(10)
    bits = ["Faulting application name", "FAULTING MODULE NAME", "Exception code", "Report Id", "报告 ID", "Event Name",
            "Service Name", "Component", "Error Source", "Fault offset", "faulting applıcation name", "Diensttyp",
            ":", "：", " ", "\t", "\n", ",", "，", "x.exe", "0xc0000005", "  ", "\r\n", "abc", "Name der fehlerhaften Anwendung",
            "Problem Event Name", "xProblem Event Name", "Problemereignisname", "BlueScreen", "Nome evento problema"]
    for _ in range(3000):
        text = "".join(rng.choice(bits) for _ in range(rng.randint(1, 30)))
        for pattern in patterns:
            a, b = messages.labelled(pattern, text), pattern.search(text)
            assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups())), (pattern.pattern, text)


def test_pasted_events_cut_out_before_their_tree_markers_go() -> None:
    import html

    from analysis.eventlog import xml_export as xe

    def every_line(text: str) -> str:  # clean_paste as it was: the markers cut from the whole text first
        if xe.looks_escaped(text[:65536]) and len(text) <= xe.MAX_ESCAPED:
            text = html.unescape(text)
        text = xe._TREE_MARKER.sub("", text)
        parts, at = [], 0
        while True:
            start = text.find("<Event", at)
            if start < 0:
                break
            if text.startswith("<Events", start):
                at = start + 7
                continue
            end = text.find("</Event>", start)
            if end < 0:
                break
            parts.append(text[start : end + 8])
            at = end + 8
        return "\n".join(parts)

    rng = random.Random(11)
    bits = ["<Event xmlns='x'>", "</Event>", "<Events>", "<System>", "</System>", "\n", "  - ", "- ", "+ ", " -",
            "\t+\t", "<", "x", "-", " ", "&lt;Event&gt;", "&lt;/Event&gt;", "EventID", "<Data>1</Data>", "\n  -  <"]
    for _ in range(3000):
        text = "".join(rng.choice(bits) for _ in range(rng.randint(1, 40)))
        assert xe.clean_paste(text) == every_line(text), text


def test_marked_rows_within_a_range_are_those_of_the_whole_text_there() -> None:
    from analysis.reports.common import marked_lines, marked_rows

    rng = random.Random(12)
    words = ("error:", "crash dump file:", "company:", "a")
    for text in texts(200, 13):
        low = text.lower()
        starts = [0] + [i + 1 for i, c in enumerate(low) if c == "\n"]
        whole = marked_lines(low, words)
        assert all(starts[r] == at for r, at in whole)
        assert [r for r, _ in whole] == [i for i, line in enumerate(low.split("\n")) if any(w in line for w in words)]
        a, b = sorted(rng.randint(0, len(starts)) for _ in range(2))
        begin, end = (starts + [len(low)])[a], (starts + [len(low)])[b]
        assert marked_lines(low, words, begin, end, a) == [(r, at) for r, at in whole if a <= r < b]
        assert marked_rows(low, words, begin, end, a) == [r for r, _ in whole if a <= r < b]


# Characters that lowering changes in other ways than an ASCII letter's
# (the folded copy lowers only those): a Kelvin sign lowers to "k", a
# dotted I to two characters, the German and other letters stay upper case.
_ODD_CASES = ["\u212a", "\u0130", "Ü", "ẞ", "Ä", "Ö", "Σ", "ﬃ", "\ud83d", "😀", "中"]


def _odd_cased(line: str, rng: random.Random) -> str:
    """``line`` with its letters in other cases, a Kelvin sign for a k, a
    sharp S in upper case, odd characters put in."""
    out = "".join(c.swapcase() if rng.random() < 0.3 else c for c in line)
    if rng.random() < 0.3:
        out = out.replace("k", "\u212a").replace("ß", "ẞ")
    if rng.random() < 0.2:
        at = rng.randint(0, len(out))
        out = out[:at] + rng.choice(_ODD_CASES) + out[at:]
    return out


def _label_texts(count: int, seed: int) -> list[str]:
    from analysis.reports import inventory as inv

    pool = _fixture_lines()
    rng = random.Random(seed)
    extra = [f"{pre}{label}{mid}: x" for label in list(bsv._BY_LABEL) + list(inv._SYSTEMINFO)
             for pre, mid in (("", ""), ("  ", " "), ("\t", ""), ("::", ""), ("\u3000", "\xa0")) if rng.random() < 0.5]
    extra += [label.upper() + " : 1" for label in bsv._BY_LABEL] + ["=====", "  ==========", "=== x", "\u2000====="]
    made = []
    for _ in range(count):
        rows = [_odd_cased(rng.choice(extra), rng) if rng.random() < 0.3 else rng.choice(pool)
                for _ in range(rng.randint(1, 300))]
        made.append("\n".join(rows))
    return made


def test_label_scans_find_every_line_a_reader_takes_as_a_label() -> None:
    """The lines label_rows passes over are none that BlueScreenView's or
    systeminfo's line test would take (each line tested here one by one),
    whatever the case of the labels' letters."""
    from analysis.reports import inventory as inv
    from analysis.reports.common import folded, label_rows

    for text in _label_texts(150, 15):
        forget()
        found_bsv = set(label_rows(folded(text).low, bsv._LABEL_LINE))
        found_sys = set(label_rows(folded(text).low, inv._SYSTEMINFO_LINE))
        for i, line in enumerate(lines(text)):
            stripped = line.strip()
            sep = bsv._separator(stripped)
            if (stripped.startswith("=====") and not stripped.strip("=")) or (sep >= 0 and bsv.label_key(stripped[:sep])):
                assert i in found_bsv, line
            colon = inv._label_colon(line)
            if colon > 0 and inv._SYSTEMINFO.get(inv._norm(line[:colon])):
                assert i in found_sys, line


def test_folded_label_scans_find_what_the_label_pattern_finds_in_the_lowered_text() -> None:
    """A folded_label_pattern in the folded copy finds the lines that the
    label_pattern of the same labels finds in the text lowered in full (the
    reference), letters in any case, a Kelvin sign or a dotted I among them."""
    from analysis.reports import inventory as inv
    from analysis.reports.common import BLANKS, folded, label_pattern

    def reference(low: str, pattern: re.Pattern[str], indented: bool) -> list[int]:
        found = [("\n" + low).count("\n", 0, m.start()) for m in pattern.finditer("\n" + low)]
        every = low.split("\n")
        return [row for row in found if indented or not every[row].startswith((" ", "\t"))]

    patterns = [(bsv._LABEL_LINE, label_pattern(bsv._BY_LABEL, also="[" + BLANKS + "]*+====="), True),
                (inv._SYSTEMINFO_LINE, label_pattern(inv._SYSTEMINFO), False)]
    from analysis.reports.common import label_rows

    texts = _label_texts(150, 16)
    assert any(not folded(t).exact for t in texts) and any(folded(t).exact and not t.isascii() for t in texts)
    for text in texts:
        forget()
        for fast, slow, indented in patterns:
            assert label_rows(folded(text).low, fast) == reference(text.lower(), slow, indented)


def test_folded_words_are_where_the_lowered_text_holds_them() -> None:
    from analysis.reports import dumpheader, whocrashed
    from analysis.reports.common import fold_words, folded, marked_lines

    rng = random.Random(17)
    words = whocrashed._SPLIT + whocrashed._FIELDS + dumpheader._KEY_WORDS + ("[", "system name:", "系统名称:", "系统名称：")
    bits = [w.upper() for w in words] + list(words) + [w.replace("k", "\u212a") for w in words if "k" in w]
    texts = []
    for text in texts_mixed(200, 18, bits):
        texts.append(_odd_cased(text, rng) if rng.random() < 0.5 else text)
    assert any(not folded(t).exact for t in texts)
    for text in texts:
        forget()
        low = text.lower()
        every = [i for i, line in enumerate(low.split("\n")) if any(w in line for w in words)]
        fold = folded(text)
        got = marked_lines(fold.low, fold_words(words))
        assert [r for r, _ in got] == every
        begins = [0] + [i + 1 for i, c in enumerate(fold.low) if c == 10]
        assert all(begins[r] == at for r, at in got)


def texts_mixed(count: int, seed: int, bits: list[str]) -> list[str]:
    """Texts of the fixtures' lines with ``bits`` put in (within lines too)."""
    rng = random.Random(seed)
    pool = _fixture_lines()
    made = []
    for _ in range(count):
        rows = [rng.choice(pool) for _ in range(rng.randint(1, 100))]
        for _ in range(rng.randint(0, 12)):
            i = rng.randrange(len(rows))
            at = rng.randint(0, len(rows[i]))
            rows[i] = rows[i][:at] + rng.choice(bits) + rows[i][at:]
        made.append("\n".join(rows))
    return made


def test_cases_name_every_character_that_lowers_to_a_labels_letter() -> None:
    """Every character whose lower case is a letter of a label or a word the
    readers search their folded copy for is one that pattern or word takes
    there (the folded copy keeps each letter that is not ASCII as it is)."""
    import sys

    from analysis.reports import dumpheader, inventory as inv, whocrashed
    from analysis.reports.common import _KELVIN, _DOTTED_I, _cases, _uncased

    by_lower: dict[str, set[str]] = {}
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        low = ch.lower()
        if low != ch:
            by_lower.setdefault(low, set()).add(ch)
    # Only these two lower to an ASCII letter (or a longer text): with either
    # in a text, the folded copy is the text lowered in full.
    assert {ch for low, chars in by_lower.items() for ch in chars if len(low) > 1 or low.isascii()} == {
        _KELVIN, _DOTTED_I} | {chr(c) for c in range(65, 91)}
    for ch in {c for label in list(bsv._BY_LABEL) + list(inv._SYSTEMINFO) for c in label if not c.isascii()}:
        assert by_lower.get(ch, set()) <= set(_cases(ch)), ch
    words = whocrashed._SPLIT + whocrashed._FIELDS + dumpheader._KEY_WORDS + ("系统名称:", "系统名称：")
    for ch in {c for w in words for c in w if not c.isascii()}:
        assert _uncased(ch) and not by_lower.get(ch), ch


def test_an_application_error_field_alone_reads_as_among_all() -> None:
    from analysis.eventlog import messages

    rng = random.Random(16)
    pool = [line for path in sorted((FIXTURES / "eventlog").glob("*.txt"))
            for line in path.read_bytes().decode("utf-8", "replace").split("\n")]
    bits = ["Report Id: 1234-abcd", "报告 ID：x", "Faulting application name: a.exe, version: 1.2", "Faulting module name: m.dll, version 3",
            "Faulting application path: C:\\a.exe", "Exception code: 0xc0000005", "Fault offset: 0x1"]
    for _ in range(500):
        text = "\n".join(rng.choice(bits) if rng.random() < 0.3 else rng.choice(pool) for _ in range(rng.randint(1, 60)))
        every = messages.app_crash_message(text)
        for key in messages._APP:
            alone = messages.app_crash_message(text, (key,))
            assert alone.get(key) == every.get(key)
            assert alone.get(key + "_version") == every.get(key + "_version")
            assert set(alone) <= {key, key + "_version"}


def test_wer_line_patterns_from_a_break_find_what_they_found_from_a_line_start() -> None:
    from analysis.eventlog import messages

    old = {  # as they were: MULTILINE "^", searched in the text itself
        messages._WER_P: re.compile(r"(?m)^[ \t>]{0,8}P(\d{1,2})[ \t]{0,2}[:：][ \t]{0,4}([^\r\n]{0,200})"),
        messages._WER_BC: re.compile(r"(?m)^[ \t>]{0,8}(?:BCCode|BCP([1-4]))[ \t]{0,4}[:：][ \t]{0,8}([0-9A-Fa-f]{1,16})\b"),
        messages._WER_CODE: re.compile(r"(?m)^[ \t>]{0,8}(?:Code|代码|Parameter[ \t]?([1-4])|参数[ \t]?([1-4]))[ \t]{0,4}[:：]"
                                       r"[ \t]{0,8}([0-9A-Fa-f]{1,16})[ \t]*+$"),
    }
    rng = random.Random(17)
    bits = ["P1: 13a", "P10:x", " > P2 ：ffff", "BCCode: f4", "BCP1 : 0x1", "Code: 3b", "参数 1: 1", "Parameter2:ff ", "\n",
            "\r\n", " ", "\t", "x", "P", ":", "y" * 210, "代码：1a"]
    for _ in range(3000):
        text = "".join(rng.choice(bits) for _ in range(rng.randint(1, 25)))
        for new, was in old.items():
            assert new.findall("\n" + text) == was.findall(text), (new.pattern, text)


def test_first_lines_are_the_first_of_all_lines() -> None:
    from analysis.eventlog.event import first_lines

    rng = random.Random(18)
    bits = ["a", "\n", "\r\n", "\r", "\x0b", "\x85", "\u2028", "", " ", "\n\n"]
    for _ in range(5000):
        text = "".join(rng.choice(bits) for _ in range(rng.randint(0, 30)))
        for count in (0, 1, 2, 3, 5, 40):
            assert first_lines(text, count) == text.splitlines()[:count], (text, count)
    for _ in range(300):  # the counts the readers ask for, in long texts
        text = "".join(rng.choice(bits + ["x" * 50]) for _ in range(rng.randint(0, 2000)))
        for count in (3, 64, 400):
            assert first_lines(text, count) == text.splitlines()[:count], count


def test_whocrashed_fields_searched_until_filled_read_as_every_marked_row(monkeypatch) -> None:
    """read_whocrashed with the lazy walk against the same reader walking
    every row that holds a field word (the eager marked_rows it replaced)."""
    from analysis.reports import whocrashed as wc

    rng = random.Random(21)
    pool = [line for path in sorted((FIXTURES / "toolreport").glob("*whocrashed*.txt"))
            for line in path.read_bytes().decode("utf-8", "replace").split("\n")] + _fixture_lines()[:1500]
    edges = ["On Tue 07/09/2021 your computer crashed", "crash dump file: C:\\x.dmp", "Error: A", "error: B",
             "  ERROR: C", "Bugcheck code: 0x1A (0x1, 0x2,", "bug check code: 0x3B (1, 2, 3, 4)",
             "This was probably caused by the following module: a.sys (A+0x1)", "following module: b.sys",
             "bugcheck code: 0x1 following module: c.sys", "company: X", "Company: Y", "product: P", "uptime: 1",
             "description: D", "file path: C:\\a.sys", "bugcheck name: NAME", "Conclusion", "x error: y"]
    texts = ["\n".join(rng.choice(edges) if rng.random() < 0.35 else rng.choice(pool) for _ in range(rng.randint(1, 300)))
             for _ in range(300)]
    _lazy_reads_as_eager(monkeypatch, wc, wc.read_whocrashed, texts)


def test_walk_marked_begins_gives_the_marked_lines_while_every_word_is_needed() -> None:
    from analysis.reports.common import marked_begins, marked_lines, walk_marked_begins

    words = ("error:", "a", "company:", "crash dump file:")
    folded_words = tuple(w.encode() for w in words)
    for text in texts(200, 22):
        low, folded_low = text.lower(), text.lower().encode("utf-8", "surrogatepass")
        assert list(walk_marked_begins(low, words, 0, len(low), lambda w: True)) == marked_begins(low, words)
        assert marked_begins(low, words) == [begin for _, begin in marked_lines(low, words)]
        assert (list(walk_marked_begins(folded_low, folded_words, 0, len(folded_low), lambda w: True))
                == marked_begins(folded_low, folded_words) == [b for _, b in marked_lines(folded_low, folded_words)])


def test_rows_taken_where_they_begin_are_the_lines() -> None:
    """Rows (the lines a reader takes from where its scans found them) are
    lines(text)'s, with a dotted I and a Kelvin sign (lowering changes
    them: the lines are cut then), wide characters, lone surrogates,
    carriage returns and lines past the cut among them."""
    from analysis.reports.common import Rows, folded

    rng = random.Random(24)
    made = texts(150, 25) + ["", "\n", "a", "a\n", "\r\n\r", "x" * (MAX_LINE + 5) + "\r\nb\n"]
    made += ["中" * (MAX_LINE + 5) + "\nb", "😀" * (MAX_LINE * 2) + "\r\n" + "é" * (MAX_LINE * 3), "😀" * (MAX_LINE - 1) + "\r",
             "a\ud83d\n\ude00b\udcff\n"]
    made += [t.replace("a", rng.choice(["\u0130", "\u212a", "Ü", "😀", "\ud800"]), 1) for t in made[:60]]
    assert any(not folded(t).exact for t in made)
    for text in made:
        forget()
        low = folded(text).low
        rows, every = Rows(text), lines(text)
        begins = [0] + [i + 1 for i, c in enumerate(low) if c == 10]
        assert len(every) == len(begins)
        assert rows.head(200) == every[:200] and rows.head(3) == every[:3]
        picked = rng.sample(range(len(every)), min(30, len(every)))
        for i in picked:  # in no order: a row counted again from the start
            assert rows.line_from(begins[i]) == every[i]
        for i in sorted(picked):
            assert rows.line_from(begins[i]) == every[i]
            assert rows.has_after(begins[i]) == (i + 1 < len(every))
            if i + 1 < len(every):
                assert rows.next_begin(begins[i]) == begins[i + 1]
            end = rng.randint(i, len(every))
            assert rows.run_to(begins[i], (begins + [len(low) + 1])[end], 200) == every[i:end][:200]
            assert rows.run_to(begins[i], (begins + [len(low) + 1])[end], 2) == every[i:end][:2]


def test_dump_header_fields_searched_until_filled_read_as_every_marked_row(monkeypatch) -> None:
    from analysis.reports import dumpheader as dh

    rng = random.Random(23)
    pool = [line for path in sorted((FIXTURES / "dumpheader").glob("*.txt"))
            for line in path.read_bytes().decode("utf-8", "replace").split("\n")] + _fixture_lines()[:1500]
    edges = ["DUMP_HEADER64:", "_DMP_HEADER64:", "MachineImageType 00008664", "KdDebuggerDataBlock fffff800",
             "BugCheckParameter1 0x1", "MinorVersion 00004a66", "  MajorVersion: 0000000f", "BugCheckCode 0000001a",
             "NumberProcessors 4", "BugCheckCodeParameter 1, 2, 3, 4", "MinorVersion 00004a67",
             "MajorVersion MinorVersion MachineImageType BugCheckCode BugCheckParameter1 BugCheckParameter2 X",
             "15\t19041\t8664\t3b\t1\t2\t3", "BugCheck 1A, {41792, ffff, 0, 0}", "Loading Dump File [C:\\m.dmp]"]
    texts = ["\n".join(rng.choice(edges) if rng.random() < 0.35 else rng.choice(pool) for _ in range(rng.randint(1, 300)))
             for _ in range(300)]
    # The code and its parameters first, then a Volatility 3 row that fills the rest.
    texts.append("DUMP_HEADER64:\nMachineImageType 00008664\nBugCheckCode 0000001a\nBugCheckCodeParameter 1, 2, 3, 4\n"
                 + edges[11] + "\n" + edges[12])
    _lazy_reads_as_eager(monkeypatch, dh, dh.read_dump_header, texts)


def _lazy_reads_as_eager(monkeypatch, module, read, texts: list[str]) -> None:
    """``read`` (a reader of ``module``) with its lazy walk_marked_begins
    against the same reader walking every marked line (the eager marked_begins)."""
    from analysis.reports.common import marked_begins

    lazy = []
    for text in texts:
        forget()
        lazy.append(repr(read(text, "r.txt")))
    monkeypatch.setattr(module, "walk_marked_begins",
                        lambda low, words, start, end, needed: iter(marked_begins(low, words, start, end)))
    assert sum(r != "None" for r in lazy) > 50
    for text, got in zip(texts, lazy):
        forget()
        assert got == repr(read(text, "r.txt")), text[:300]


def test_marks_found_by_their_folded_words_are_the_marks_in_the_text() -> None:
    """Every reader's Marks (searched first as shared words in the folded
    text) tell the same as searching each mark in the text itself, on texts
    holding the marks and their words in other cases, cut, or in a wider text."""
    import gc

    import analysis.reports  # noqa: F401  (every reader, so every reader's Marks)
    from analysis import marks
    from analysis.marks import Marks

    gates = [o for o in gc.get_objects() if isinstance(o, Marks)]
    assert len(gates) >= 12
    rng = random.Random(31)
    pool = _fixture_lines()
    bits = [m for g in gates for m in g.marks]
    bits += [b.upper() for b in bits] + [b.swapcase() for b in bits] + [b[: len(b) // 2] for b in bits]
    bits += [b[1:] for b in bits] + ["\u0130", "\u212a", "\ud800", "é", "\u2014", "stop", "STOP", "Blue", "search"]
    texts = []
    for _ in range(400):
        rows = [rng.choice(bits) + rng.choice(["", " ", "x"]) if rng.random() < 0.4 else rng.choice(pool)
                for _ in range(rng.randint(0, 40))]
        texts.append(rng.choice(["\n", "", " "]).join(rows))
    texts += ["".join(rng.choice(bits) for _ in range(rng.randint(0, 6))) for _ in range(2000)] + [""]
    # ASCII texts, where the marks are looked for at their words' places:
    # many places of one word (past Marks.PLACES), in other cases.
    plain = [b for b in bits if b.isascii()]
    texts += ["".join(rng.choice(plain) for _ in range(rng.randint(0, 40))) for _ in range(1500)]
    # ... and texts of other characters too, where they are looked for at
    # their words' places in the text's UTF-8 bytes.
    texts += [rng.choice(["中", "é", "\ud800", "\U0001f600", "\u0130"]).join(rng.choice(plain + bits) for _ in range(rng.randint(0, 40)))
              for _ in range(1500)]
    # A mark's word in more places than are looked at (the mark in another
    # case), and the mark but its first character: searched for whole.
    texts += [(m.swapcase() + " ") * (Marks.PLACES + 4) + m[1:] + end for g in gates for m in g.marks for end in ("", "中")]
    for text in texts:
        forget()
        head = text[: rng.randint(0, len(text))]
        for gate in gates:
            assert gate.found(text) == any(m in text for m in gate.marks), (gate.marks, text[:300])
            assert sorted(gate.present(text)) == sorted({m for m in gate.marks if m in text})
            assert gate.found(text, head) == any(m in head for m in gate.marks)
        forget()
        assert gate.found_alone(text) == any(m in text for m in gate.marks)
        assert not marks._FOLDED  # nothing kept after it



def test_hinted_searches_find_what_the_whole_pattern_finds() -> None:
    """messages.hinted, for each pattern with a hint (X and X_HINT), is
    X.search from any place: on texts of X's words in every case (and the
    characters other cases fold to: U+0130, U+0131, U+017F, U+212A), cut
    short, glued to the hint's characters and to what follows a word."""
    from analysis.eventlog import messages

    pairs = [(getattr(messages, name.removesuffix("_HINT")), hint) for name, hint in vars(messages).items()
             if name.endswith("_HINT")]
    # and the labels of a _labelled pattern alone, searched from their hint
    pairs += [(messages._LABELS_ALONE[key], hint) for key, hint in messages._LABEL_HINTS.items()]
    assert len(pairs) >= 3
    rng = random.Random(32)
    for pattern, hint in pairs:
        words = [re.sub(r"\\(.)", r"\1", w) for w in re.findall(r"(?:[^()|?:\\]|\\[ -])[^()|?:]+", pattern.pattern.split(")")[0])]
        assert len(words) >= 2, pattern.pattern
        cases = words + [w.upper() for w in words] + [w.lower() for w in words] + [w.swapcase() for w in words]
        bits = cases + [w[1:] for w in words] + [w[: len(w) // 2] for w in words]
        bits += [w.replace("i", "\u0131").replace("k", "\u212a") for w in words] + ["\\" + w + "\\" for w in cases]
        bits += ["\u0130", "\u017f", "bu", "Bu", "BUC", "c", "存储", "段", "\\", "C:", "c:\\", ":", "：", " ", "\t", "\n",
                 "0x13A_win32kfull!x", "abcd", "type 0", ".dmp", ".DMP", "MEMORY", ",", "x" * 70]
        for _ in range(4000):
            text = "".join(rng.choice(bits) for _ in range(rng.randint(0, 25)))
            pos = rng.choice([0, 0, rng.randint(0, len(text))])
            a, b = messages.hinted(pattern, hint, text, pos), pattern.search(text, pos)
            assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups())), (pattern.pattern, text, pos)
        for key in messages._LABEL_HINTS:
            labelled = next(p for d in (messages._SERVICE, messages._APP) for p in d.values() if p.pattern == key)
            for _ in range(500):
                text = "".join(rng.choice(bits) for _ in range(rng.randint(0, 25)))
                found = [m.span() for m in messages.labels_in(labelled, text)]
                assert found == [m.span() for m in messages._LABELS_ALONE[key].finditer(text)], text


def test_a_bug_check_told_as_its_reading_tells_it() -> None:
    """messages.has_bugcheck (the paste reader's test of a mark's window)
    is whether bugcheck_message reads one there."""
    from analysis.eventlog import messages

    rng = random.Random(37)
    bits = ["0x0000003b", "0x1", "(", "（", ")", "）", ",", " ", "  ", "\n", "0xfffff80", "0x", "x", "The bugcheck was: ",
            "0x00000050 (0xffffa00000000000, 0x0000000000000002, 0xfffff8037b2e1b50, 0x0000000000000002)"]
    texts = [None, "", "x" * 8190 + "0x1 (0x2, 0x3, 0x4, 0x5)", "x" * 8170 + "0x1 (0x2, 0x3, 0x4, 0x5)"]
    texts += ["".join(rng.choice(bits) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    for text in texts:
        assert messages.has_bugcheck(text) == (messages.bugcheck_message(text) is not None), text


def test_searches_from_a_literal_start_find_what_the_search_finds() -> None:
    """search_at (tried where str.find finds the pattern's literal start)
    against the pattern's own search, on texts where the start is there
    without the rest, overlapping itself, or at the very end."""
    from analysis.reports import dumpheader as dh
    from analysis.reports.common import search_at

    rng = random.Random(41)
    bits = ["BugCheck ", "BugCheck 1A, {1, 2, 3, 4}", "BugCheck 0x3b, {", "}", "BugCheck BugCheck 7e, {x}", "Loading Dump File [",
            "Loading Dump File [C:\\m.dmp]", "]", "\n", "x", "中", "😀", "Loading Dump File [Loading Dump File [a]", "bugcheck 1, {2}"]
    for _ in range(3000):
        text = "".join(rng.choice(bits) for _ in range(rng.randint(0, 12)))
        for pattern, literal in ((dh._BUGCHECK, "BugCheck "), (dh._LOADING, "Loading Dump File [")):
            want, got = pattern.search(text), search_at(pattern, text, literal)
            assert (want and (want.span(), want.groups())) == (got and (got.span(), got.groups())), text


def test_rows_of_a_text_whose_lines_are_cut_count_back_from_the_last_line_taken() -> None:
    """Where lowering changes a character's length (a Kelvin sign) the rows
    are counted (Rows.line_from).  WhoCrashed takes a conclusion's run from
    its start after the next marked line: a step back, which counted the
    breaks again from the text's start; a text of many "conclusion" lines
    cost the text's length per line (8,000 of them in 2 MB: 2.5 s, 0.08 s
    before the folded copy).  A step back counts back from the last place."""
    from analysis.reports.common import Rows, folded
    from analysis.reports.whocrashed import read_whocrashed

    text = "\u212a WhoCrashed\nbugcheck code: 0x1a\n" + ("conclusion\n" + "filler line\n" * 20) * 300
    assert not folded(text).exact
    counted = [0]

    class Counting(bytes):
        def count(self, sub, start=0, end=None):  # type: ignore[override]
            counted[0] += (len(self) if end is None else end) - start
            return bytes.count(self, sub, start, end)

    rows = Rows(text)
    every = lines(text)
    places = Counting(rows._places)
    rows._places = places
    begins = [0] + [i + 1 for i, b in enumerate(places) if b == 10]
    rng = random.Random(5)
    for _ in range(300):  # a step back and on, anywhere: the lines are right
        at = rng.randrange(len(begins))
        assert rows.line_from(begins[at]) == every[at]
    counted[0] = 0
    for i in range(21, len(begins) - 21, 21):  # WhoCrashed's walk: a marked line, then the run before it
        assert rows.line_from(begins[i]) == every[i]
        assert rows.run_to(begins[i - 20], begins[i], 200) == every[i - 20:i]
    assert counted[0] <= 5 * len(places)  # (each region: on, back and on again; 150 times it before)
    forget()
    assert read_whocrashed(text, "x") is None  # (no crash block: the conclusions alone)
    forget()


def test_the_folded_copy_of_a_text_decoded_from_utf8_is_made_from_its_bytes() -> None:
    """A text decode read as UTF-8 whole (a BOM skipped) lends its bytes to
    the folded copy (analysis.marks.decoded_from): they are the text's
    encoding; a text decoded otherwise, or another text, is encoded."""
    import importlib

    from analysis import marks

    decoding = importlib.import_module("analysis.text.decode")
    for data in ("Bug Check Code : 0x1a\n中文 \U0001f621".encode(), b"\xef\xbb\xbfBOM first\n", b"plain"):
        text = decoding.decode(data)
        raw, low = marks.copies(text)
        assert raw == text.encode("utf-8") == data.removeprefix(b"\xef\xbb\xbf") and low == raw.lower()
        marks.forget()
    text = decoding.decode("\u6587\u5b57".encode("gb18030") + b"\xff")  # not UTF-8: decoded another way
    other = "x" + text[1:]
    for each in (text, other):
        raw, _ = marks.copies(each)
        assert raw == each.encode("utf-8", "surrogatepass")
        marks.forget()
    assert not marks._DECODED
