"""Archives customers send, and the hostile ones nobody should unpack."""

import gzip
import io
import zipfile
import zlib
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


def test_the_same_content_is_told_in_any_order_and_a_file_alone_is_not_hashed(monkeypatch):
    member = io.BytesIO()
    with zipfile.ZipFile(member, "w") as z:
        z.writestr("inner.txt", EXAMPLE)
    other = EXAMPLE.replace(b"BugCheck", b"Bugcheck")  # the same length, another content
    assert len(other) == len(EXAMPLE) and other != EXAMPLE
    cases = [
        ([Blob("a.txt", EXAMPLE), Blob("o.txt", other), Blob("b.txt", EXAMPLE)], ["b.txt"]),
        ([Blob("a.txt", EXAMPLE), Blob("m.zip", member.getvalue())], ["m.zip:inner.txt"]),
        ([Blob("m.zip", member.getvalue()), Blob("a.txt", EXAMPLE)], ["a.txt"]),
        ([Blob("o.txt", other), Blob("a.txt", EXAMPLE)], []),
    ]
    for blobs, repeated in cases:
        outcome = analyze_blobs(blobs)
        assert [name for name, said in outcome.problems if "counted once" in said] == repeated, blobs

    def no_hash(self):
        raise AssertionError("hashed")

    monkeypatch.setattr(Blob, "digest", no_hash)
    assert analyze_blobs([Blob("a.txt", EXAMPLE)]).case.dumps
    assert len(analyze_blobs([Blob("a.txt", EXAMPLE), Blob("short.txt", EXAMPLE[:-1])]).case.dumps) >= 2


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


# -- bombs, measured by what they cost (a child process's own peak memory,
#    the bytes decompressed), never by time ----------------------------------

from bombs import expand_in_child, gzip_of_zeros, lzma_dictionary_bomb, lzma_member, many_members, zip_with  # noqa: E402


def test_an_lzma_member_asking_for_a_4_gib_dictionary_is_refused_before_decoding(tmp_path):
    """64 MB of zeros padded to a dump-like 160:1 passes the ratio check; its
    header asks for a 4 GiB dictionary.  zipfile decoded it: +193 MB."""
    path = tmp_path / "dict.zip"
    path.write_bytes(lzma_dictionary_bomb())
    result = expand_in_child(path)
    assert result["produced"] == 0 and result["pieces"] == 0
    assert "dictionary" in result["problems"][0][1]
    assert result["rise"] < 16 * 1024**2


def test_a_million_members_are_counted_from_the_end_record_not_listed(tmp_path):
    """zipfile.infolist() built every entry before the 200-member cap: +217 MB
    for 500,000 (665 MB for 1,000,000)."""
    path = tmp_path / "many.zip"
    path.write_bytes(many_members(500_000))
    result = expand_in_child(path)
    assert result["pieces"] == intake.MAX_MEMBERS
    assert "500,000 entries" in result["problems"][0][1]
    assert result["rise"] < 16 * 1024**2


def test_a_gzip_bomb_is_refused_by_its_trailer_before_a_byte_is_unpacked(tmp_path):
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip_of_zeros(256 * 1024**2))
    result = expand_in_child(path)
    assert result["produced"] == 0 and "zip bomb" in result["problems"][0][1]


def test_a_gzip_bomb_that_lies_about_its_size_stops_at_the_ratio_floor(tmp_path):
    """Before, a gzip was unpacked until 200 times its own size (835 MB to a
    temp file for a 4 MB bomb); now the ratio is watched as it streams."""
    path = tmp_path / "liar.gz"
    path.write_bytes(gzip_of_zeros(256 * 1024**2, stated=1000))
    result = expand_in_child(path)
    assert "200:1" in result["problems"][0][1]
    assert result["produced"] <= intake.RATIO_FLOOR + 2 * 1024**2
    assert result["rise"] < 16 * 1024**2


