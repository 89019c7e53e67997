"""The one analysis path: every door (Slack, WeCom, the terminal, the
board's upload form) files its uploads under the case and then submits the
same job, ``analyse(case, files)``.  The job reads the case's stored files
in a worker process, keeps each file's part of the verdict under the
current engine, sets the case verdict and answers where the upload came
from (the door's *outlet*, registered by its adapter).

Durable and idempotent: the job's dedupe key is the case, the files and the
engine version, so a message handled twice (a retry, a crash) queues it
once; and a file attached but never analysed under the current engine (the
process died in between) is analysed when its upload is seen again.  Where
no queue serves a door (the terminal, tests) the same job runs inline."""

from __future__ import annotations

import asyncio
import itertools
import logging
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from analysis.render.doc import Doc
from handlers.events import Action, Reply, Send
from handlers.texts import t
from handlers.worker import ENGINE_VERSION, analyze_case_files
from store import cases, evidence, memory, ops

log = logging.getLogger("crashdesk.analyse")
KIND = "analyse"


def kind_for(platform: str) -> str:
    """Jobs are claimed only by instances that can answer on their door."""
    return f"{KIND}.{platform}"


class Outlet(Protocol):
    """Where the answer of a job goes: a door's adapter, given the route it
    put on the event (channel, thread, person...).  ``key`` names the reply
    for ``posted``: whether a reply of that key is already there (after a
    crash in the middle of posting it); None when the platform cannot tell."""

    async def send(self, route: dict, reply: Reply, key: str | None = None) -> None: ...

    async def posted(self, route: dict, key: str) -> bool | None: ...

    async def finished(self, route: dict, ok: bool) -> None: ...


@dataclass
class AnalysisJob:
    case_id: int | None  # None: files sent before there was a case
    dump_ids: list[int]  # the new files (for a case, every file of it is read)
    labels: list[str]  # their names, as the person knows them
    lang: str
    platform: str
    route: dict
    # The message that brought the files (platform:channel:ts): a platform's
    # retry of it is the same job, a later upload is not.  SQLite gives a
    # refused (deleted) file's id to the next file, so the ids alone would
    # take a second upload for the first one's finished job and answer it
    # with nothing.
    event: str = ""

    def payload(self) -> dict:
        return {"case": self.case_id, "dumps": self.dump_ids, "labels": self.labels, "lang": self.lang,
                "platform": self.platform, "route": self.route, "event": self.event}

    @classmethod
    def of(cls, payload: dict) -> "AnalysisJob":
        return cls(payload.get("case"), list(payload.get("dumps") or []), list(payload.get("labels") or []),
                   payload.get("lang") or "en", payload["platform"], payload.get("route") or {},
                   str(payload.get("event") or ""))

    def dedupe(self) -> str:
        where = self.case_id if self.case_id is not None else "loose"
        key = f"{KIND}:{where}:{','.join(str(i) for i in sorted(self.dump_ids))}:{ENGINE_VERSION}"
        return f"{key}:{self.event}" if self.event else key


class AnalysisFailed(Exception):
    """The worker did not come back: timed out, or died (out of memory).
    Not retried: the same file would do the same again."""


async def submit(desk, job: AnalysisJob, send: Send) -> int | None:
    """Queue the job where a queue serves this door, else run it now.  The
    queued job's id, for a door that waits for it (the board)."""
    kind = kind_for(job.platform)
    queue = desk.queue
    if queue is not None and queue.serves(kind):
        return await queue.enqueue(kind, job.payload(), job.dedupe())
    await run(desk, job, send)
    return None


def runner(desk, outlet: Outlet) -> tuple[Callable[[dict], Awaitable[None]], Callable[[dict, str], Awaitable[None]]]:
    """(run, give_up) for the job queue, answering through ``outlet``."""

    async def run_job(payload: dict) -> None:
        job = AnalysisJob.of(payload)

        async def send(reply: Reply, key: str) -> None:
            await outlet.send(job.route, reply, key)

        async def posted(key: str) -> bool | None:
            return await outlet.posted(job.route, key)

        ok = await run(desk, job, once(desk, job.dedupe(), send, posted))
        await outlet.finished(job.route, ok)

    async def give_up(payload: dict, error: str) -> None:
        job = AnalysisJob.of(payload)
        why = t(job.lang, "try_again_later")
        await outlet.send(job.route, desk.info(t(job.lang, "not_analysed", name=", ".join(job.labels), why=why)))
        await outlet.finished(job.route, False)

    return run_job, give_up


