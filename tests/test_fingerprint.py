"""The crash fingerprint: one bucket per bug, whatever shape the crash came in."""

from analysis.fingerprint import fingerprint
from analysis.model import BugCheck, Culprit, DumpReport, Frame, Kind
from analysis.pipeline import analyze_paths
from tests.conftest import SEED, shared_file


def test_the_seed_dumps_are_two_buckets_of_one_module():
    outcome = analyze_paths([str(shared_file("seed", SEED.name))])
    one, two = (fingerprint(d) for d in outcome.case.dumps)
    assert one.bucket == "bc:0x1A/0x41792/vsapint"
    assert one.function == "VSSwapShortTable+0x136d" and one.version == "2019-09-15"
    assert two.bucket == "bc:0x139/0x3/vsapint" and two.linkable


def test_m_twins_kernel_aliases_and_exception_subtypes_fold():
    def crash(code, module, arg1=0xC0000005):
        return DumpReport(source="x", kind=Kind.WINDBG_TEXT, bugcheck=BugCheck(code, [arg1, 0, 0, 0]),
                          culprit=Culprit(module=module))

    assert fingerprint(crash(0x1000007E, "nt")).bucket == fingerprint(crash(0x7E, "ntkrnlmp")).bucket == \
        "bc:0x7E/0xC0000005/nt"
    assert fingerprint(crash(0x7E, "nt", 0xFFFFFFFF80000003)).bucket == "bc:0x7E/0x80000003/nt"
    # An argument that is not a known subtype is data, not part of the bucket.
    assert fingerprint(crash(0x1A, "x", 0x12345678)).bucket == "bc:0x1A/x"


def test_no_module_no_link_and_offsets_without_symbols():
    d = DumpReport(source="x", kind=Kind.KERNEL_MINIDUMP, bugcheck=BugCheck(0xD1, [0, 2, 0, 0]),
                   culprit=Culprit(module="TmXPFlt"), stack=[Frame(module="TmXPFlt", offset=0x4410)])
    fp = fingerprint(d)
    assert fp.function == "+0x4410" and fp.linkable
    d.culprit = Culprit(module=None)
    assert not fingerprint(d).linkable
    assert fingerprint(DumpReport(source="x", kind=Kind.EVENT_LOG)) is None