def test_a_zip_member_that_lies_about_its_size_stops_at_the_ratio_floor():
    """Declared small, compressed small, unpacks huge: the reader hands out a
    bounded step at a time, so the lie costs the floor, not the bomb."""
    zeros = b"\0" * (64 * 1024**2)
    deflated = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = deflated.compress(zeros) + deflated.flush()
    bomb = zip_with("MEMORY.DMP", 8, payload, 64 * 1024**2 + 1, zlib.crc32(zeros))
    budget = intake.Budget.for_upload(len(bomb))
    problems = []
    assert list(intake.expand(Blob("liar.zip", bomb), problems, budget)) == []
    assert "200:1" in problems[0][1] or "zip bomb" in problems[0][1]
    assert budget.produced <= intake.RATIO_FLOOR + 2 * 1024**2


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_every_compression_customers_use_is_read(method):
    data = zip_of({"thread.txt": EXAMPLE, "dir/": b"", "notes.txt": b"collected by IT"}, method)
    outcome = analyze_blobs([Blob("evidence.zip", data)])
    assert [d.bugcheck.code for d in outcome.case.dumps] == [0x1A, 0x139]


def test_zip64_entries_and_a_self_extractor_stub_are_read():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("thread.txt", "w", force_zip64=True) as f:
            f.write(EXAMPLE)
    outcome = analyze_blobs([Blob("zip64.zip", buf.getvalue())])
    assert [d.bugcheck.code for d in outcome.case.dumps] == [0x1A, 0x139]
    from analysis.ziparchive import MemberReader, read_directory

    stubbed = b"MZ" + b"\0" * 5000 + buf.getvalue()  # offsets as the archive states them, moved by the stub
    member = read_directory(stubbed, 10, 10).members[0]
    assert MemberReader(stubbed, member).read(len(EXAMPLE) + 1) == EXAMPLE


def test_a_sane_lzma_member_is_unpacked_and_a_damaged_one_named():
    good = zip_with("thread.txt", 14, lzma_member(EXAMPLE), len(EXAMPLE), zlib.crc32(EXAMPLE), flags=0x2)
    assert len(analyze_blobs([Blob("a.zip", good)]).case.dumps) == 2
    bad = zip_with("thread.txt", 14, lzma_member(EXAMPLE), len(EXAMPLE), zlib.crc32(EXAMPLE) ^ 1, flags=0x2)
    outcome = analyze_blobs([Blob("b.zip", bad)])
    assert not outcome.case.dumps and "checksum" in outcome.problems[0][1]


def test_every_problem_is_said_in_both_languages(tmp_path):
    """A refusal reaches a Chinese reply in Chinese (issue 13): every code
    has both texts, and what the pipeline reports carries its code."""
    import pickle

    from analysis.inputs import Said, said_in
    from analysis.pipeline import analyze_paths
    from analysis.problem_texts import PROBLEMS

    assert PROBLEMS["en"].keys() == PROBLEMS["zh"].keys()
    empty = tmp_path / "empty.dmp"
    empty.write_bytes(b"")
    junk = tmp_path / "garbage.bin"
    junk.write_bytes(bytes(range(256)) * 64)
    problems = analyze_paths([str(empty), str(junk), str(tmp_path / "missing.txt")]).problems
    assert [getattr(m, "code", None) for _, m in problems] == ["empty_file", "no_such_file", "not_evidence"]
    assert [said_in(m, "zh") for _, m in problems] == ["文件为空", "文件不存在", PROBLEMS["zh"]["not_evidence"]]
    # The code survives the trip back from a worker process.
    assert pickle.loads(pickle.dumps(problems[0][1])).code == "empty_file"
    assert isinstance(problems[0][1], Said) and problems[0][1] == "the file is empty"


def test_the_digest_of_a_large_file_leaves_none_of_it_resident(tmp_path):
    """The sampled digest of a file over SAMPLED_DIGEST_ABOVE looks at 64
    pages; with the file in the page cache each look mapped the pages
    around it too (80 MB of a 100 MB log stayed resident, on top of what
    the reading of the log took).  Measured in a child, of its own mapping."""
    from analysis.intake import SAMPLED_DIGEST_ABOVE
    from bombs import in_child

    path = tmp_path / "large.log"
    # Written just now, in large writes: in the page cache, in large folios
    # (a fault maps a whole folio).
    block = b"fffff802`4f7d4a69 nt!KeBugCheckEx+0x0\n" * 200_000
    with open(path, "wb") as fh:
        while fh.tell() < SAMPLED_DIGEST_ABOVE + 16 * 1024 * 1024:
            fh.write(block)
    code = r"""
from analysis.intake import open_path
def mapped():
    for line in open("/proc/self/status"):
        if line.startswith("RssFile:"):
            return int(line.split()[1]) * 1024
blob = open_path(sys.argv[1])
before = mapped()
blob.digest()
print(json.dumps({"rise": mapped() - before}))
"""
    assert in_child(code, str(path))["rise"] < 8 * 1024 * 1024