def once(desk, key: str, send: Callable[[Reply, str], Awaitable[None]],
         posted: Callable[[str], Awaitable[bool | None]] | None = None) -> Send:
    """The replies of a job, each posted once however often the job runs (a
    job gives its replies in the same order every time).  The n-th reply is
    marked "sending" before it is posted and "sent" after; a run after a
    crash passes over what is sent, and for what was being sent asks the
    platform (``posted``) whether it got there."""
    count = itertools.count()

    async def send_once(reply: Reply) -> None:
        mark = f"{key}:{next(count)}"
        at = desk.iso(desk.now())
        if await desk.store.call(ops.seen, f"sent:{mark}"):
            return
        if not await desk.store.call(ops.first_sighting, f"sending:{mark}", at):
            # The run before died while posting it: did the post get through?
            if posted is not None and await posted(mark):
                await desk.store.call(ops.first_sighting, f"sent:{mark}", at)
                return
        if desk.queue is not None and not await desk.queue.fence():
            raise asyncio.CancelledError("the job was taken over by another instance")
        await send(reply, mark)
        await desk.store.call(ops.first_sighting, f"sent:{mark}", at)

    return send_once


# ----------------------------------------------------------------- the job

async def run(desk, job: AnalysisJob, send: Send) -> bool:
    """True when a verdict was given."""
    if job.case_id is None:
        return await _loose(desk, job, send)
    case = await desk.store.call(cases.get_by_id, job.case_id)
    if case is None:
        return False
    return await _case(desk, case, job, send)


def _labels(rows: list[dict]) -> list[tuple[int, str, str]]:
    """(dump id, unique label, where it is stored): two uploads named alike stay apart."""
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        name = row["name"]
        seen[name] = seen.get(name, 0) + 1
        label = name if seen[name] == 1 else f"{name} ({seen[name]})"
        out.append((row["id"], label, row["path"]))
    return out


async def _analyse(desk, items: list[tuple[int, str, str]], lang: str, detail: list[str] | None):
    """In a worker process, under the hard timeout: a stuck or dying worker
    is killed and replaced, whatever the analysis's own time budget."""
    loop = asyncio.get_running_loop()
    known = await desk.store.call(memory.confirmed_rules)
    try:
        # The analysis's own budget ends before the hard timeout, so that a
        # slow input comes back partial (saying what was cut), not killed.
        work = loop.run_in_executor(desk.executor, analyze_case_files, [(label, path) for _, label, path in items],
                                    lang, detail, desk.config.storage, known, desk.config.analysis_timeout * 0.8)
        return await asyncio.wait_for(work, desk.config.analysis_timeout)
    except asyncio.TimeoutError:
        desk.reset_executor()
        raise AnalysisFailed(t(lang, "analysis_timeout")) from None
    except BrokenProcessPool:
        desk.reset_executor()
        raise AnalysisFailed(t(lang, "analysis_died")) from None


async def _save(desk, items, verdict: dict, summary: str) -> None:
    """One analysis row per file, with the part of the verdict it produced."""
    at = desk.iso(desk.now())
    for dump_id, label, _ in items:
        mine = [d for d in verdict["dumps"] if d["source"] == label or d["source"].startswith(label + ":")]
        if mine:
            await desk.store.call(evidence.save_analysis, dump_id, ENGINE_VERSION, {"dumps": mine}, summary, at)


