"""The cheap paths of the text readers (issue 14) say what the slow ones
said: a scan in C in place of a Python walk, with the same answer."""

from __future__ import annotations

from analysis.eventlog.event import LocalTimes, read_local, strip_marks

_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"


def test_strip_marks_removes_every_direction_mark_and_nothing_else() -> None:
    text = "".join(f"{c}1{c}3/0{c}7/2018 é 中" for c in _MARKS)
    assert strip_marks(text) == text.translate(dict.fromkeys(map(ord, _MARKS), None))
    assert strip_marks("plain 13/07/2018 10:00") == "plain 13/07/2018 10:00"


def test_dates_with_marks_read_as_without() -> None:
    marked = "\u200e13\u200e/\u200e07\u200e/\u200e2018 10:00:01"
    assert LocalTimes(marked).day_first is True
    assert read_local(marked) == read_local("13/07/2018 10:00:01")


def test_marked_rows_numbers_lines_as_lines_does() -> None:
    from analysis.reports.common import fold_words, folded, lines, marked_rows

    text = "a\r\nFoo x foo\n\nbar BAR\r\n" + "y" * 5000 + " foo\nfoo\nİ foo"
    rows = lines(text)
    fold = folded(text)
    assert fold.low == text.encode().lower() and fold.exact and folded(text) is fold  # (a dotted I kept)
    split = text.lower().split("\n")
    assert marked_rows(fold.low, fold_words(("foo",))) == [i for i, r in enumerate(split) if "foo" in r] == [1, 4, 5, 6]
    assert marked_rows(fold.low, fold_words(("bar", "foo"))) == [1, 3, 4, 5, 6]
    assert [rows[i][:3] for i in marked_rows(fold.low, fold_words(("bar",)))] == ["bar"]
    assert lines(text) is rows  # the readers of one text share its lines


def test_whocrashed_blocks_split_on_marked_lines_only() -> None:
    from analysis.reports.whocrashed import read_whocrashed

    filler = "\n".join(f"noise line {i}" for i in range(300))
    block = ("On Tue 07/09/2021 10:00:01 your computer crashed or a problem was reported\n"
             "crash dump file: C:\\Windows\\Minidump\\{n}.dmp\n{filler}\n"
             "This was probably caused by the following module: tmxpflt.sys (TmXPFlt+0x1234)\n"
             "  Bugcheck code: 0x3B (0xC0000005, 0xFFFFF8064B6A1B2E,\n0xFFFF, 0x0)\n"
             "  Error: SYSTEM_SERVICE_EXCEPTION\n")
    text = "\n".join(block.format(n=n, filler=filler) for n in range(3)) + (
        "\nConclusion\n" + filler + "\ntmxpflt.sys (Trend Micro)\n")
    reading = read_whocrashed(text, "w.txt")
    assert reading is not None and len(reading.crashes) == 3
    for n, (report, findings) in enumerate(reading.crashes):
        assert report.dump_file == f"C:\\Windows\\Minidump\\{n}.dmp"
        assert report.bugcheck is not None and report.bugcheck.code == 0x3B
        assert report.bugcheck.args == [0xC0000005, 0xFFFFF8064B6A1B2E, 0xFFFF, 0]
        assert [c.name for c in findings.claims] == ["tmxpflt"]


def test_blanks_are_what_str_strip_takes_but_the_line_break() -> None:
    import re

    from analysis.reports.common import BLANKS

    cls = re.compile(f"[{BLANKS}]")
    assert {chr(c) for c in range(0x110000) if cls.match(chr(c))} == {
        chr(c) for c in range(0x110000) if chr(c).isspace()} - {"\n"}


def test_label_pattern_finds_each_shape_a_label_line_takes() -> None:
    from analysis.reports.common import folded, folded_label_pattern, label_pattern, label_rows

    labels = ["dump file", "bug check code", "time", "time string", "größe"]
    pattern = label_pattern(labels, also="=====")
    text = ("Dump File  : x\n  bug \u3000 check code： 0x1a\ntime string: a\ntimes: b\n=====\nfoo: bar\n"
            "：Dump file: y\ntime\ndump files: z\n\tTIME\t:\t1\nGRÖẞE: 1\ngrösse: 2")
    assert [("\n" + text.lower()).count("\n", 0, m.start()) for m in pattern.finditer("\n" + text.lower())] == [
        0, 1, 2, 4, 6, 9, 10]
    assert label_rows(folded(text).low, folded_label_pattern(labels, also=b"=====", also_starts="=")) == [0, 1, 2, 4, 6, 9, 10]


