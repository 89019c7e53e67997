"""Case desk speed: digest over 10,000 open cases, case lookup by number
with 100,000 cases stored.  Baselines in the same run: the bare SQL that
fetches the same rows through sqlite3, without the desk's model and
rendering.

    .venv/bin/python bench/bench_desk.py
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.desk import Desk, DeskConfig  # noqa: E402
from handlers.digest import digest_reply  # noqa: E402
from analysis.render.doc import to_plain  # noqa: E402
from store import Store, cases  # noqa: E402
from store.db import connect  # noqa: E402

START = datetime(2021, 1, 1, tzinfo=timezone.utc)


def fill(path: Path, total: int, open_p3: int, rng: random.Random) -> list[str]:
    db = connect(path)
    rows, numbers = [], []
    for i in range(total):
        number = f"CAS-{i:05d}-{rng.randrange(36**6):06X}"[:16]
        numbers.append(number)
        opened = START + timedelta(minutes=i)
        is_open = i < open_p3
        rows.append({
            "number": number, "title": f"branch {i % 97} win10 blue screen", "customer": f"BANK{i % 50}",
            "priority": "P3" if is_open or i % 4 else "P2", "status": "open" if is_open else "archived",
            "opened_at": opened.isoformat(), "updated_at": opened.isoformat(),
            "last_contact_at": (opened + timedelta(days=1)).isoformat(),
            "next_action": "观察一周", "next_action_due": (opened + timedelta(days=7)).date().isoformat(),
            "verdict_line": "2 dumps: 0x1A, 0x139 → AsiaInfo Security (VSApiNt, TmXPFlt) · high",
        })
    with db.conn:
        db.utils["cases"].insert_all(rows, batch_size=2000)
    db.close()
    return numbers


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> int:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        numbers = fill(path, 100_000, 10_000, rng)
        print(f"filled 100,000 cases (10,000 open P3) in {time.perf_counter() - t0:.1f} s")
        store = Store(path)
        raw = sqlite3.connect(path)
        sample = rng.sample(numbers, 2000)

        lookup = timed(lambda: [store.call_sync(cases.get, n) for n in sample], 3) / len(sample)
        base = timed(lambda: [raw.execute("select * from cases where number = ?", (n,)).fetchone() for n in sample], 3) / len(sample)
        print(f"lookup by number: {lookup * 1e6:.0f} µs (bare SQL {base * 1e6:.0f} µs, ratio {lookup / base:.1f}x)")

        desk = Desk(store, DeskConfig(data_dir=tmp, tz="Asia/Shanghai", digest_priorities=("P3",)),
                    clock=lambda: START + timedelta(days=400))

        async def digest():
            reply = await digest_reply(desk, "en", ("P3",), desk.now())
            return to_plain(reply.doc)

        text = asyncio.run(digest())
        full = timed(lambda: asyncio.run(digest()), 5)
        bare = timed(lambda: raw.execute(
            "select * from cases where status in ('open','observing') and priority = 'P3' "
            "order by opened_at limit 201").fetchall(), 5)
        count = timed(lambda: raw.execute(
            "select count(*) from cases where status in ('open','observing') and priority = 'P3'").fetchone(), 5)
        print(f"digest over 10,000 open P3 cases (first 200 listed, total counted): {full * 1000:.1f} ms "
              f"(bare SQL rows {bare * 1000:.1f} ms + count {count * 1000:.1f} ms, ratio {full / (bare + count):.1f}x); "
              f"{len(text.splitlines())} lines")
        store.close()
        raw.close()
        desk.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
