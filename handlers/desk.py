"""The case desk: one ChatEvent in, replies out, the same for every platform.

Routing, in the order a support engineer would expect:
  1. a delivery seen before does nothing (platform retries);
  2. a message in a case's thread goes on that case's timeline;
  3. ``case <command> ...`` runs the command;
  4. a pasted CRM subject opens (or shows) the case it names;
  5. attached files are stored, analysed off the event loop, and answered
     with the verdict in the case's thread;
  6. case numbers mentioned get the case card."""

from __future__ import annotations

import logging
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Callable, Protocol
from zoneinfo import ZoneInfo

from analysis.render.doc import MAX_REPLY_BYTES, Doc, doc_bytes
from handlers import texts
from handlers.cards import card
from handlers.events import ChatEvent, Reply, Send
from handlers.parsing import (CASE_NUMBER, case_numbers, crm_subject, malformed_numbers, parse_command, parse_open,
                              strip_mention)
from handlers.texts import t
from store import Store, StoreError
from store.errors import CrashdeskError, Refused
from store import cases, evidence, ops, timeline
from store.cases import Case

log = logging.getLogger("crashdesk.desk")

class LinkSigner(Protocol):
    async def link_for(self, user: str, platform: str, case: str | None = None,
                       lang: str | None = None) -> tuple[str, int]: ...


@dataclass
class DeskConfig:
    data_dir: str
    lang: str = "en"
    tz: str = "UTC"
    max_upload: int = 2 * 1024**3
    digest_priorities: tuple[str, ...] = ("P3",)
    stale_days: int = 7
    analysis_timeout: float = 600.0
    board: LinkSigner | None = None  # a link signer, when the web board runs
    storage: str | None = None  # s3://bucket/prefix; None: the data_dir folder
    leads: tuple[str, ...] = ()  # who may confirm proposed known issues (CRASHDESK_LEADS); empty: anyone


@dataclass
class Ctx:
    event: ChatEvent
    lang: str
    send: Send
    now: datetime
    thread_case: Case | None = None
    filed: list[str] = field(default_factory=list)  # earlier uploads this event put under filed_into
    filed_into: Case | None = None
    analysed: bool = False  # the event's files went to the analysis job
    jobs: list[int | None] = field(default_factory=list)  # analysis jobs it queued
    said: int = 0  # replies given so far

    @property
    def who(self) -> str:
        return self.event.user_name or self.event.user

    @property
    def thread_root(self) -> str:
        return self.event.thread or self.event.ts

    @property
    def conversation(self) -> str:
        """Where uploads wait for a case: the thread, or on a platform
        without threads, the person (their next case is the one)."""
        return self.thread_root if self.event.threaded else f"user:{self.event.user}"


def _default_executor() -> Executor:
    import multiprocessing

    # spawn: worker processes start clean, without the loop's threads.
    return ProcessPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1)),
                               mp_context=multiprocessing.get_context("spawn"))


