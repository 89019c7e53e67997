"""Texts over the whole-text limit are read as windows around their crash
anchors: each window bounded, their number bounded, whatever the lines look
like.  A single-line 200 MB text used to give windows that all started at
0 (67 M characters parsed instead of ~8 M, 360 MB peak)."""

from analysis.text import _BACK, _MAX_WINDOWS, _WINDOW, windows
from bombs import in_child

CRASH = " BugCheck 1A, {41792, 1, 2, 3} "


def _pieces(total: int, every: int, size: int = 4 * 1024 * 1024):
    """``total`` characters of one line with a crash anchor every ``every``,
    handed out in pieces as the decoder would."""
    unit = "x" * (every - len(CRASH)) + CRASH
    whole = (unit * (total // every + 1))[:total]
    return [whole[i : i + size] for i in range(0, total, size)]


def test_windows_of_a_single_line_text_are_bounded():
    found, more = windows(_pieces(40 * 1024 * 1024, 100_000))
    assert more and len(found) == _MAX_WINDOWS
    assert all(len(w) <= _BACK + _WINDOW for w in found)
    assert sum(map(len, found)) <= _MAX_WINDOWS * (_BACK + _WINDOW)  # was 64 M characters for this text
    assert all(CRASH.strip() in w[: _BACK + len(CRASH)] for w in found)


def test_an_anchor_cut_by_a_piece_boundary_gets_its_whole_window():
    head = "ab cd\n" * 700_000
    whole = head + CRASH + "\nMODULE_NAME: VSApiNt\n" + "ab cd\n" * 100_000
    cut = len(head) + 5  # inside "BugCheck"
    found, more = windows([whole[:cut], whole[cut:]])
    assert not more and len(found) == 1
    assert CRASH.strip() in found[0] and "MODULE_NAME: VSApiNt" in found[0]


def test_a_64_mb_single_line_log_is_read_in_bounded_memory(tmp_path):
    path = tmp_path / "one-line.log"
    with open(path, "w") as fh:
        for piece in _pieces(64 * 1024 * 1024, 100_000):
            fh.write(piece)
    out = in_child(
        "from analysis.pipeline import analyze_paths\n"
        "import analysis.text, analysis.attribution, analysis.correlate\n"
        "before = peak()\n"
        "o = analyze_paths([sys.argv[1]])\n"
        "print(json.dumps({'rise': peak() - before, 'codes': [d.bugcheck.code for d in o.case.dumps],"
        " 'partial': [d.partial for d in o.case.dumps]}))\n", str(path))
    assert out["codes"] == [0x1A] and out["partial"] == [True]  # more windows than are read
    assert out["rise"] < 96 * 1024**2  # was +200 MB, and no crash found

