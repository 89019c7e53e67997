"""``crashdesk serve``: one aiohttp server for every platform.

  /healthz        200 once the database is open and the job worker runs
  /               the web case board
  and the routes of each configured platform (bot.platform.PLATFORMS:
  /slack/events, /wecom/callback, /wecom/aibot); platforms that connect
  out (Slack's Socket Mode, the WeCom AI bot's long connection, the case
  mailbox) have none.

With no chat platform configured it serves the board alone."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sys

from aiohttp import web

from bot.config import Settings
from bot.jobs import JobQueue
from bot.platform import Platform
from handlers.desk import Desk, DeskConfig
from store import Store, StoreError, ops

log = logging.getLogger("crashdesk.server")


class Platforms:
    """The platforms running in this instance, by name (``platforms.slack``,
    ``platforms.wecom``... None when not configured), the board among them."""

    def __init__(self) -> None:
        self.active: dict[str, Platform] = {}
        self.tasks: list[asyncio.Task] = []

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        found = self.__dict__.get("active", {}).get(name)
        if name == "board" and found is not None:
            return found.board
        return found

    @property
    def slack_socket(self):
        return getattr(self.active.get("slack"), "leadership", None)

    def __iter__(self):
        return iter(list(self.active.values()))


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
    from bot.platform import missing_settings

    missing = missing_settings(settings)
    chat = any(settings.get(k) for k in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"))
    if settings.get("DIGEST_CHANNEL") and not chat and not settings.get("WECOM_DIGEST_WEBHOOK"):
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
            digest_priorities=settings.digest_priorities, storage=settings.storage, leads=settings.leads,
            stale_days=settings.stale_days),
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
        from bot.platform import BoardPlatform, available
        from handlers import analyse, deliver

        for cls in available():
            if cls.configured(self.settings):
                self._add(cls.from_settings(self.desk, self.jobs, self.settings))
        board = BoardPlatform(self.desk, self.settings)
        self._add(board)
        self.desk.config.board = board.board
        run, give_up = analyse.runner(self.desk, board)
        self.jobs.register(analyse.kind_for("web"), run, give_up)
        for platform in self.platforms:
            if platform.delivers:
                deliver.register(self.desk, platform)

    def _add(self, platform: Platform) -> None:
        self.platforms.active[platform.name] = platform
        platform.mount(self.web)

    def describe(self) -> str:
        """'board only', 'Slack over HTTP + board', 'WeCom app + AI bot + board'..."""
        from bot.platform import summary

        return summary(list(self.platforms))

    async def relay(self, reply) -> int:
        """A verdict reached on the board also goes to the case's chat
        threads, as if it had been uploaded there."""
        from handlers.deliver import deliver

        return await deliver(self.desk, reply.case_number, reply) if reply.case_number else 0

    async def healthz(self, request: web.Request) -> web.Response:
        if not self.ready:
            return web.json_response({"ok": False, "status": "starting"}, status=503)
        return web.json_response({"ok": True, "platforms": [p.name for p in self.platforms if p.name != "board"],
                                  "health": {p.name: p.health() for p in self.platforms}})

    async def _startup(self, app: web.Application) -> None:
        await self.store.open()
        self._sweep()
        await self.jobs.start()
        for platform in self.platforms:
            await platform.start()
        from bot.scheduler import digest_loop

        targets = self.digest_targets() if self.scheduler else []
        if targets:
            self.platforms.tasks.append(asyncio.create_task(digest_loop(self.desk, targets, self.settings)))
        if self.scheduler:
            from bot.scheduler import case_outlets, reminder_loop

            self.platforms.tasks.append(asyncio.create_task(reminder_loop(
                self.desk, case_outlets(self.desk, self.platforms), self.settings, by=self.jobs.owner)))
        self.ready = True

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
        return [target for p in self.platforms if (target := p.digest_target(self.settings)) is not None]

    async def _cleanup(self, app: web.Application) -> None:
        self.ready = False
        for task in self.platforms.tasks:
            task.cancel()
        await asyncio.gather(*self.platforms.tasks, return_exceptions=True)
        # Connections out go first, then the jobs, then what the jobs answer through.
        for platform in reversed(list(self.platforms)):
            if getattr(platform, "leadership", None) is not None:
                await platform.leadership.stop()
        await self.jobs.stop()
        for platform in reversed(list(self.platforms)):
            await platform.stop()
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


def listening_line(app: "App", settings: Settings) -> str:
    """What the log says once the port is open: the platforms, where, the time zone."""
    host = settings.host or "0.0.0.0"
    tz = settings.tz + ("" if settings.get("TZ") else " (the default; set TZ)")
    return f"crashdesk serve: {app.describe()}, listening on {host}:{settings.port}; time zone {tz}"


def serve(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot import redact
    from bot.platform import invalid_settings

    redact.install()
    missing = check_settings(settings)
    bad = invalid_settings(settings)
    if missing:
        print("crashdesk: missing settings: " + ", ".join(missing), file=sys.stderr)
    for problem in bad:
        print(f"crashdesk: {problem}", file=sys.stderr)
    if missing or bad:
        return 2
    problem = preflight(settings)
    if problem:
        print(f"crashdesk: {problem}", file=sys.stderr)
        return 1
    app = App(settings)
    try:
        web.run_app(app.web, host=settings.host, port=settings.port,
                    print=lambda *_: log.info("%s", listening_line(app, settings)), handle_signals=True)
    except OSError as exc:
        # Binding failed before anything started: one line, no traceback.
        where = f"{settings.host or '0.0.0.0'}:{settings.port}"
        if exc.errno in (errno.EADDRINUSE,):
            print(f"crashdesk: port {settings.port} is in use ({where}); stop what holds it or set PORT",
                  file=sys.stderr)
        elif exc.errno in (errno.EADDRNOTAVAIL,) or isinstance(exc, socket.gaierror):
            print(f"crashdesk: cannot listen on {where}: CRASHDESK_HOST is not an address of this machine",
                  file=sys.stderr)
        else:
            print(f"crashdesk: cannot listen on {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
