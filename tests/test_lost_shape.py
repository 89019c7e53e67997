"""WinDbg pastes that lost their shape (issue 10, point 4).  The WinDbg
text reader is being rewritten (helper 'hostile'); these pin what it must
read once that lands.  xfail(strict): a fix turns them into failures to
un-mark, so they cannot pass silently."""

import pytest

from analysis.intake import Blob
from analysis.pipeline import analyze_blobs

ANALYSIS = """*******************************************************************************
*                        Bugcheck Analysis                                    *
*******************************************************************************

DRIVER_IRQL_NOT_LESS_OR_EQUAL (d1)
An attempt was made to access a pageable (or completely invalid) address at an interrupt request level (IRQL) that is too high.  This is usually caused by drivers using improper addresses.
Arguments:
Arg1: 0000000000000010, memory referenced
Arg2: 0000000000000002, IRQL
Arg3: 0000000000000000, value 0 = read operation, 1 = write operation
Arg4: fffff8064b6a1b2e, address which referenced memory

PROCESS_NAME:  System

SYMBOL_NAME:  rtwlane+1b2e

MODULE_NAME: rtwlane

IMAGE_NAME:  rtwlane.sys

FAILURE_BUCKET_ID:  AV_rtwlane!unknown_function
"""


def one(text: str):
    outcome = analyze_blobs([Blob("paste.txt", text.encode())])
    return outcome.case.dumps


def test_intact_paste_is_the_reference():
    dumps = one(ANALYSIS)
    assert dumps[0].bugcheck.code == 0xD1 and dumps[0].culprit.module == "rtwlane"


def test_blank_lines_stripped():
    dumps = one("\n".join(line for line in ANALYSIS.split("\n") if line.strip()))
    assert dumps[0].bugcheck.code == 0xD1 and dumps[0].culprit.module == "rtwlane"


def test_banner_cut():
    dumps = one(ANALYSIS[ANALYSIS.index("DRIVER_IRQL"):])
    assert dumps[0].bugcheck.code == 0xD1 and dumps[0].culprit.module == "rtwlane"


def test_line_breaks_gone():
    dumps = one(" ".join(ANALYSIS.split()))
    assert dumps and dumps[0].bugcheck.code == 0xD1
    assert dumps[0].bugcheck.args == [0x10, 2, 0, 0xFFFFF8064B6A1B2E]
    assert dumps[0].culprit.module == "rtwlane" and dumps[0].process == "System"


def _wrap(text: str, width: int) -> str:
    out = []
    for line in text.split("\n"):
        while len(line) > width:
            cut = line.rfind(" ", 0, width)
            cut = cut if cut > 0 else width
            out.append(line[:cut])
            line = line[cut:].lstrip()
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("width", [72, 76])
def test_hard_wrapped(width):
    dumps = one(_wrap(ANALYSIS, width))
    assert dumps[0].bugcheck.code == 0xD1 and dumps[0].bugcheck.args[3] == 0xFFFFF8064B6A1B2E
    assert dumps[0].culprit.module == "rtwlane"
