"""``crashdesk serve``: one aiohttp server for every platform.

  /healthz        200 once the database is open and the job worker runs
  /slack/events   Slack Events API, slash commands, interactivity (signed)
  /wecom/callback WeCom encrypted callback
  /               the web case board

With no chat platform configured it serves the board alone."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass, field

from aiohttp import web

from bot.config import Settings
from bot.jobs import JobQueue
from bot.spool import read_body
from handlers.desk import Desk, DeskConfig
from store import Store, StoreError, ops
from store.errors import CrashdeskError

log = logging.getLogger("crashdesk.server")
MAX_SLACK_BODY = 1024**2


@dataclass
class Platforms:
    slack: object | None = None
    slack_socket: object | None = None
    wecom: object | None = None
    board: object | None = None
    tasks: list = field(default_factory=list)


class BoardOutlet:
    """Where a verdict reached on the board's upload form goes: the case
    page shows it from the record; the case's chat threads are told."""

    def __init__(self, relay):
        self.relay = relay

    async def send(self, route: dict, reply, key: str | None = None) -> None:
        if reply.kind == "verdict":
            await self.relay(reply)

    async def posted(self, route: dict, key: str) -> bool | None:
        return None

    async def finished(self, route: dict, ok: bool) -> None:
        return None


def job_settings(settings: Settings) -> dict:
    """Lease and retry timing; the defaults suit production, tests shorten them."""
    out = {}
    for key, name in (("CRASHDESK_JOB_LEASE", "lease"), ("CRASHDESK_JOB_BACKOFF", "backoff"),
                      ("CRASHDESK_JOB_POLL", "poll"), ("CRASHDESK_JOB_CONCURRENCY", "concurrency")):
        value = settings.get(key)
        if value:
            try:
                out[name] = int(value) if name == "concurrency" else float(value)
            except ValueError:
                raise SystemExit(f"crashdesk: {key} must be a number of seconds, not {value!r}") from None
    return out


