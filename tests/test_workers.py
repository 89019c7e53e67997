"""Analysis worker processes that do not come back: a timeout or a killed
worker (out of memory on a huge MEMORY.DMP) must not poison later uploads."""

import asyncio
import os
import signal
from datetime import datetime, timezone
from pathlib import Path

from engines import db_for
from deskkit import Chat, Clock, bytes_attachment, file_attachment
from handlers.desk import Desk, DeskConfig
from store import Store, cases, evidence
import pytest

pytestmark = pytest.mark.usefixtures("store_backend")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "seed-shaped-thread.txt"
NUMBER = "CAS-04716-C3F2K9"


async def real_desk(tmp_path, timeout):
    store = Store(db_for(tmp_path, "w.db"))
    await store.open()
    desk = Desk(store, DeskConfig(data_dir=str(tmp_path / "data"), analysis_timeout=timeout),
                clock=Clock(datetime(2021, 9, 1, tzinfo=timezone.utc)))
    return desk, store


async def test_a_timed_out_analysis_gets_fresh_workers_and_is_set_aside(tmp_path):
    desk, store = await real_desk(tmp_path, timeout=0.001)  # nothing finishes in a millisecond
    try:
        chat = Chat(desk)
        await chat.say(f"case open {NUMBER} P3 customer:ICBC test")
        root = chat.last_ts
        out = chat.text(await chat.say("", thread=root, files=[bytes_attachment("slow.txt", EXAMPLE.read_bytes() + b"\n#1")]))
        assert "Could not analyse slow.txt: timed out" in out
        case = await store.call(cases.get, NUMBER)
        assert len(await store.call(evidence.failed_dumps, case.id)) == 1
        desk.config.analysis_timeout = 120
        out = chat.text(await chat.say("", thread=root, files=[file_attachment(EXAMPLE)]))
        assert "one vendor: AsiaInfo Security" in out  # new workers, and the stuck file left out
    finally:
        desk.close()
        store.close()


async def test_a_killed_worker_does_not_break_later_uploads(tmp_path):
    desk, store = await real_desk(tmp_path, timeout=120)
    try:
        chat = Chat(desk)
        await chat.say(f"case open {NUMBER} P3 customer:ICBC test")
        root = chat.last_ts
        await chat.say("", thread=root, files=[file_attachment(EXAMPLE)])  # workers are up

        async def kill_soon():
            for _ in range(200):
                procs = list((getattr(desk.executor, "_processes", None) or {}).values())
                if procs:
                    for p in procs:
                        os.kill(p.pid, signal.SIGKILL)
                    return
                await asyncio.sleep(0.005)

        killer = asyncio.create_task(kill_soon())
        out = chat.text(await chat.say("", thread=root, files=[bytes_attachment("big.txt", EXAMPLE.read_bytes() * 200)]))
        await killer
        assert "Could not analyse big.txt" in out or "one vendor" in out  # the race may go either way
        out = chat.text(await chat.say("", thread=root, files=[bytes_attachment("next.txt", EXAMPLE.read_bytes() + b"\n#2")]))
        assert "one vendor: AsiaInfo Security" in out
    finally:
        desk.close()
        store.close()
