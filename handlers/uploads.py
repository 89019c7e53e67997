"""Files attached to a message: stored once per content, filed under the
case, analysed in a worker process, answered with the verdict.  Every new
dump re-runs the case-level correlation over all of the case's evidence."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from analysis.render.doc import Doc
from handlers.events import Action, Reply, TempFile
from handlers.texts import t
from handlers.worker import ENGINE_VERSION, analyze_case_files
from store import cases, evidence
from store.cases import Case

log = logging.getLogger("crashdesk.uploads")
CHUNK = 1024 * 1024


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


async def handle(desk, ctx, case: Case | None) -> None:
    e = ctx.event
    names = ", ".join(f.name for f in e.files)
    await ctx.send(Reply(_doc(t(ctx.lang, "received", names=names)), kind="ack",
                         case_number=case.number if case else None))
    loop = asyncio.get_running_loop()
    new: list[tuple[int, str]] = []  # (dump id, label)
    for att in e.files:
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
            stored = await loop.run_in_executor(None, lambda: evidence.save_file(desk.config.data_dir, att.name, _chunks(data)))
        finally:
            if isinstance(data, TempFile):
                Path(data).unlink(missing_ok=True)
        dump_id = await desk.store.call(evidence.add_dump, stored, att.name, None, desk.iso(ctx.now))
        if case:
            added = await desk.store.call(evidence.attach, case.id, dump_id, who=ctx.who, at=desk.iso(ctx.now),
                                          platform=e.platform)
            if not added:
                # The case has this file already (under any name): its verdict stands.
                await ctx.send(desk.info(t(ctx.lang, "already_attached", name=att.name, number=case.number)))
                continue
        else:
            await desk.store.call(evidence.park_upload, e.platform, e.channel, ctx.conversation, ctx.who, dump_id,
                                  desk.iso(ctx.now))
        new.append((dump_id, att.name))
    if not new:
        return
    if case:
        await desk.focus(ctx, case)
        await analyse_case(desk, ctx, case, [label for _, label in new] + (ctx.filed if ctx.filed_into is case else []))
    else:
        await analyse_loose(desk, ctx, new)


def _labels(rows: list[dict]) -> list[tuple[int, str, str]]:
    """(dump id, unique label, path): two uploads named alike stay apart."""
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        name = row["name"]
        seen[name] = seen.get(name, 0) + 1
        label = name if seen[name] == 1 else f"{name} ({seen[name]})"
        out.append((row["id"], label, row["path"]))
    return out


class AnalysisFailed(Exception):
    """The worker did not come back: timed out, or died (out of memory)."""


async def _analyse(desk, items: list[tuple[int, str, str]], lang: str, detail: list[str] | None):
    loop = asyncio.get_running_loop()
    try:
        job = loop.run_in_executor(desk.executor, analyze_case_files, [(label, path) for _, label, path in items],
                                   lang, detail)
        return await asyncio.wait_for(job, desk.config.analysis_timeout)
    except asyncio.TimeoutError:
        desk.reset_executor()
        raise AnalysisFailed(t(lang, "analysis_timeout")) from None
    except BrokenProcessPool:
        desk.reset_executor()
        raise AnalysisFailed(t(lang, "analysis_died")) from None


async def _save(desk, ctx, items, verdict: dict, summary: str) -> None:
    """One analysis row per file, with the part of the verdict it produced."""
    at = desk.iso(ctx.now)
    for dump_id, label, _ in items:
        mine = [d for d in verdict["dumps"] if d["source"] == label or d["source"].startswith(label + ":")]
        if mine:
            await desk.store.call(evidence.save_analysis, dump_id, ENGINE_VERSION, {"dumps": mine}, summary, at)


async def analyse_case(desk, ctx, case: Case, new_labels: list[str]) -> None:
    ctx.analysed = True
    failed = await desk.store.call(evidence.failed_dumps, case.id)
    rows = [r for r in await desk.store.call(evidence.case_dumps, case.id) if r["id"] not in failed]
    items = _labels(rows)
    label_of = {row["name"]: label for row, (_, label, _) in zip(rows, items)}
    detail = [label_of.get(name, name) for name in new_labels]
    try:
        result = await _analyse(desk, items, ctx.lang, detail)
    except AnalysisFailed as exc:
        # The new files are what changed: set them aside and say so; the
        # case keeps the verdict of the files that could be read.
        new_ids = [dump_id for dump_id, label, _ in items if label in detail]
        for dump_id in new_ids:
            await desk.store.call(evidence.mark_failed, dump_id, ENGINE_VERSION, str(exc), desk.iso(ctx.now))
        await ctx.send(desk.info(t(ctx.lang, "not_analysed", name=", ".join(detail), why=exc)))
        return
    except Exception as exc:
        log.exception("analysis failed")
        await ctx.send(desk.info(t(ctx.lang, "not_analysed", name=", ".join(detail), why=exc)))
        return
    verdict, verdict_zh, doc, summary = result
    await _save(desk, ctx, items, verdict, summary)
    from handlers.cards import verdict_line

    if verdict["dumps"]:
        await desk.store.call(cases.set_verdict, case.id, verdict_line(verdict, "en"), verdict, desk.iso(ctx.now),
                              verdict_zh)
    for problem in verdict.get("errors", []):
        if any(problem["source"].startswith(d) for d in detail):
            doc.para(t(ctx.lang, "not_analysed", name=problem["source"], why=problem["message"]))
    doc.para(t(ctx.lang, "attached_to", number=case.number))
    reply = Reply(doc, kind="verdict", case_number=case.number, binds_case=case.number)
    reply.actions = [Action("call", t(ctx.lang, "btn_call"), case.number),
                     Action("archive", t(ctx.lang, "btn_archive"), case.number)]
    await ctx.send(reply)


async def analyse_loose(desk, ctx, new: list[tuple[int, str]]) -> None:
    rows = [await desk.store.call(evidence.dump, dump_id) for dump_id, _ in new]
    items = _labels(rows)
    labels = [label for _, label, _ in items]
    try:
        verdict, _, doc, summary = await _analyse(desk, items, ctx.lang, labels)
    except Exception as exc:
        if not isinstance(exc, AnalysisFailed):
            log.exception("analysis failed")
        for dump_id, _, _ in items:
            await desk.store.call(evidence.mark_failed, dump_id, ENGINE_VERSION, str(exc), desk.iso(ctx.now))
        await ctx.send(desk.info(t(ctx.lang, "not_analysed", name=", ".join(labels), why=exc)))
        return
    await _save(desk, ctx, items, verdict, summary)
    for problem in verdict.get("errors", []):
        doc.para(t(ctx.lang, "not_analysed", name=problem["source"], why=problem["message"]))
    doc.para(t(ctx.lang, "no_case_offer"))
    reply = Reply(doc, kind="verdict")
    reply.actions = [Action("open", t(ctx.lang, "btn_open"), "")]
    await ctx.send(reply)


def _doc(text: str) -> Doc:
    doc = Doc()
    doc.para(text)
    return doc