class Desk:
    def __init__(self, store: Store, config: DeskConfig, *, clock: Callable[[], datetime] | None = None,
                 executor: Executor | None = None):
        self.store = store
        self.config = config
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._executor = executor
        self.tz = ZoneInfo(config.tz)
        # The durable job queue (bot.jobs.JobQueue) when a server runs one:
        # uploads are analysed by its "analyse.<door>" jobs; without one
        # (the terminal, tests) the same job runs inline.
        self.queue = None
        self._files = None

    @property
    def files(self):
        """Where uploads are kept (store.files: a folder, or S3 storage)."""
        if self._files is None:
            from store.files import files_for

            self._files = files_for(self.config.storage or self.config.data_dir)
        return self._files

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = _default_executor()
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def reset_executor(self) -> None:
        """After an analysis timed out or a worker died: the stuck or broken
        worker processes are killed and the next analysis gets new ones
        (a process-pool future cannot be cancelled once it runs)."""
        executor = self._executor
        if not isinstance(executor, ProcessPoolExecutor):
            return  # an injected thread pool (tests) cannot be reset
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            try:
                process.kill()
            except (OSError, AttributeError):
                pass
        executor.shutdown(wait=False, cancel_futures=True)
        self._executor = None

    # -- time ---------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock()

    def today(self, now: datetime | None = None) -> date:
        return (now or self.now()).astimezone(self.tz).date()

    @staticmethod
    def iso(now: datetime) -> str:
        return now.astimezone(timezone.utc).isoformat(timespec="seconds")

    # -- entry points ---------------------------------------------------------
    async def handle(self, event: ChatEvent, send: Send, *, retry: bool = False) -> list[int]:
        """The analysis jobs the event queued (ids).  What the person can act
        on is said in the channel.  With ``retry`` (a job runner calls) a
        transient failure, or one nobody foresaw, is raised so that the
        runner tries again with backoff and reports it in the end; without,
        it is said in the channel and logged."""
        lang = event.lang or self.config.lang
        try:
            return [j for j in await self._handle(event, send) if j is not None]
        except Refused as exc:
            await send(self.info(t(lang, exc.key, **exc.fields)))
        except CrashdeskError as exc:
            if retry and exc.retryable:
                raise
            await send(self.error(t(lang, "db_error", why=exc) if isinstance(exc, StoreError)
                                  else t(lang, "not_now", why=exc)))
        except Exception:
            if retry:
                raise
            log.exception("handling %s event %s failed", event.platform, event.ts)
            await send(self.error(t(lang, "internal_error")))
        return []

    async def _handle(self, event: ChatEvent, send: Send) -> list[int | None]:
        now = self.now()
        if event.event_id:
            first = await self.store.call(ops.first_sighting, f"{event.platform}:{event.event_id}", self.iso(now))
            if not first:
                return []
        if event.is_bot:
            return []
        ctx = Ctx(event, await self.lang_for(event), send, now)
        ctx.send = self._worded(ctx, send)
        if event.thread:
            ctx.thread_case = await self.store.call(cases.case_for_thread, event.platform, event.channel, event.thread)
        if ctx.thread_case is None and not event.threaded:
            ctx.thread_case = await self.focused(event)
        from handlers import commands, uploads

        command = parse_command(event.text)
        # What people say in the case's thread goes on its timeline; commands
        # leave their own trace (a follow-up, a decision, the audit log).
        numbers = case_numbers(event.text)
        # Without threads, a message naming another case is about that case,
        # not the one in focus.
        about_focus = event.thread or not numbers or ctx.thread_case and ctx.thread_case.number in numbers
        # "cas show": a command mistyped is no word on the case.
        # (Said to the bot: in a channel's talk "cast list of ..." stays talk.)
        typo = commands.near_command(strip_mention(event.text)) \
            if command is None and not event.files and self.addressed(event) else None
        recorded = False
        if ctx.thread_case and command is None and typo is None and (event.thread or not event.threaded) \
                and about_focus:
            recorded = await self.record_message(ctx, ctx.thread_case)

        said = ctx.said
        if command is not None:
            await commands.run(self, ctx, *command)
        else:
            await self._route(ctx, numbers)
            if ctx.said == said and self.addressed(event):
                # Nothing else answered it: one to one (or when addressed)
                # nothing goes unanswered.
                await self._answer_free_text(ctx, typo, recorded)
        if ctx.filed and not ctx.analysed:
            await uploads.analyse_case(self, ctx, ctx.filed_into, ctx.filed)
        return ctx.jobs

    async def _route(self, ctx: Ctx, numbers: list[str]) -> None:
        from handlers import commands, uploads

        event, send = ctx.event, ctx.send
        subject = crm_subject(event.text)
        opened = None
        if subject:
            opened = await commands.open_from_subject(self, ctx, subject, quiet=bool(event.files))
        if event.files:
            # A file goes where it was sent: the case its message names
            # (opened now when the message says what it is about, else held
            # until it is opened), never the one talked about before.
            target = opened
            if target is None and numbers:
                target = await self.store.call(cases.get, numbers[0])
                if target is None:
                    args = parse_open(strip_mention(CASE_NUMBER.sub(" ", event.text)))
                    if not args.title:
                        await uploads.handle(self, ctx, None, held_for=numbers[0])
                        return
                    target = await commands.open_number(self, ctx, numbers[0], args)
            elif target is None:
                target = ctx.thread_case
            await uploads.handle(self, ctx, target)
            return
        if subject:
            return
        if numbers:
            for number in numbers[:5]:
                found = await self.store.call(cases.get, number)
                if found:
                    await self.show_card(ctx, found)
                else:
                    await send(self.offer_open(ctx, number))
            return
        for token in malformed_numbers(event.text)[:1]:
            await send(self.info(t(ctx.lang, "malformed_number", token=token)))

    @staticmethod
    def addressed(event: ChatEvent) -> bool:
        """Said to the bot: one to one, a slash command, or a mention first."""
        return event.direct or event.via_command or strip_mention(event.text) != (event.text or "")

    async def _answer_free_text(self, ctx: Ctx, typo: str | None, recorded: bool) -> None:
        text = " ".join(strip_mention(ctx.event.text).split())
        if not text:
            return
        if typo:
            await ctx.send(self.info(t(ctx.lang, "near_command", verb=typo)))
        elif recorded and ctx.thread_case:
            await ctx.send(self.info(t(ctx.lang, "free_noted", number=ctx.thread_case.number)))
        else:
            shown = text if len(text) <= 60 else text[:57] + "…"
            await ctx.send(self.info(t(ctx.lang, "free_unknown", text=shown)))

    # -- shared helpers ---------------------------------------------------------
    async def lang_for(self, event: ChatEvent) -> str:
        stored = await self.store.call(ops.get_setting, f"lang:{event.platform}:{event.channel}")
        lang = stored or event.lang or self.config.lang
        return lang if lang in texts.T else "en"

    @staticmethod
    def _focus_key(event: ChatEvent) -> str:
        # Per person, across chats: a dump sent one to one belongs to the
        # case that person last talked about in the group.
        return f"focus:{event.platform}:{event.user}"

    async def focused(self, event: ChatEvent) -> Case | None:
        number = await self.store.call(ops.get_setting, self._focus_key(event))
        return await self.store.call(cases.get, number) if number else None

    async def focus(self, ctx: Ctx, case: Case) -> None:
        """Remember the case this conversation is about, and tie the thread
        (where the platform has threads) to it."""
        e = ctx.event
        if not e.threaded:
            await self.store.call(ops.set_setting, self._focus_key(e), case.number)
        else:
            await self.store.call(cases.bind_thread, case.id, e.platform, e.channel, ctx.thread_root, self.iso(ctx.now))
        ctx.thread_case = ctx.thread_case or case
        # Files sent here before there was a case go under this one now.
        names = await self.store.call(evidence.file_parked, e.platform, e.channel, ctx.conversation, case.id,
                                      who=ctx.who, at=self.iso(ctx.now))
        # And files sent for this case by its number before it was opened.
        names += await self.store.call(evidence.file_held, case.number, case.id, who=ctx.who, at=self.iso(ctx.now))
        if names:
            ctx.filed, ctx.filed_into = ctx.filed + names, case

    async def record_message(self, ctx: Ctx, case: Case) -> bool:
        e = ctx.event
        if not e.text.strip():
            return False
        added = await self.store.call(
            timeline.add_message, case.id, platform=e.platform, channel=e.channel, thread=e.thread, ts=e.ts,
            user=ctx.who, text=e.text, is_bot=e.is_bot, at=self.iso(ctx.now))
        if added:
            # Everyone in the chat is on the support side: the first human
            # word in the case's thread is the first response.
            await self.store.call(cases.mark_first_response, case.id, self.iso(ctx.now))
        return bool(added)

    async def show_card(self, ctx: Ctx, case: Case, state_changed: bool = False) -> None:
        await self.focus(ctx, case)
        reply = await self.card_for(case, ctx.lang, ctx.now)
        reply.state_changed = state_changed
        board = self.config.board
        if board is not None and ctx.event.link_board:
            # Every card carries a way onto the board (and, for WeCom
            # groups, the way to upload files).
            from handlers.events import Action

            url, _ = await board.link_for(ctx.who, ctx.event.platform, case.number, ctx.lang)
            reply.actions.append(Action("board", t(ctx.lang, "btn_board"), url))
        await ctx.send(reply)

    def _worded(self, ctx: Ctx, send: Send) -> Send:
        """Every reply of this event goes out in its language; one too long
        for a message (every platform posts Reply.bounded_doc) gets a link
        to the case board, where the rest is."""
        async def worded(reply: Reply) -> None:
            ctx.said += 1
            reply.lang = reply.lang or ctx.lang
            board = self.config.board
            if (board is not None and ctx.event.link_board and doc_bytes(reply.doc) > MAX_REPLY_BYTES
                    and not any(a.id == "board" for a in reply.actions)):
                from handlers.events import Action

                url, _ = await board.link_for(ctx.who, ctx.event.platform, reply.case_number, ctx.lang)
                reply.actions.append(Action("board", t(ctx.lang, "btn_board"), url))
            await send(reply)
        return worded

    async def card_for(self, case: Case, lang: str, now: datetime | None = None) -> Reply:
        from handlers.memory import seen_line, similar_of

        files = await self.store.call(evidence.case_dumps, case.id)
        seen = seen_line(await similar_of(self, case), lang)
        decision = await self.store.call(timeline.last_decision, case.id)
        return card(case, lang, self.today(now), dumps=len(files), seen=seen, decision=decision)

    async def bind(self, number: str, platform: str, channel: str, thread: str) -> None:
        """Tie a thread an adapter started (a card it posted) to a case."""
        case = await self.store.call(cases.get, number)
        if case:
            await self.store.call(cases.bind_thread, case.id, platform, channel, thread, self.iso(self.now()))

    def offer_open(self, ctx: Ctx, number: str) -> Reply:
        from handlers.events import Action

        reply = self.info(t(ctx.lang, "unknown_case", number=number))
        reply.actions = [Action("open", t(ctx.lang, "btn_open"), number)]
        return reply

    @staticmethod
    def info(text: str, kind: str = "info") -> Reply:
        doc = Doc()
        doc.para(text)
        return Reply(doc, kind=kind)

    def error(self, text: str) -> Reply:
        return self.info(text, kind="error")