def test_bluescreenview_text_records_read_from_label_lines_only() -> None:
    from analysis.reports.bluescreenview import _text_records

    noise = "\n".join(f"fffff800`02bfc{i:03x} fffff800`01728a89 : nt!KiSomething+0x{i:x}" for i in range(200))
    text = (noise + "\n==================================================\n"
            "Dump File         : 022013-19968-01.dmp\n  Crash Time ： 2013-02-20\n"
            "Bug Check String  : DRIVER_IRQL_NOT_LESS_OR_EQUAL\nBug   Check Code:0x000000d1\n"
            + noise + "\n==================================================\n"
            "Dump File         : 022113-1-01.dmp\nBug Check Code    : 0x0000001a\n")
    records = _text_records(text)
    assert [r.get("dump_file") for r in records] == ["022013-19968-01.dmp", "022113-1-01.dmp"]
    assert records[0]["bug_check_code"] == "0x000000d1"
    assert records[0]["crash_time"] == "2013-02-20"


def test_systeminfo_hotfix_list_read_to_its_end_among_skipped_lines() -> None:
    from analysis.reports.inventory import read_systeminfo

    noise = "\n".join(f"fffff800`02bfc{i:03x} : nt!KiSomething+0x{i:x}" for i in range(100))
    text = (noise + "\nHost Name:                 PC-01\nOS Name:                   Microsoft Windows 10 Pro\n"
            "OS Version:                10.0.19044 N/A Build 19044\nHotfix(s):                 3 Hotfix(s) Installed.\n"
            "                           [01]: KB5004331\n                           [02]: KB5003791\n"
            "no colon here KB1234567\n                           [03]: KB5005033\nNetwork Card(s): 1\n"
            "                           [01]: KB9999999\n" + noise + "\n  Hotfix(s): KB7777777\n")
    reading = read_systeminfo(text, "s.txt")
    assert reading is not None
    inv = reading.context[0]
    assert inv.computer == "PC-01" and inv.os_build == 19044
    assert inv.hotfixes == ["KB5004331", "KB5003791", "KB5005033"]


def test_date_order_hint_misses_no_day_first_date() -> None:
    import random

    from analysis.eventlog.event import _LOCAL

    def settled(text: str) -> bool:  # the walk over every date, as it was
        return any(m["a2"] and m["sep"] != "." and int(m["a2"]) > 12 >= int(m["b2"])
                   for m in _LOCAL.finditer(strip_marks(text)))

    rng = random.Random(5)
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(1, 4)):
            a, b = rng.choice(["7", "07", "12", "13", "31", "99", "1", "123"]), rng.choice(["1", "07", "12", "13", "5"])
            sep, sep2 = rng.choice("/-."), rng.choice("/-.")
            year = rng.choice(["2018", "201", "20188"])
            parts.append(rng.choice([f"{a}{sep}{b}{sep2}{year} 10:11:12", f"{year}{sep}{a}{sep2}{b} 1:02 PM",
                                     f"x{a}{sep}{b}{sep2}{year}", f"{a}{sep}\u200e{b}{sep2}{year} 09:00"]))
        text = " ".join(parts)
        _SETTLED_RESET()
        assert LocalTimes(text).day_first == settled(text), text


def _SETTLED_RESET() -> None:
    from analysis.eventlog import event

    event._SETTLED.clear()


def test_lines_cut_long_lines_and_drop_carriage_returns() -> None:
    from analysis.reports.common import MAX_LINE, forget, lines

    for text in ("a\r\nb\r\r\n\rc", "x" * (MAX_LINE + 5) + "\r\ny\r", "plain\nlines\n", "", "\r" * 3):
        forget()
        assert lines(text) == [line[:MAX_LINE].rstrip("\r") for line in text.split("\n")]


def test_days_between_crashes_of_utc_and_local_times() -> None:
    # A text export whose times are partly UTC ("...Z") and partly local:
    # the summary counted its days by comparing the two kinds and failed.
    from analysis.eventlog.machine import Crash
    from analysis.render.eventlog import _days

    crashes = [Crash(logged="2021-09-01T10:00:00Z", code=0x1A), Crash(logged="2021-09-08T09:00:00", code=0x3B)]
    assert _days(crashes) == 8


