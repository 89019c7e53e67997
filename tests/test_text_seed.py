"""The seed case, as one file, in every encoding an engineer's machine writes."""

import codecs

import pytest

from analysis.intake import Blob
from analysis.model import module_key
from analysis.pipeline import analyze_blobs


def analyze_bytes(data: bytes, name: str = "seed.txt"):
    return analyze_blobs([Blob(name, data)])


def check_seed(outcome):
    case = outcome.case
    assert len(case.dumps) == 2, [d.bugcheck for d in case.dumps]
    first, second = case.dumps
    assert first.bugcheck.code == 0x1A
    assert first.bugcheck.args[0] == 0x41792
    assert second.bugcheck.code == 0x139
    assert second.bugcheck.args[0] == 3
    for d in (first, second):
        assert module_key(d.culprit.module) == "vsapint"
        assert d.culprit.third_party is True
        assert d.culprit.vendor in ("AsiaInfo Security", "Trend Micro")
    assert first.os.build == 17134
    assert first.os.codename == "rs4"
    assert first.os.release == "April 2018 Update"
    assert second.process.lower() == "ntrtscan.exe"
    assert second.fast_fail == "FAST_FAIL_CORRUPT_LIST_ENTRY"
    assert case.vendor == "AsiaInfo Security"
    assert case.confidence == "high"
    assert {module_key(m) for m in case.modules} >= {"vsapint", "tmxpflt"}
    assert [k.id for k in case.known_issues] == ["trendmicro-1119990"]
    return case


def test_seed_as_posted(seed_bytes):
    case = check_seed(analyze_bytes(seed_bytes))
    first, second = case.dumps
    # WinDbg named the module in dump 1; dump 2 had no MODULE_NAME and is
    # attributed from its faulting stack.
    assert first.culprit.basis == "windbg"
    assert second.culprit.basis == "stack"
    assert first.culprit.built == "2019-09-15"
    assert "AsiaInfo" in (first.culprit.vendor_basis or "")
    assert first.failure_bucket == "0x1a_41792_VSapiNt!VSSwapShortTable"


@pytest.mark.parametrize(
    "encoding,bom",
    [
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-le", b""),  # .logopen /u output copied without its BOM
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("gb18030", b""),
        ("gbk", b""),
    ],
)
def test_seed_in_every_encoding(seed_bytes, encoding, bom):
    text = seed_bytes.decode("utf-8")
    check_seed(analyze_bytes(bom + text.encode(encoding)))


def test_seed_with_crlf_tabs_and_mail_quoting(seed_bytes):
    text = seed_bytes.decode("utf-8")
    quoted = "\r\n".join("> " + line.replace("    ", "\t") for line in text.splitlines())
    check_seed(analyze_bytes(quoted.encode("utf-8")))


def test_seed_as_forum_html(seed_bytes):
    import html

    text = seed_bytes.decode("utf-8")
    page = "<div class='post'>" + html.escape(text).replace("\n", "<br />\n") + "</div>"
    check_seed(analyze_bytes(page.encode("utf-8")))


def test_seed_quoted_twice_is_still_two_dumps(seed_bytes):
    """A reply that quotes the whole thread again must not double the dumps."""
    text = seed_bytes.decode("utf-8")
    reply = "洪先生 您好:\n\n请见下方分析。\n\n" + text + "\n\n-----原始邮件-----\n" + "\n".join("> " + l for l in text.splitlines())
    check_seed(analyze_bytes(reply.encode("utf-8")))


def test_each_dump_in_its_own_file_is_one_case(seed_bytes, tmp_path):
    text = seed_bytes.decode("utf-8")
    cut = text.index("第二次 dump")
    a = Blob("dump1.txt", text[:cut].encode())
    b = Blob("dump2.txt", text[cut:].encode("utf-16"))
    check_seed(analyze_blobs([a, b]))
