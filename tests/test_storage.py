"""Uploads in S3-compatible object storage (SeaweedFS on loopback, the real
server): streamed in, kept once per content, and a MEMORY.DMP analysed in
place with ranged reads that fetch a small part of the object."""

import asyncio
import os

import pytest

import dumpbuild as db
from deskkit import Chat, bytes_attachment, make_desk
from store import cases, evidence
from store.files import RangedObject, S3Files, is_s3
from test_binary_memory import DRIVERS, PARAMS, check_walk, machine, read

NUMBER = "CAS-04716-C3F2K9"


@pytest.fixture
def s3(seaweed, monkeypatch, request):
    for key, value in seaweed.env().items():
        monkeypatch.setenv(key, value)
    from store import files

    files._clients.clear()  # a client made before the variables were set
    return f"s3://crashdesk-test/{request.node.name.replace('[', '-').replace(']', '')}"


def test_a_large_upload_streams_in_parts_and_is_kept_once(s3):
    store = S3Files(s3)
    chunk = os.urandom(1024 * 1024)
    first = store.save("big.bin", (chunk for _ in range(20)))  # 20 MiB: three parts
    again = store.save("copy.bin", (chunk for _ in range(20)))
    assert first.path == again.path and first.size == 20 * 1024 * 1024 and is_s3(first.path)
    listed = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)
    keys = [o["Key"] for o in listed.get("Contents", [])]
    assert keys == [first.path.split("/", 3)[3]]  # no temporary object left behind
    obj = RangedObject(first.path, block=64 * 1024)
    assert obj[5 * 1024 * 1024 + 3: 5 * 1024 * 1024 + 9] == chunk[3:9] and obj[7] == chunk[7]
    assert obj.bytes_read == 2 * 64 * 1024 and obj.requests == 2  # the two blocks asked for, no more


async def test_a_memory_dump_in_object_storage_is_read_in_place(s3, tmp_path, store_backend):
    blob = db.bitmap_dump(machine(), total_pages=32 * 1024, all_present=True, **PARAMS)  # 128 MiB of RAM
    desk, store, _ = make_desk(tmp_path)
    desk.config.storage = s3
    await store.open()
    try:
        chat = Chat(desk)
        await chat.say(f"case open {NUMBER} P2 customer:ICBC test")
        out = chat.text(await chat.say("", thread=chat.last_ts, files=[bytes_attachment("MEMORY.DMP", blob)]))
        assert "VSApiNt" in out, out
        case = await store.call(cases.get, NUMBER)
        (row,) = await store.call(evidence.case_dumps, case.id)
        assert is_s3(row["path"]) and row["size"] == len(blob)
        assert not (tmp_path / "data").exists()  # nothing kept on local disk
    finally:
        desk.close()
        store.close()
    # What the reader fetched to get there: a small part of the object.
    from handlers.worker import open_stored

    piece = open_stored(row["path"])
    report = await asyncio.get_running_loop().run_in_executor(None, read, piece.data)
    check_walk(report, "kernel bitmap dump")
    assert piece.data.bytes_read < len(blob) / 20, (piece.data.bytes_read, len(blob))
    assert [m.image for m in report.modules.values() if not m.unloaded] == [d.image for d in DRIVERS]
