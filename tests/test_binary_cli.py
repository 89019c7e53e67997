"""`crashdesk analyze <dump> --json` end to end, as the held-out checks run it."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from analysis.intake import Blob
from analysis.pipeline import analyze_blobs
from tests import dumpbuild as db
from tests.conftest import ROOT, shared_file

TM = db.Driver("\\SystemRoot\\system32\\drivers\\TmXPFlt.sys", 0xFFFFF80481200000, 0x60000)
VSAPI = db.Driver("\\SystemRoot\\system32\\drivers\\VSApiNt.sys", 0xFFFFF80481400000, 0x1A0000)


def crashdesk(*args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("crashdesk")
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)


def analyze_json(*paths) -> dict:
    run = crashdesk("analyze", *map(str, paths), "--json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_real_minidump_json():
    out = analyze_json(shared_file("dumps", "triage_x64_19041_0x1000007E.dmp"))
    (d,) = out["dumps"]
    assert d["kind"] == "kernel-minidump"
    assert d["bugcheck"]["code"] == "0x1000007E"
    assert d["bugcheck"]["args"][1] == "0xFFFFF8048B58334C"
    assert d["culprit"]["module"] == "amdppm" and d["culprit"]["image"] == "amdppm.sys"
    assert d["culprit"]["third_party"] is False
    assert "parameter 2 = 0xfffff8048b58334c = amdppm.sys+0x334c" in d["culprit"]["evidence"]
    assert d["os_build"] == 19041 and d["arch"] == "x64"
    assert d["os"]["buildlab"] == "19041.1.amd64fre.vb_release.191206-1406"
    modules = {m["image"]: m for m in d["modules"]}
    assert len([m for m in d["modules"] if not m["unloaded"]]) == 151
    for image in ("nvlddmkm.sys", "rt640x64.sys", "VBoxDrv.sys", "npcap.sys", "AsIO2.sys", "wintun.sys"):
        assert modules[image]["third_party"] is True
    assert d["third_party_modules"] == []
    assert out["case"]["vendor"] is None


def test_real_application_dump_json():
    out = analyze_json(shared_file("dumps", "usermode_calc_win7.dmp"))
    (d,) = out["dumps"]
    assert d["kind"] == "app-minidump" and d["bugcheck"] is None
    assert d["process"] == "calc.exe" and d["exception_code"] == "0x80000003"
    assert d["culprit"]["module"] == "ntdll"


def test_synthetic_memory_dump_json(tmp_path):
    k = db.kernel_memory(drivers=db.standard_drivers([TM, VSAPI]),
                         stack_words=[db.NT_BASE + 0x10, VSAPI.base + 0x2D1A, TM.base + 0x8C4E])
    path = tmp_path / "MEMORY.DMP"
    db.bitmap_dump(k, code=0x139, params=(3, 0xFFFFA0818D9F6F10, 0xFFFFA0818D9F6E68, 0), build=17134, path=path)
    out = analyze_json(path)
    (d,) = out["dumps"]
    assert d["kind"] == "kernel-memory-dump" and d["dump_type"] == "kernel bitmap dump"
    assert d["bugcheck"]["code"] == "0x139"
    assert d["culprit"]["module"] == "VSApiNt" and d["culprit"]["third_party"] is True
    assert d["third_party_modules"] == ["VSApiNt", "TmXPFlt"]
    assert out["case"]["vendor"] == "Trend Micro"  # no install path says AsiaInfo


def _zip_of_minidump(path: Path) -> None:
    blob = db.triage_dump(drivers=db.standard_drivers([TM]), stack_words=[TM.base + 5], code=0x1A,
                          params=(0x41792, 0xFFFFF6FB7DBED000, 0x10000, 0))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("../../etc/Mini032424-01.dmp", blob)


def test_zip_of_minidumps_with_hostile_member_names(tmp_path):
    archive = tmp_path / "dumps.zip"
    _zip_of_minidump(archive)
    outcome = analyze_blobs([Blob("dumps.zip", archive.read_bytes())])
    (d,) = outcome.case.dumps
    assert d.source == "dumps.zip:etc/Mini032424-01.dmp"
    assert d.culprit.module == "TmXPFlt"


def test_zip_given_as_a_path(tmp_path):
    archive = tmp_path / "dumps.zip"
    _zip_of_minidump(archive)
    out = analyze_json(archive)
    assert out["dumps"][0]["culprit"]["module"] == "TmXPFlt"


def test_gzip_of_a_minidump(tmp_path):
    blob = db.triage_dump(drivers=db.standard_drivers([TM]), stack_words=[TM.base + 5], code=0x1A,
                          params=(0x41792, 0xFFFFF6FB7DBED000, 0x10000, 0))
    path = tmp_path / "Mini032424-01.dmp.gz"
    path.write_bytes(gzip.compress(blob))
    (d,) = analyze_json(path)["dumps"]
    assert d["kind"] == "kernel-minidump" and d["culprit"]["module"] == "TmXPFlt"


@pytest.mark.parametrize("content, words", [
    (b"PAGEDU64" + bytes(0x3000), "nothing to read"),
    (b"PAGEDU64\x00\x00", "cut off inside its header"),
    (b"MDMP\x93\xa7\x00\x00" + bytes(24), "no readable streams"),
])
def test_unreadable_dump_is_one_clear_error(tmp_path, content, words):
    path = tmp_path / "bad.dmp"
    path.write_bytes(content)
    run = crashdesk("analyze", str(path), "--json")
    assert run.returncode != 0
    assert words in run.stderr and "Traceback" not in run.stderr