def _long_way_scanner(monkeypatch):
    """The scanner with its whole-line reads of frames, arguments and lines
    of numbers shut off: every such line goes through Scanner._read, as
    before them."""
    import re

    from analysis.text import events

    source = events._LINE_START.pattern
    for group in ("(?P<arg>", "(?P<frame>", "(?P<numbers>"):
        assert group in source
        source = source.replace(group, group + "(?!)")
    slow = re.compile(source)
    fast = events._LINE_START

    def scan(text: str, use_fast: bool) -> list:
        monkeypatch.setattr(events, "_LINE_START", fast if use_fast else slow)
        return events.Scanner().feed(text)

    return scan


def _frame_lines(rng) -> list[str]:
    """Frame and argument lines of every shape the fast paths take or
    must leave: C++ names, trailers, odd offsets, wrapped meanings, bad
    numbers, names that are no modules, blanks and lengths."""
    hexw = lambda n: "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(n))  # noqa: E731
    sites = ["nt!KeBugCheckEx", "nt!KiPageFault+0x260", "drv.sys+0x15", "0x1234", "unknown!x+0x1", "Unknown+0x2",
             "nt!Foo::Bar+0x1", "nt!Foo<int>+0x2", "nt!+0x3", "nt!Foo+0x", "nt!Foo+12", "nt!Foo+0x12z", "360FsFlt+0x9",
             "1394ohci!F+0x1", "deadbeef+0x10", "abcdef12", "nt", "nt!Foo (TrapFrame @ ffff)", "VSApiNt VSSwap+0x136d",
             "nt!KiSystemServiceCopyEnd+0x25 (TrapFrame @ ffffb48c`2c9f7a80)", "mod~1!f$+0x1", "mod!f?g@h+0x2",
             "nt!Foo+0x1 ", "a!b", "_x!y+0x1", "0x0+0x1", "nt!Foo+0x12\x0b",
             # trailers, address sites
             "NDIS!ndisMInvokeInitialize+0x60 [minio\\ndis\\sys\\miniport.c @ 13834]", "avgtdix+0x12c71 (FPO: [Non-Fpo])",
             "nt!Foo+0x1 (", "nt!Foo+0x1 ((", "nt!Foo+0x1 ( (", "nt!Foo+0x1  <x>", "nt!Foo [", "nt [a]", "nt!Foo (Inline (",
             "0x77a670d4", "0xfffffa8003f9c621  ", "0x", "0x12z", "0xABCDEF0123456789ab", "0x1 [x]", "0X12"]
    out = []
    for _ in range(4000):
        parts = []
        if rng.random() < 0.3:
            parts.append(hexw(rng.choice([1, 2, 3, 4, 5])))
        parts.append(hexw(rng.choice([8, 16, 17, 18, 7])))
        if rng.random() < 0.7:
            parts.append(hexw(rng.choice([8, 16])))
        if rng.random() < 0.4:
            parts.append(rng.choice([":", ": ", ""]) + " ".join(hexw(16) for _ in range(rng.randint(1, 5)))
                         + rng.choice([" :", "", ":"]))
        parts.append(rng.choice(sites))
        out.append(" " * rng.choice([0, 0, 1, 3]) + rng.choice([" ", "  ", " \u3000"]).join(parts)
                   + rng.choice(["", "", " ", "  "]))
        if rng.random() < 0.3:  # a call site alone, numbered or not (kc, kn)
            out.append(" " * rng.choice([0, 0, 2]) + rng.choice(["", "", hexw(2) + " ", hexw(4) + "  ", hexw(5) + " "])
                       + rng.choice(sites + ["mod~1!f+0x1", "FLTMGR!FltpDispatch+0x2", "nt!Foo::Bar+0x1", "A_B!c"])
                       + rng.choice(["", " ", ":", " x"]))
        n = rng.choice("12345")
        out.append(f"Arg{n}:{rng.choice([' ', '  ', ''])}{hexw(rng.choice([8, 16, 17]))}"
                   + rng.choice(["", ", memory referenced", ",x", " y", ",   spaced   words  "]))
        if rng.random() < 0.3:
            out.append(rng.choice(["   wrapped meaning", "   ", "   Arg2: 1", "", "  two blanks", "x" * 2100]))
        if rng.random() < 0.5:  # memory as dq/dd print it, and numbers that start a wrapped frame
            words = [hexw(rng.choice([2, 8, 16])) for _ in range(rng.randint(1, 5))]
            out.append(" " * rng.choice([0, 2]) + rng.choice([" ", "  ", " : "]).join(words)
                       + rng.choice(["", " ", ":", " x", "\u3000"]) + ("0" * 2100 if rng.random() < 0.02 else ""))
    return out


