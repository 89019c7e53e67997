"""Archives customers send, and the hostile ones nobody should unpack."""

import gzip
import io
import zipfile
from pathlib import Path

import pytest

from analysis import intake
from analysis.intake import Blob, Rejected, sniff
from analysis.pipeline import analyze_blobs

EXAMPLE = (Path(__file__).resolve().parent.parent / "examples" / "seed-shaped-thread.txt").read_bytes()
TEXT = Path(__file__).resolve().parent / "fixtures" / "text"


def zip_of(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_sniff_by_content_not_name():
    assert sniff(b"PAGEDU64") == intake.KIND_KERNEL64
    assert sniff(b"PAGEDUMP") == intake.KIND_KERNEL32
    assert sniff(b"MDMP\x93\xa7") == intake.KIND_APP
    assert sniff(b"PK\x03\x04") == intake.KIND_ZIP
    assert sniff(b"\x1f\x8b\x08") == intake.KIND_GZIP
    assert sniff(b"*** Bugcheck") == intake.KIND_TEXT
    with pytest.raises(Rejected, match="CAB"):
        sniff(b"MSCF\x00\x00")
    with pytest.raises(Rejected, match="7-Zip"):
        sniff(b"7z\xbc\xaf\x27\x1c")


def test_zip_of_logs_is_one_case():
    data = zip_of({
        "thread.txt": EXAMPLE,
        "notes/readme.txt": b"collected by IT on 2021-09-07",
        "other/mcafee.log": (TEXT / "win7_x64_0xD1_tcpip_blamed_mcafee_on_stack.txt").read_bytes(),
    })
    outcome = analyze_blobs([Blob("evidence.zip", data)])
    assert [d.bugcheck.code for d in outcome.case.dumps] == [0x1A, 0x139, 0xD1]
    assert outcome.case.dumps[2].source == "evidence.zip:other/mcafee.log"
    assert any("readme.txt" in src for src, _ in outcome.problems)


def test_member_names_are_labels_never_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = zip_of({"../../etc/evil.txt": EXAMPLE, "/abs/path.txt": b"x", "C:\\win\\x.txt": b"y"})
    outcome = analyze_blobs([Blob("up.zip", data)])
    assert outcome.case.dumps[0].source == "up.zip:etc/evil.txt"
    assert list(tmp_path.iterdir()) == []  # nothing was written anywhere


def test_zip_bomb_is_refused_without_unpacking():
    bomb = zip_of({"MEMORY.DMP": b"\0" * (64 * 1024 * 1024)})
    assert len(bomb) < 200 * 1024
    outcome = analyze_blobs([Blob("bomb.zip", bomb)])
    assert not outcome.case.dumps
    assert "zip bomb" in outcome.problems[0][1]


def test_lying_zip_header_is_caught_while_streaming():
    """A member whose header declares a small size but inflates to more."""
    real = zip_of({"a.txt": b"A" * 5_000_000})
    declared = 1000
    patched = bytearray(real)
    # Patch the uncompressed size in both the local and the central header.
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = patched.find(sig)
        offset = at + (22 if sig == b"PK\x03\x04" else 24)
        patched[offset : offset + 4] = declared.to_bytes(4, "little")
    outcome = analyze_blobs([Blob("liar.zip", bytes(patched))])
    assert not outcome.case.dumps
    message = outcome.problems[0][1]
    assert "more than it declares" in message or "cannot unpack" in message


def test_truncated_and_junk_zips():
    good = zip_of({"thread.txt": EXAMPLE})
    for data in (good[: len(good) // 2], b"PK\x03\x04" + b"\xff" * 100):
        outcome = analyze_blobs([Blob("broken.zip", data)])
        assert not outcome.case.dumps
        assert outcome.problems and "zip" in outcome.problems[0][1]


def test_nested_archives_stop_at_two_levels():
    inner = zip_of({"thread.txt": EXAMPLE})
    middle = zip_of({"inner.zip": inner})
    outer = zip_of({"middle.zip": middle})
    assert [d.bugcheck.code for d in analyze_blobs([Blob("m.zip", middle)]).case.dumps] == [0x1A, 0x139]
    outcome = analyze_blobs([Blob("o.zip", outer)])
    assert not outcome.case.dumps and "nested too deeply" in outcome.problems[0][1]


def test_gzip_log_and_gzip_bomb():
    outcome = analyze_blobs([Blob("thread.txt.gz", gzip.compress(EXAMPLE))])
    assert [d.bugcheck.code for d in outcome.case.dumps] == [0x1A, 0x139]
    assert outcome.case.dumps[0].source == "thread.txt"
    bomb = gzip.compress(b"\0" * (300 * 1024 * 1024), compresslevel=9)
    outcome = analyze_blobs([Blob("bomb.gz", bomb)])
    assert not outcome.case.dumps and "zip bomb" in outcome.problems[0][1]


def test_same_file_twice_counts_once():
    outcome = analyze_blobs([Blob("a.txt", EXAMPLE), Blob("b.txt", EXAMPLE)])
    assert len(outcome.case.dumps) == 2
    assert "counted once" in outcome.problems[0][1]


def test_encrypted_member_is_named(monkeypatch):
    data = bytearray(zip_of({"secret.txt": EXAMPLE}, zipfile.ZIP_STORED))
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(sig)
        data[at + flag_at] |= 0x1
    outcome = analyze_blobs([Blob("locked.zip", bytes(data))])
    assert "encrypted" in outcome.problems[0][1]


def test_a_zip_of_zips_shares_one_budget():
    """Each level of nesting must not get the limits anew: 5 inner zips of
    200 small members of zeros, 50 KB in all, would otherwise unpack to GBs."""
    inner = zip_of({f"m{i}.txt": b"\0" * (8 * 1024 * 1024 - 1) for i in range(20)})
    outer = zip_of({f"inner{i}.zip": inner for i in range(5)}, zipfile.ZIP_STORED)
    outcome = analyze_blobs([Blob("bomb.zip", outer)])
    assert not outcome.case.dumps
    assert any("zip bomb" in message or "more files" in message for _, message in outcome.problems)
    unpacked = sum(1 for _, m in outcome.problems if "readable text" in m or "not a WinDbg" in m)
    assert unpacked < 20  # stopped inside the first inner archive
