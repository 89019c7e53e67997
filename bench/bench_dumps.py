"""Cost of reading crash dumps, as ratios against baselines measured in the
same run (so the figures hold on any machine):

  (a) the real small memory dump analysed, against merely reading its bytes;
  (b) a sparse 4 GiB bitmap MEMORY.DMP against a 64 MiB one holding the same
      system (the ratio should stay near 1: only the pages needed are read);
  (c) kdmp-parser's header parse + page reads against ours, on the same files.

    .venv/bin/python bench/bench_dumps.py [--repeat N]

Synthetic dumps are built by tests/dumpbuild.py into a temporary folder (the
4 GiB one as a sparse file) and removed afterwards.  The real dump is read
from ../shared/dumps when present."""

from __future__ import annotations

import argparse
import mmap
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.binary.header import read_header
from analysis.binary.kernel import read_kernel_dump
from analysis.binary.memory import address_space, physical_map
from analysis.binary.view import View
from analysis.pipeline import analyze_paths
from tests import dumpbuild as db

SHARED = Path(os.environ.get("CRASHDESK_SHARED", ROOT.parent / "shared"))
REAL = SHARED / "dumps" / "triage_x64_19041_0x1000007E.dmp"

TM = db.Driver("\\SystemRoot\\system32\\drivers\\TmXPFlt.sys", 0xFFFFF80481200000, 0x60000)
VSAPI = db.Driver("\\SystemRoot\\system32\\drivers\\VSApiNt.sys", 0xFFFFF80481400000, 0x1A0000)


def best(fn, repeat: int) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs, after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def mapped(path: Path):
    with open(path, "rb") as fh:
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def system(first_pfn: int) -> db.KernelMemory:
    drivers = db.standard_drivers([TM, VSAPI] + [
        db.Driver(f"\\SystemRoot\\System32\\drivers\\filler{i:03d}.sys", 0xFFFFF80490000000 + i * 0x100000, 0x80000)
        for i in range(150)])
    words = [db.NT_BASE + 0x3F5A95, VSAPI.base + 0x2D1A, TM.base + 0x8C4E] * 300
    return db.kernel_memory(drivers=drivers, stack_words=words, first_pfn=first_pfn,
                            unloaded=[("dam.sys", 0xFFFFF80487DE0000, 0xFFFFF80487DFC000)])


def part_a(repeat: int, rows: list) -> None:
    if not REAL.exists():
        rows.append(("(a) real minidump", "skipped: ../shared/dumps not present", "", ""))
        return
    base = best(lambda: REAL.read_bytes(), repeat)
    data = REAL.read_bytes()
    reader = best(lambda: read_kernel_dump(data, REAL.name), repeat)
    pipeline = best(lambda: analyze_paths([str(REAL)]), repeat)
    rows.append(("(a) read the 1.4 MB minidump's bytes (baseline)", ms(base), "1.0", ""))
    rows.append(("(a) read_kernel_dump on those bytes", ms(reader), f"{reader / base:.1f}", ""))
    rows.append(("(a) analyze_paths from the path (map, sniff, hash, read, correlate)", ms(pipeline),
                 f"{pipeline / base:.1f}", ""))