def test_frames_and_arguments_read_whole_say_what_the_long_way_says(monkeypatch) -> None:
    import random
    from pathlib import Path

    scan = _long_way_scanner(monkeypatch)
    rng = random.Random(14)
    lines = _frame_lines(rng)
    for size in (1, 2, 3, 7, 40):
        for start in range(0, len(lines), size):
            text = "\n".join(lines[start : start + size])
            for sample in (text, text + "\n", "STACK_TEXT:\n" + text + "\nnext line"):
                assert scan(sample, True) == scan(sample, False), sample
    fixtures = Path(__file__).parent / "fixtures"
    for path in sorted(fixtures.rglob("*.txt")):
        from analysis.text.clean import clean
        from analysis.text.decode import NotText, decode

        try:
            text = clean(decode(path.read_bytes()))
        except NotText:
            continue
        assert scan(text, True) == scan(text, False), path.name


def test_day_first_around_separators_says_what_the_walk_over_every_date_says() -> None:
    """says_day_first looks only near the separators of possible day-first
    dates; the walk over every date in order (day_first_in_order) is the
    reference, on texts of dates that overlap, nest in digit runs, follow
    one another without a blank and run longer than its look back."""
    import random

    from analysis.eventlog.event import day_first_in_order, says_day_first

    rng = random.Random(14)
    pieces = ["13/07/2018 10:00", "7/13/2018 1:02 PM", "12/07/2018 10:15:02", "31-12-2020 23:59:59.123",
              "2018/13/05 10:00", "13.07.2018 10:00", "99/1/2018 1:00", "1", "13", "/", "-", ".", " ", "  ",
              "2018", "10:00", "x", "\n", "AM", "um ", "下午", "13/07/20188", ":", "٣١/٠٧/٢٠١٨ 10:00", "0",
              "113/05/2018 9:00", "13/5/2018T10:00Z", ","]
    for n in range(4000):
        size = rng.choice([3, 10, 40, 120])
        text = "".join(rng.choice(pieces) for _ in range(size))
        if n % 7 == 0:
            text = " 1" * rng.randint(100, 200) + text  # a run of date characters past the look back
        assert says_day_first(text) == day_first_in_order(text), text


def _every_line(text: str) -> list:
    """The scanner's reading of every line of a whole text, each through
    Scanner._read (and every further piece of a long line through
    _read_piece): the reference the line pattern's and the mid-line words'
    choice of lines must give the same facts as."""
    from analysis.text import events

    sc = events.Scanner()
    sc.text, sc.final = text, True
    cursor, n = 0, len(text)
    while cursor < n:
        start = cursor
        cursor = sc._read(start)
        end = text.find("\n", start)
        end = n if end < 0 else end
        sc._read_pieces(set(range(start + events.MAX_LINE, end, events.MAX_LINE)))
        assert sc.wrap is None  # a whole text: a wrapped argument is taken at once
    return sc.out