def check_settings(settings: Settings) -> list[str]:
    """Names of settings that a configured platform still needs."""
    missing = []
    slack_any = any(settings.get(k) for k in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"))
    if slack_any:
        if not settings.get("SLACK_BOT_TOKEN"):
            missing.append("SLACK_BOT_TOKEN")
        if not settings.get("SLACK_APP_TOKEN") and not settings.get("SLACK_SIGNING_SECRET"):
            missing.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
    wecom_keys = ("WECOM_CORP_ID", "WECOM_SECRET", "WECOM_AGENT_ID", "WECOM_TOKEN", "WECOM_ENCODING_AES_KEY")
    if any(settings.get(k) for k in wecom_keys):
        missing.extend(k for k in wecom_keys if not settings.get(k))
    if settings.get("DIGEST_CHANNEL") and not slack_any and not settings.get("WECOM_DIGEST_WEBHOOK"):
        missing.append("SLACK_BOT_TOKEN or WECOM_DIGEST_WEBHOOK (DIGEST_CHANNEL is set)")
    return missing


class App:
    """The running bot: store, desk, jobs, platforms, the web server."""

    def __init__(self, settings: Settings, *, clock=None, executor=None, scheduler: bool = True):
        self.settings = settings
        self.scheduler = scheduler
        self.store = Store(settings.db)
        self.desk = Desk(self.store, DeskConfig(
            data_dir=settings.data_dir, lang=settings.lang, tz=settings.tz, max_upload=settings.max_upload,
            digest_priorities=settings.digest_priorities, storage=settings.storage, leads=settings.leads),
            clock=clock, executor=executor)
        self.jobs = JobQueue(self.store, clock=clock, **job_settings(settings))
        self.desk.queue = self.jobs
        self.platforms = Platforms()
        self.ready = False
        self.web = web.Application(client_max_size=64 * 1024**2)
        self.web.router.add_get("/healthz", self.healthz)
        self.web.on_startup.append(self._startup)
        self.web.on_cleanup.append(self._cleanup)
        self._setup_platforms()

    def _setup_platforms(self) -> None:
        s = self.settings
        if s.get("SLACK_BOT_TOKEN"):
            from bot.slack_app import SlackAdapter

            socket = bool(s.get("SLACK_APP_TOKEN"))
            self.platforms.slack = SlackAdapter(self.desk, self.jobs, token=s.get("SLACK_BOT_TOKEN"),
                                                signing_secret=s.get("SLACK_SIGNING_SECRET"),
                                                api_url=s.get("SLACK_API_URL"), socket_mode=socket,
                                                rules=s.access)
            if not socket:
                self.web.router.add_post("/slack/events", self.slack_events)
        if s.get("WECOM_CORP_ID"):
            from bot.wecom_app import WeComAdapter

            self.platforms.wecom = WeComAdapter(self.desk, self.jobs, s)
            self.platforms.wecom.mount(self.web)
        from bot.board import Board

        self.platforms.board = Board(self.desk, s, relay=self.relay)
        self.platforms.board.mount(self.web)
        self.desk.config.board = self.platforms.board
        from handlers import analyse

        run, give_up = analyse.runner(self.desk, BoardOutlet(self.relay))
        self.jobs.register(analyse.kind_for("web"), run, give_up)

    async def slack_events(self, request: web.Request) -> web.Response:
        from slack_bolt.adapter.aiohttp import to_aiohttp_response
        from slack_bolt.request.async_request import AsyncBoltRequest

        # Slack's payloads are a few kilobytes; the signature is checked on
        # the raw bytes before anything parses them.
        body = await read_body(request, MAX_SLACK_BODY)
        if body is None:
            log.warning("refused a Slack request (413) from %s: over %d bytes", request.remote, MAX_SLACK_BODY)
            return web.Response(status=413)
        if not self.platforms.slack.signed(body, request.headers):
            # A bad signature or a stale (replayed) timestamp: nothing was
            # parsed, queued or stored; this line is the only trace.
            log.warning("refused a Slack request (401) from %s: bad or stale signature", request.remote)
            return web.Response(status=401)
        queued = await self._queue_slack_event(body, request)
        if queued is not None:
            return queued
        try:
            bolt_request = AsyncBoltRequest(body=body.decode("utf-8", "replace"), query=request.query_string,
                                            headers=request.headers)
        except ValueError:  # signed, yet not the JSON or form it says it is
            return web.Response(status=400, text="unreadable body")
        return await to_aiohttp_response(await self.platforms.slack.app.async_dispatch(bolt_request))

    async def _queue_slack_event(self, body: bytes, request: web.Request) -> web.Response | None:
        """A message event is acknowledged only once its job is stored: if
        the database cannot take it (a full disk, a server away), Slack is
        answered 503 and delivers it again, instead of a 200 for an event
        that would then be lost.  None: not a message event, bolt decides."""
        if not request.content_type.startswith("application/json"):
            return None
        try:
            payload = json.loads(body)
        except ValueError:
            return None
        if not isinstance(payload, dict) or payload.get("type") != "event_callback":
            return None
        event = payload.get("event")
        if not isinstance(event, dict) or event.get("type") not in ("message", "app_mention"):
            return None
        try:
            await self.platforms.slack.accept(payload, event)
        except CrashdeskError as exc:
            log.error("a Slack event was not queued, answering 503 so that Slack sends it again: %s", exc)
            return web.Response(status=503, text="not queued; please retry")
        return web.Response(status=200)

    async def relay(self, reply) -> None:
        """A verdict reached on the board also goes to the case's chat
        threads, as if it had been uploaded there."""
        from store import cases

        case = await self.store.call(cases.get, reply.case_number) if reply.case_number else None
        if case is None:
            return
        threads = await self.store.call(cases.threads_of, case.id)
        if self.platforms.slack:
            for th in threads:
                if th["platform"] == "slack":
                    await self.platforms.slack.post(reply, th["channel"], thread=th["thread"])
        if self.platforms.wecom:
            await self.platforms.wecom.to_case_groups(reply, threads)

    async def healthz(self, request: web.Request) -> web.Response:
        if not self.ready:
            return web.json_response({"ok": False, "status": "starting"}, status=503)
        return web.json_response({"ok": True, "platforms": [k for k in ("slack", "wecom") if getattr(self.platforms, k)]})

    async def _startup(self, app: web.Application) -> None:
        await self.store.open()
        self._sweep()
        await self.jobs.start()
        if self.platforms.slack and self.settings.get("SLACK_APP_TOKEN"):
            # One Socket Mode connection for the cluster (Slack would spread
            # events over several): held under a lease, taken over when its
            # instance dies.
            from bot.leader import Leadership

            self.platforms.slack_socket = Leadership(self.store, "slack-socket", self.jobs.owner,
                                                     gain=self._socket_up, lose=self._socket_down,
                                                     lease=max(3.0, self.jobs.lease / 2))
            await self.platforms.slack_socket.start()
        from bot.scheduler import digest_loop

        targets = self.digest_targets() if self.scheduler else []
        if targets:
            self.platforms.tasks.append(asyncio.create_task(digest_loop(self.desk, targets, self.settings)))
        self.ready = True

    async def _socket_up(self) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        self._socket = AsyncSocketModeHandler(self.platforms.slack.app, self.settings.get("SLACK_APP_TOKEN"))
        await self._socket.connect_async()

    async def _socket_down(self) -> None:
        socket, self._socket = getattr(self, "_socket", None), None
        if socket is not None:
            await socket.close_async()

    def _sweep(self) -> None:
        """What a killed predecessor on this machine left half-written."""
        from bot.spool import alive, sweep_orphans
        from store.files import LocalFiles

        removed = sweep_orphans()
        if isinstance(self.desk.files, LocalFiles):
            removed += self.desk.files.sweep(alive)
        if removed:
            log.info("removed %d temp file(s) left by a process that died", removed)

    def digest_targets(self) -> list:
        """(channel key, post) for each place the daily digest goes."""
        targets = []
        channel = self.settings.get("DIGEST_CHANNEL")
        if channel and self.platforms.slack:
            slack = self.platforms.slack

            async def post_slack(reply, channel=channel):
                if await slack.post(reply, channel, thread=None) is None:
                    # Not marked sent: the next tick tries again.
                    raise RuntimeError(f"the digest could not be posted to {channel}")

            targets.append((f"slack:{channel}", post_slack))
        if self.platforms.wecom and self.settings.get("WECOM_DIGEST_WEBHOOK"):
            targets.append(("wecom:webhook", self.platforms.wecom.post_webhook))
        return targets

    async def _cleanup(self, app: web.Application) -> None:
        self.ready = False
        for task in self.platforms.tasks:
            task.cancel()
        await asyncio.gather(*self.platforms.tasks, return_exceptions=True)
        if self.platforms.slack_socket:
            await self.platforms.slack_socket.stop()
        await self.jobs.stop()
        if self.platforms.slack:
            await self.platforms.slack.close()
        if self.platforms.wecom:
            await self.platforms.wecom.close()
        self.desk.close()
        self.store.close()


def preflight(settings: Settings) -> str | None:
    """What would stop the bot, in one line, before it listens: a database
    it cannot open or write (read-only, full, away), or a shared database
    with uploads kept in the working directory."""
    from store.db import is_postgres

    if is_postgres(settings.db) and not settings.storage and not settings.get("CRASHDESK_DATA_DIR"):
        return ("with a postgresql:// database, set CRASHDESK_STORAGE=s3://bucket/prefix (or CRASHDESK_DATA_DIR "
                "to a folder every instance shares) for the uploads")
    store = Store(settings.db)
    try:
        store.call_sync(ops.check_writable, sys.argv[0])
    except StoreError as exc:
        return str(exc)
    finally:
        store.close()
    return None


def serve(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot import redact

    redact.install()
    missing = check_settings(settings)
    if missing:
        print("crashdesk: missing settings: " + ", ".join(missing), file=sys.stderr)
        return 2
    problem = preflight(settings)
    if problem:
        print(f"crashdesk: {problem}", file=sys.stderr)
        return 1
    app = App(settings)
    web.run_app(app.web, port=settings.port, print=lambda *_: log.info("listening on port %s", settings.port),
                handle_signals=True)
    return 0
