"""Files attached to a message: stored once per content, filed under the
case, then handed to the one analysis job (handlers.analyse), which answers
with the verdict.  Every new dump re-runs the case-level correlation over
all of the case's evidence."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from analysis.render.doc import Doc
from analysis.render.texts import join
from handlers import analyse
from handlers.events import ChatEvent, Reply, TempFile
from handlers.texts import t
from handlers.worker import ENGINE_VERSION
from store import evidence
from store.cases import Case

log = logging.getLogger("crashdesk.uploads")
CHUNK = 1024 * 1024
# Files taken from one message (a mail may carry thousands of parts, a
# form any number): every one becomes a stored file and a reader's run.
MAX_FILES = 20


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _chunks(data: bytes | str):
    if isinstance(data, bytes):
        for i in range(0, len(data), CHUNK):
            yield data[i : i + CHUNK]
        if not data:
            yield b""
        return
    with open(data, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                return
            yield chunk


async def handle(desk, ctx, case: Case | None, held_for: str | None = None) -> None:
    """``held_for``: the files name a case not opened yet; they wait for it
    (stored, not analysed) and go under it when it is opened."""
    e = ctx.event
    names = join([f.name for f in e.files[:MAX_FILES]], ctx.lang)
    if held_for is None:
        await ctx.send(Reply(_doc(t(ctx.lang, "received", names=names)), kind="ack",
                             case_number=case.number if case else None))
    files = e.files[:MAX_FILES]
    if len(e.files) > MAX_FILES:
        rest = e.files[MAX_FILES:]
        shown = join([f.name for f in rest[:5]], ctx.lang) + ("…" if len(rest) > 5 else "")
        await ctx.send(desk.info(t(ctx.lang, "too_many_files", n=len(e.files), limit=MAX_FILES, rest=shown)))
    loop = asyncio.get_running_loop()
    new: list[tuple[int, str]] = []  # (dump id, label)
    for att in files:
        if att.size is not None and att.size > desk.config.max_upload:
            await ctx.send(desk.info(t(ctx.lang, "too_large", name=att.name, size=_size(att.size),
                                       limit=_size(desk.config.max_upload))))
            continue
        try:
            data = await att.fetch()
        except Exception as exc:  # the platform said no: say why in the channel
            await ctx.send(desk.info(t(ctx.lang, "fetch_failed", name=att.name, why=exc)))
            continue
        size = len(data) if isinstance(data, bytes) else Path(data).stat().st_size
        if size > desk.config.max_upload:
            await ctx.send(desk.info(t(ctx.lang, "too_large", name=att.name, size=_size(size),
                                       limit=_size(desk.config.max_upload))))
            continue
        try:
            stored = await loop.run_in_executor(None, lambda: desk.files.save(att.name, _chunks(data)))
        finally:
            if isinstance(data, TempFile):
                Path(data).unlink(missing_ok=True)
        dump_id = await desk.store.call(evidence.add_dump, stored, att.name, None, desk.iso(ctx.now))
        if case:
            added = await desk.store.call(evidence.attach, case.id, dump_id, who=ctx.who, at=desk.iso(ctx.now),
                                          platform=e.platform)
            if not added and await desk.store.call(evidence.analysed, dump_id, ENGINE_VERSION):
                # The case has this file already (under any name): its verdict stands.
                await ctx.send(desk.info(t(ctx.lang, "already_attached", name=att.name, number=case.number)))
                continue
            # Attached but never analysed under this engine (the process
            # died in between, or the engine changed): still work to do.
        else:
            waits = evidence.held_for(held_for) if held_for else ctx.conversation
            await desk.store.call(evidence.park_upload, e.platform, e.channel, waits, ctx.who, dump_id,
                                  desk.iso(ctx.now))
        new.append((dump_id, att.name))
    if not new:
        return
    if held_for:
        await ctx.send(desk.info(t(ctx.lang, "held", names=join([label for _, label in new], ctx.lang), number=held_for)))
        return
    if case:
        await desk.focus(ctx, case)
        await analyse_case(desk, ctx, case, [label for _, label in new] + (ctx.filed if ctx.filed_into is case else []),
                           [dump_id for dump_id, _ in new])
    else:
        ctx.analysed = True
        ctx.jobs.append(await analyse.submit(desk, analyse.AnalysisJob(
            None, [dump_id for dump_id, _ in new], [label for _, label in new], ctx.lang, e.platform,
            e.route or {}, _event_key(e)), ctx.send))


async def analyse_case(desk, ctx, case: Case, labels: list[str], dump_ids: list[int] | None = None) -> None:
    """Hand the case's new files to the analysis job."""
    ctx.analysed = True
    named = [r["id"] for r in await desk.store.call(evidence.case_dumps, case.id) if r["name"] in labels]
    dump_ids = sorted(set(dump_ids or []) | set(named))
    job = analyse.AnalysisJob(case.id, dump_ids, labels, ctx.lang, ctx.event.platform, ctx.event.route or {},
                              _event_key(ctx.event))
    ctx.jobs.append(await analyse.submit(desk, job, ctx.send))


def _event_key(e: ChatEvent) -> str:
    """The message's identity, for the analysis job's dedupe key."""
    return f"{e.platform}:{e.channel}:{e.ts}"


def _doc(text: str) -> Doc:
    doc = Doc()
    doc.para(text)
    return doc
