"""`crashdesk analyze` as a user runs it: a real subprocess, real files."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "seed-shaped-thread.txt"


def run(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )


def test_json_contract_on_the_shipped_example():
    r = run("analyze", EXAMPLE, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [d["bugcheck"]["code"] for d in out["dumps"]] == ["0x1A", "0x139"]
    assert [d["bugcheck"]["name"] for d in out["dumps"]] == ["MEMORY_MANAGEMENT", "KERNEL_SECURITY_CHECK_FAILURE"]
    first, second = out["dumps"]
    assert first["bugcheck"]["args"][0] == "0x41792"
    assert first["culprit"]["module"] == "VSApiNt"
    assert first["culprit"]["image"] == "VSApiNt.sys"
    assert first["culprit"]["third_party"] is True
    assert first["os_build"] == 17134
    assert second["process"] == "Ntrtscan.exe"
    assert second["os_build"] is None  # not stated for that dump: null, not a guess
    assert out["case"]["vendor"] == "AsiaInfo Security"
    assert out["case"]["modules"] == ["VSApiNt", "TmXPFlt"]
    assert out["case"]["confidence"] == "high"
    assert out["case"]["known_issues"][0]["id"] == "trendmicro-1119990"
    for d in out["dumps"]:
        assert {"source", "kind", "bugcheck", "culprit", "process", "os_build"} <= set(d)
        assert set(d["culprit"]) >= {"module", "image", "vendor", "product", "third_party"}


@pytest.mark.parametrize("lang,needle", [("en", "one vendor: AsiaInfo Security"), ("zh", "指向同一厂商：亚信安全")])
def test_plain_text_in_both_languages(lang, needle):
    r = run("analyze", EXAMPLE, "--lang", lang)
    assert r.returncode == 0
    assert needle in r.stdout


def test_markdown_for_chat():
    r = run("analyze", EXAMPLE, "--markdown")
    assert r.returncode == 0 and "**Case verdict**" in r.stdout


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "the file is empty"),
        (bytes(range(256)) * 400, "not a WinDbg log, a crash dump, an event log"),
        (b"Dear support, our PCs are slow. Regards\n", "no bug check"),
        (b"PAGE\x00\x00\x00\x00" + b"\x00" * 100, "unknown signature"),
        (b"Rar!\x1a\x07\x00" + b"\x00" * 100, "RAR archive"),
    ],
)
def test_bad_input_gives_one_clear_line(tmp_path, content, message):
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    r = run("analyze", path)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert message in lines[0]
    assert "Traceback" not in r.stderr


def test_missing_path_and_directory(tmp_path):
    for target, message in ((tmp_path / "nope.txt", "no such file"), (tmp_path, "is a directory")):
        r = run("analyze", target)
        assert r.returncode != 0 and message in r.stderr and "Traceback" not in r.stderr


def test_one_good_input_among_bad_ones_succeeds(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("nothing to see")
    r = run("analyze", bad, EXAMPLE, "--json")
    assert r.returncode == 0
    out = json.loads(r.stdout)
    assert len(out["dumps"]) == 2
    assert out["errors"][0]["message"].startswith("readable text")
    assert "bad.txt" in r.stderr


def test_json_when_nothing_could_be_read(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("nothing to see")
    r = run("analyze", bad, "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["dumps"] == []


def test_huge_log_is_streamed_with_bounded_memory(tmp_path):
    """A 200 MB log (a !process 0 7 dump, say) with one crash in the middle."""
    noise = (b"        ffffd000`21b6f2d8 fffff800`c4fe2ee9 nt!KiSwapContext+0x76\n"
             b"        Owning Process            ffffe001a2b3c4d0       Image:         svchost.exe\n") * 1000
    path = tmp_path / "huge.log"
    with open(path, "wb") as fh:
        for _ in range(100 * 1024 * 1024 // len(noise)):
            fh.write(noise)
        fh.write(EXAMPLE.read_bytes())
        for _ in range(100 * 1024 * 1024 // len(noise)):
            fh.write(noise)
    # The child's own high-water mark (VmHWM, of its own address space):
    # ru_maxrss would carry over the parent's (pytest's) across fork + exec.
    code = (
        "import sys, json\n"
        "from bot.cli import main\n"
        "rc = main(['analyze', sys.argv[1], '--json'])\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
        "print(hwm, file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [d["bugcheck"]["code"] for d in out["dumps"]] == ["0x1A", "0x139"]
    max_rss_kb = int(r.stderr.strip().splitlines()[-1])
    assert max_rss_kb < 200 * 1024, f"{max_rss_kb} KB resident for a 200 MB log"
