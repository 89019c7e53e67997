"""What arrives over HTTP, within a size cap: a request body read whole
(callbacks and events, small by nature), and files (a platform's download,
a form upload) written to a temp file as they come, never whole in memory,
nothing left on disk when the transfer fails or goes over the cap."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator

from handlers.events import TempFile

CHUNK = 1024 * 1024


class TooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"the file is larger than the {limit // 1024**2} MB limit")
        self.limit = limit


async def read_body(request, limit: int) -> bytes | None:
    """The whole body, or None when it is longer than ``limit`` (the rest
    is not read).  StreamReader.read(n) returns what has arrived so far,
    which for a body split across packets is only its first part."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    while chunk := await request.content.read(64 * 1024):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _owned(prefix: str) -> str:
    # The writer's pid in the name: after a crash (kill -9) the next start
    # can tell its own leftovers from another live process's downloads.
    return f"{prefix}{os.getpid()}-"


def sweep_orphans(folder: str | None = None) -> int:
    """Remove spooled downloads whose process is gone (it died before it
    could); the number removed."""
    folder = folder or tempfile.gettempdir()
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        parts = name.split("-")
        if len(parts) < 4 or parts[0] != "crashdesk" or not parts[2].isdigit():
            continue
        if alive(int(parts[2])):
            continue
        try:
            os.unlink(os.path.join(folder, name))
            removed += 1
        except OSError:
            pass
    return removed


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def spool(chunks: AsyncIterator[bytes], limit: int, prefix: str) -> TempFile:
    loop = asyncio.get_running_loop()
    tmp = tempfile.NamedTemporaryFile(prefix=_owned(prefix), delete=False)
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise TooLarge(limit)
            # A slow disk must not stall every other request.
            await loop.run_in_executor(None, tmp.write, chunk)
        tmp.close()
    except BaseException:
        tmp.close()
        os.unlink(tmp.name)
        raise
    return TempFile(tmp.name)