async def _case(desk, case, job: AnalysisJob, send: Send) -> bool:
    lang = job.lang
    failed = await desk.store.call(evidence.failed_dumps, case.id)
    rows = [r for r in await desk.store.call(evidence.case_dumps, case.id) if r["id"] not in failed]
    items = _labels(rows)
    label_of = {row["name"]: label for row, (_, label, _) in zip(rows, items)}
    detail = [label_of.get(name, name) for name in job.labels]
    try:
        result = await _analyse(desk, items, lang, detail)
    except AnalysisFailed as exc:
        # The new files are what changed: set them aside and say so; the
        # case keeps the verdict of the files that could be read.
        for dump_id, label, _ in items:
            if label in detail:
                await desk.store.call(evidence.mark_failed, dump_id, ENGINE_VERSION, str(exc), desk.iso(desk.now()))
        await send(desk.info(t(lang, "not_analysed", name=", ".join(detail), why=exc)))
        return False
    verdict, verdict_zh, doc, summary = result
    said = verdict_zh if lang == "zh" and verdict_zh else verdict
    unread = _unread(items, detail, verdict, said)
    if unread:
        await _refuse(desk, unread, case.id, job)
    if len(unread) == len(detail):
        # Nothing new could be read: the refusal alone, not the case's
        # verdict again as if it had changed.
        await send(Reply(_refusals(Doc(), unread, lang), kind="error", case_number=case.number))
        return False
    refused = {label for _, label, _ in unread}
    await _save(desk, items, verdict, summary)
    from handlers.cards import verdict_line

    if verdict["dumps"]:
        await desk.store.call(cases.set_verdict, case.id, verdict_line(verdict, "en"), verdict,
                              desk.iso(desk.now()), verdict_zh)
    _refusals(doc, unread, lang)
    for problem in said.get("errors", []):
        if any(problem["source"].startswith(d) for d in detail) and not _of(problem["source"], refused):
            doc.para(t(lang, "not_analysed", name=problem["source"], why=problem["message"]))
    from handlers.memory import seen_line, similar_of

    seen = seen_line(await similar_of(desk, case), lang)
    if seen:
        doc.field(t(lang, "card_seen"), seen)
    doc.para(t(lang, "attached_to", number=case.number))
    reply = Reply(doc, kind="verdict", case_number=case.number, binds_case=case.number)
    reply.actions = [Action("call", t(lang, "btn_call"), case.number),
                     Action("archive", t(lang, "btn_archive"), case.number)]
    await send(reply)
    return True


def _of(source: str, labels) -> bool:
    """A verdict's source ("x.zip:Mini1.dmp") comes from one of these files."""
    return any(source == label or source.startswith(label + ":") for label in labels)


def _unread(items, detail: list[str], verdict: dict, said: dict) -> list[tuple[int, str, str]]:
    """The new files no reader could read (an error said, nothing found):
    (dump id, label, why, in the reply's language)."""
    out = []
    for dump_id, label, _ in items:
        if label not in detail or any(_of(d["source"], [label]) for d in verdict.get("dumps", [])):
            continue
        why = [p["message"] for p in said.get("errors", []) if _of(p["source"], [label])]
        if why:
            out.append((dump_id, label, "; ".join(dict.fromkeys(why))))
    return out


def _refusals(doc: Doc, unread, lang: str) -> Doc:
    """One paragraph per file refused, in the reply's language."""
    for _, label, why in unread:
        doc.para(t(lang, "refused", name=label, why=why))
    return doc


async def _refuse(desk, unread, case_id: int | None, job: AnalysisJob) -> None:
    """Unreadable uploads are not filed, not counted, not kept."""
    at = desk.iso(desk.now())
    for dump_id, _, _ in unread:
        path = await desk.store.call(evidence.refuse, dump_id, case_id=case_id, who=None, at=at,
                                     platform=job.platform)
        if path:
            try:
                await asyncio.get_running_loop().run_in_executor(None, desk.files.remove, path)
            except Exception as exc:  # the record is right; a file left over is only space
                log.warning("could not remove the refused upload %s: %s", path, exc)


async def _loose(desk, job: AnalysisJob, send: Send) -> bool:
    rows = [r for r in [await desk.store.call(evidence.dump, i) for i in job.dump_ids] if r]
    items = _labels(rows)
    labels = [label for _, label, _ in items]
    try:
        verdict, verdict_zh, doc, summary = await _analyse(desk, items, job.lang, labels)
    except AnalysisFailed as exc:
        for dump_id, _, _ in items:
            await desk.store.call(evidence.mark_failed, dump_id, ENGINE_VERSION, str(exc), desk.iso(desk.now()))
        await send(desk.info(t(job.lang, "not_analysed", name=", ".join(labels), why=exc)))
        return False
    said = verdict_zh if job.lang == "zh" and verdict_zh else verdict
    unread = _unread(items, labels, verdict, said)
    if unread:
        await _refuse(desk, unread, None, job)
    if len(unread) == len(labels):
        await send(Reply(_refusals(Doc(), unread, job.lang), kind="error"))
        return False
    refused = {label for _, label, _ in unread}
    await _save(desk, items, verdict, summary)
    _refusals(doc, unread, job.lang)
    for problem in said.get("errors", []):
        if not _of(problem["source"], refused):
            doc.para(t(job.lang, "not_analysed", name=problem["source"], why=problem["message"]))
    doc.para(t(job.lang, "no_case_offer"))
    reply = Reply(doc, kind="verdict")
    reply.actions = [Action("open", t(job.lang, "btn_open"), "")]
    await send(reply)
    return True


def _doc(text: str) -> Doc:
    doc = Doc()
    doc.para(text)
    return doc