def part_b(folder: Path, repeat: int, rows: list) -> tuple[Path, Path]:
    small, large = folder / "MEMORY-64M.DMP", folder / "MEMORY-4G.DMP"
    header = {"code": 0x139, "params": (3, 0xFFFFA0818D9F6F10, 0xFFFFA0818D9F6E68, 0)}
    db.bitmap_dump(system(0x1000), total_pages=(64 << 20) // db.PAGE, all_present=True, path=small, **header)
    db.bitmap_dump(system(0xF0000), total_pages=(4 << 30) // db.PAGE, all_present=True, path=large, **header)
    maps = {path: mapped(path) for path in (small, large)}
    samples: dict[Path, list[float]] = {small: [], large: []}
    try:
        for path, data in maps.items():
            report, _ = read_kernel_dump(data, path.name)
            assert report.culprit.module == "VSApiNt" and not report.partial, report.notes
        # Interleaved, so that a busy moment of the machine hits both files alike.
        for _ in range(repeat * 3):
            for path, data in maps.items():
                start = time.perf_counter()
                read_kernel_dump(data, path.name)
                samples[path].append(time.perf_counter() - start)
    finally:
        for data in maps.values():
            data.close()
    timings = {path: statistics.median(times) for path, times in samples.items()}
    disk = os.stat(large).st_blocks * 512
    rows.append(("(b) 64 MiB bitmap MEMORY.DMP, read_kernel_dump on the mapped file (baseline)",
                 ms(timings[small]), "1.0", f"{os.path.getsize(small) >> 20} MiB"))
    rows.append(("(b) sparse 4 GiB bitmap MEMORY.DMP, same system, same reader", ms(timings[large]),
                 f"{timings[large] / timings[small]:.2f}",
                 f"{os.path.getsize(large) >> 20} MiB ({disk >> 20} MiB on disk)"))
    p_small = best(lambda: analyze_paths([str(small)]), max(3, repeat // 4))
    p_large = best(lambda: analyze_paths([str(large)]), max(3, repeat // 4))
    rows.append(("(b) analyze_paths on the 64 MiB file (hashed whole for duplicate detection)", ms(p_small), "1.0", ""))
    rows.append(("(b) analyze_paths on the 4 GiB file (header + 64 samples hashed)", ms(p_large),
                 f"{p_large / p_small:.2f}", ""))
    return small, large


def ours_pages(path: Path, vas: list[int]) -> None:
    data = mapped(path)
    try:
        view = View(data)
        h = read_header(view)
        phys, _ = physical_map(view, h, [])
        space = address_space(phys, h)
        for va in vas:
            assert space.read(va & ~0xFFF, db.PAGE) is not None
    finally:
        data.close()


def part_c(paths: list[Path], repeat: int, rows: list) -> None:
    try:
        import kdmp_parser
    except ImportError:
        rows.append(("(c) kdmp-parser", "skipped: pip install kdmp-parser==0.7.4", "", ""))
        return
    k = system(0x1000)
    vas = [k.module_list, k.kdbg, k.sp, *k.entries[::8]]
    for path in paths:
        if "4G" in path.name:
            k_big = system(0xF0000)
            vas = [k_big.module_list, k_big.kdbg, k_big.sp, *k_big.entries[::8]]

        def theirs(path=path, vas=vas):
            parser = kdmp_parser.KernelDumpParser(str(path))
            for va in vas:
                assert parser.read_virtual_page(va & ~0xFFF) is not None

        # kdmp-parser prints to stdout from C++; keep the table readable.
        devnull = os.open(os.devnull, os.O_WRONLY)
        saved = os.dup(1)
        try:
            os.dup2(devnull, 1)
            t_theirs = best(theirs, max(3, repeat // 4))
        finally:
            os.dup2(saved, 1)
            os.close(devnull)
            os.close(saved)
        t_ours = best(lambda path=path, vas=vas: ours_pages(path, vas), repeat)
        size = f"{os.path.getsize(path) >> 20} MiB"
        rows.append((f"(c) kdmp-parser 0.7.4: open + header + {len(vas)} virtual page reads, {path.name} (baseline)",
                     ms(t_theirs), "1.0", size))
        rows.append((f"(c) ours: map + header + page map + {len(vas)} virtual page reads, {path.name}",
                     ms(t_ours), f"{t_ours / t_theirs:.3f}", size))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    part_a(args.repeat, rows)
    with tempfile.TemporaryDirectory(prefix="crashdesk-bench-") as tmp:
        small, large = part_b(Path(tmp), args.repeat, rows)
        part_c([small, large], args.repeat, rows)
    print(f"Python {sys.version.split()[0]}, median of {args.repeat} runs after a warm-up\n")
    print("| measurement | median time | ratio to its baseline | file |")
    print("|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