def test_the_lines_the_scanner_reads_give_what_every_line_gives() -> None:
    import random
    from pathlib import Path

    from analysis.text import events
    from analysis.text.clean import clean
    from analysis.text.decode import NotText, decode

    fixtures = Path(__file__).parent / "fixtures"
    texts = []
    for path in sorted(fixtures.rglob("*.txt")):
        try:
            texts.append(clean(decode(path.read_bytes())))
        except NotText:
            continue
    rng = random.Random(41)
    pieces = ["*******************************************************************************",
              "*                        Bugcheck Analysis                                    *",
              "# Child-SP          RetAddr           Call Site", "#  bugcheck Analysis", "** UGCHECK ANALYSIS **",
              "*** Fatal System Error: 0x0000001a", "                       (0x41792,0xFFFFF, 0x1, 0x2)",
              "#SYSTEM_SERVICE_EXCEPTION (3b)", "# # *APC_INDEX_MISMATCH", "*** WARNING: Unable to verify timestamp for x.sys",
              "  *   Bugcheck Analysis  *", "Stop code: CRITICAL_PROCESS_DIED", "see Owning Process ffff Image: a.exe",
              "", "    ", "x" * 2047 + "Unable to load image foo.sys", "text 0x1a bugcheck 0x1a",
              # the banner, name and prompt lines read whole, and their near misses
              "*   Bugcheck Analysis   *  ", "**  Bugcheck Analysis  ** x", "*Bugcheck Analysis*", "* * *", "#", "# #",
              "*\t*", "  ***  ", "SYSTEM_SERVICE_EXCEPTION (3b)", "DRIVER_POWER_STATE_FAILURE (0x9f) **",
              "A_B (3b)", "AB_C (3b)", "X_" + "Y" * 79 + " (1a)", "X_" + "Y" * 80 + " (1a)", "BAD_POOL_CALLER (c2)",
              "BAD_POOL_CALLER (123456789)", "KERNEL_SECURITY_CHECK_FAILURE (139) x", "  IRQL_NOT_LESS (a)",
              "0: kd> !analyze -v", "13: kd>   k ", "kd>", "lkd> lm", "1:2:x86> kb", "0:000> !analyze", "0:kd> x",
              "FAULTING_IP: ", "FOLLOWUP_IP:", "FAULTING_IP:   nt!Foo+0x1", "nt!KiPageFault+260",
              # lines of stars and hashes: read for a banner, a fatal error or a name, or passed over
              "***       shv.sys - Address FFFFF8037ACA1FA0 base at FFFFF80", "#endif", "## 开始分析崩溃文件",
              "# get thread info", "*ffffac883ca17910 size:  600", "*** Fatal System Error: 0x000000d1",
              "** Fatal System Errorx", "*  uFatal System Error", "* UUGCHECK ANALYSIS", "#uu ugcheck Analysis",
              "# # DRIVER_IRQL_NOT_LESS_OR_EQUAL (d1)", "#  X", "#x", "*** WARNING: Unable to verify timestamp for a.sys",
              "* x " * 600 + "Fatal System Error: 0x0000001a", "# " + "u" * 3000 + "ugcheck Analysis",
              # lines of stars, hashes and blanks alone: passed over
              "*" * 79, "*" + " " * 77 + "*", "# # #", "*#* ", "*" * 2100 + "   *", "*" * 2100 + " Fatal System Error: 0x0000001a",
              "**\t**", "*** ", "*" * 2047 + "#SYSTEM_SERVICE_EXCEPTION (3b)",
              # lines the mid-line words' gates must take or leave
              "Kernel base = 0xfffff80623400000 PsLoadedModuleList = 0xfffff8062402a3f0", " ProductType  0x00000001",
              "Unable to get NonPagedPoolStart", "Unable to load image \\SystemRoot\\x.sys, Win32 error 0n2",
              "The computer has rebooted from a bugcheck.  The bugcheck was: 0x0000003b (0x1, 0x2, 0x3, 0x4).",
              "蓝屏代码 0x139", "bugcheck: 0x1a", "Stop code 0x1A", "y" * 2040 + " bugcheck 0x1a " + "z" * 2100,
              "y" * 2045 + "Unable to get x " * 200 + "could not be loaded for a.sys"]
    for _ in range(300):
        texts.append("\n".join(rng.choice(pieces + texts[rng.randrange(len(texts))].split("\n")[:40])
                               for _ in range(rng.randint(1, 60))))
    for text in texts:
        assert events.Scanner().feed(text) == _every_line(text), text[:200]


def test_the_line_before_a_segments_or_blocks_end_reads_what_every_line_gives(monkeypatch) -> None:
    """The line pattern is matched up to a segment's end (and a streamed
    block's last line is read with the next block): a look at the next line
    from the last line but one saw an end of text that is not there -- a
    line of numbers whose frame's call site went to the next line, a key's
    Value line.  Segments of a few lines put a boundary after every line;
    blocks split the same texts at every line end."""
    import itertools
    import random

    from analysis.text import events

    monkeypatch.setattr(events, "_SEGMENT", 30)
    rng = random.Random(15)
    lines = _frame_lines(rng)
    pairs = ["a1b2c3d4 8052b5d8 00000000 00000001 00000002\nnt!KiTrap0E+0x23",
             "    Key  : Analysis.Init.Elapsed.mSec\n    Value: BugCheck 1A, {41790, fffffa8000000000, 0, 0}",
             "    Key  : Analysis.Init.Elapsed.mSec\n    Value: Stop code 0x1A", "some prose line of words"]
    for _ in range(1500):
        text = "\n".join(rng.choice(lines + pairs * 40) for _ in range(rng.randint(2, 30)))
        whole = events.Scanner().feed(text)
        assert whole == _every_line(text), text
        ends = [i + 1 for i, c in enumerate(text) if c == "\n"]
        cuts = sorted(rng.sample(ends, min(len(ends), 3)))
        sc, streamed = events.Scanner(), []
        for a, b in itertools.pairwise([0, *cuts, len(text)]):
            streamed += [(e.kind, e.value) for e in sc.feed(text[a:b], final=b == len(text))]
        assert [(e.kind, e.value) for e in whole] == streamed, text
