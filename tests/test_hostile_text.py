"""Pasted text built to make the parser's patterns backtrack: each must come
back (a hang guard with a generous limit, not a speed measurement: speed is
measured in bench/)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = {
    "frame prefix": "ffffffff ffffffff : " + "f" * 400 + " z\n",
    "bucket": "FAILURE_BUCKET_ID: " + "a_" * 15000 + "!\n",
    "company": "start end module name\nfffff805`e9ef0000 fffff805`ea19d000 x (deferred)\n    CompanyName: a" + " " * 15000 + "x\n",
    "driver at fault": "*** Driver at fault: " + "a" * 40000 + "\n",
    "long line": "Arg1: " + "0" * 200000 + "\n",
    "wrapped frames": ("fffff880`0331f5c8 fffff800`02ed6be9 : " + "00000000`0000000a " * 3 + "\n") * 3000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_comes_back(tmp_path, name):
    path = tmp_path / "paste.txt"
    path.write_text("BugCheck 1A, {41792, 0, 0, 0}\n" + HOSTILE[name])
    r = subprocess.run([sys.executable, "-m", "bot.cli", "analyze", str(path), "--json"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Traceback" not in r.stderr


def test_a_log_whose_first_line_is_page_fault_is_text():
    from analysis.intake import Blob
    from analysis.pipeline import analyze_blobs

    text = b"PAGE_FAULT_IN_NONPAGED_AREA (50)\nArguments:\nArg1: ffffe70b1a2b3c4d, memory referenced.\n"
    outcome = analyze_blobs([Blob("paste.txt", text)])
    assert outcome.case.dumps[0].bugcheck.code == 0x50
