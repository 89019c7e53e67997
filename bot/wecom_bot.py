"""The WeCom AI bot (智能机器人) over its long connection: crashdesk opens a
WebSocket out to WeCom, so that no public address and no callback
decryption are needed (the choice for banks and government networks with
no inbound access).  Set ``WECOM_BOT_ID`` and ``WECOM_BOT_SECRET`` (the
bot's 长连接 credentials) instead of the callback's token and key.

Frames are JSON ``{"cmd", "headers": {"req_id"}, "body"}``; WeCom answers
each request with ``{"headers": {"req_id"}, "errcode", "errmsg"}``:

  aibot_subscribe      → bot_id and secret, once per connection
  ping                 → every 30 s (the heartbeat)
  aibot_msg_callback   ← a message (the same JSON as the callback mode's)
  aibot_event_callback ← an event (disconnected_event: another connection took over)
  aibot_respond_msg    → the answer to one callback, by its req_id: a stream
                         (stream.id, content so far, finish) updated as the
                         desk's replies come
  aibot_send_msg       → a message of our own (a verdict reached later)

One live connection per bot: the instance holding the ``wecom-bot:<id>``
lease connects (bot.leader); the others wait to take over.  A dropped
connection is opened again with exponential backoff."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import uuid

import aiohttp

from bot.access import Gate, admit
from bot.platform import Platform
from bot.wecom_app import bot_event, bot_file, bot_message_problem
from bot.wecom_markdown import chunks
from handlers.deliver import Thread
from handlers.events import ChatEvent, Reply

log = logging.getLogger("crashdesk.wecom_bot")
DEFAULT_URL = "wss://openws.work.weixin.qq.com"
MAX_FRAME = 4 * 1024 * 1024


class NotConnected(Exception):
    """This instance holds no live connection: the job is retried (on the instance that does)."""


class WeComBotPlatform(Platform):
    name = "wecom_bot"
    settings_keys = ("WECOM_BOT_ID", "WECOM_BOT_SECRET")

    @classmethod
    def missing(cls, settings) -> list[str]:
        return [k for k in cls.settings_keys if not settings.get(k)]

    @classmethod
    def from_settings(cls, desk, jobs, settings) -> "WeComBotPlatform":
        return cls(desk, jobs, settings)

    def __init__(self, desk, jobs, settings):
        self.desk, self.jobs = desk, jobs
        self.bot_id = settings.get("WECOM_BOT_ID")
        self.secret = settings.get("WECOM_BOT_SECRET")
        self.url = settings.get("WECOM_BOT_WS_URL") or DEFAULT_URL
        self.heartbeat = float(settings.get("WECOM_BOT_HEARTBEAT") or 30)
        self.backoff_min = float(settings.get("WECOM_BOT_BACKOFF") or 1)
        self.leadership = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.authenticated = False
        self.connections = 0
        self.last_error: str | None = None
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task | None = None
        self._send_lock = asyncio.Lock()
        self._ids = itertools.count(1)
        # The same door rules as the callback bot: who may use the desk,
        # asked of the corp API when the app's credentials are set.
        self.gate = Gate(settings.access)
        if settings.get("WECOM_CORP_ID") and settings.get("WECOM_SECRET"):
            from bot.wecom_api import WeComClient

            client = WeComClient(settings.get("WECOM_CORP_ID"), settings.get("WECOM_SECRET"),
                                 settings.get("WECOM_AGENT_ID") or "", base_url=settings.get("WECOM_API_URL"))
            self.gate.wecom_departments = client.user_departments
            self.gate.wecom_subdepartments = client.subdepartments
            self.gate.wecom_tagged = client.tag_members
        jobs.register("wecom_bot.message", self._run)
        from handlers import analyse

        run, give_up = analyse.runner(desk, self)
        jobs.register(analyse.kind_for("wecom_bot"), run, give_up)

    def describe(self) -> str:
        return "WeCom AI bot (long connection)"

    def health(self) -> dict:
        held = bool(self.leadership and self.leadership.held)
        return {"ok": self.last_error is None, "connected": self.authenticated, "holder": held,
                **({"error": self.last_error} if self.last_error else {})}

    # ------------------------------------------------------------ running
    async def start(self) -> None:
        from bot.leader import hold

        self.leadership = await hold(self.desk, self.jobs, f"wecom-bot:{self.bot_id}", gain=self._gain,
                                     lose=self._lose)

    async def stop(self) -> None:
        if self.leadership is not None:
            await self.leadership.stop()
        await self._lose()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _gain(self) -> None:
        self._task = asyncio.create_task(self._connection_loop(), name="crashdesk-wecom-bot")

    async def _lose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        ws, self.ws = self.ws, None
        self.authenticated = False
        if ws is not None and not ws.closed:
            await ws.close()

    def _req_id(self, cmd: str) -> str:
        return f"{cmd}_{uuid.uuid4().hex[:12]}_{next(self._ids)}"

    async def _connection_loop(self) -> None:
        backoff = self.backoff_min
        while True:
            try:
                await self._connect_once()
                backoff = self.backoff_min  # it had worked: start the backoff again
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError, ConnectionError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("WeCom AI bot connection: %s; again in %.1f s", self.last_error, backoff)
            finally:
                self.authenticated = False
                self.ws = None
            # Jitter keeps a fleet of desks from reconnecting in step.
            await asyncio.sleep(backoff * (0.8 + 0.4 * random.random()))
            backoff = min(backoff * 2, 60.0)

    async def _connect_once(self) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        async with self._http.ws_connect(self.url, heartbeat=None, max_msg_size=MAX_FRAME) as ws:
            self.ws = ws
            self.connections += 1
            req = self._req_id("aibot_subscribe")
            await ws.send_json({"cmd": "aibot_subscribe", "headers": {"req_id": req},
                                "body": {"bot_id": self.bot_id, "secret": self.secret}})
            ack = await ws.receive_json(timeout=30)
            if not isinstance(ack, dict) or ack.get("errcode", 0) != 0:
                raise ConnectionError(f"subscribe refused: {ack.get('errcode') if isinstance(ack, dict) else ack} "
                                      f"{ack.get('errmsg', '') if isinstance(ack, dict) else ''}".strip())
            self.authenticated = True
            self.last_error = None
            log.info("WeCom AI bot %s connected over the long connection", self.bot_id)
            beat = asyncio.create_task(self._heartbeat(ws))
            try:
                async for frame in ws:
                    if frame.type != aiohttp.WSMsgType.TEXT:
                        if frame.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                            break
                        continue
                    try:
                        data = json.loads(frame.data)
                    except ValueError:
                        continue
                    if isinstance(data, dict) and await self._frame(data) == "replaced":
                        break
            finally:
                beat.cancel()
                await asyncio.gather(beat, return_exceptions=True)
        raise ConnectionError("the long connection closed")

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(self.heartbeat)
            await self._send({"cmd": "ping", "headers": {"req_id": self._req_id("ping")}})

    async def _frame(self, data: dict) -> str | None:
        cmd = data.get("cmd")
        raw_headers, raw_body = data.get("headers"), data.get("body")
        headers: dict = raw_headers if isinstance(raw_headers, dict) else {}
        body: dict = raw_body if isinstance(raw_body, dict) else {}
        req_id = str(headers.get("req_id") or "")
        if cmd == "aibot_msg_callback":
            msgid = str(body.get("msgid") or req_id)
            problem = bot_message_problem(body)
            if problem is not None:
                log.warning("dropped a WeCom long-connection message: %s", problem)
            elif body["msgtype"] in ("text", "mixed", "file"):
                await self.jobs.submit("wecom_bot.message", {"req_id": req_id, "msg": body},
                                       dedupe=f"wecom-bot-ws:{msgid}")
        elif cmd == "aibot_event_callback":
            raw_event = body.get("event")
            event: dict = raw_event if isinstance(raw_event, dict) else {}
            if event.get("eventtype") == "disconnected_event":
                log.warning("WeCom closed this long connection: another one for bot %s took over", self.bot_id)
                return "replaced"
        elif cmd is None and data.get("errcode", 0) not in (0, None):
            # WeCom refused something we sent (a reply too late, a bad frame).
            log.warning("WeCom refused frame %s: %s %s", req_id, data.get("errcode"), data.get("errmsg", ""))
        return None

    async def _send(self, frame: dict) -> None:
        ws = self.ws
        if ws is None or ws.closed or not self.authenticated:
            raise NotConnected("no live WeCom AI bot connection here")
        async with self._send_lock:
            await ws.send_json(frame)

    # ------------------------------------------------------------ messages
    def to_event(self, payload: dict) -> tuple[ChatEvent, dict]:
        msg = payload["msg"]
        event, route = bot_event(self.name, msg, str(msg.get("msgid") or payload.get("req_id") or ""),
                                 lambda info: bot_file(self._files(), info, str(msg.get("msgid") or "file"), None,
                                                       self.desk.config.max_upload))
        route["req_id"] = payload.get("req_id")
        return event, route

    def _files(self) -> aiohttp.ClientSession:
        """The session files are downloaded with (any instance may run the job)."""
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return self._http

    async def _run(self, payload: dict) -> None:
        event, route = self.to_event(payload)
        stream_id = f"crashdesk-{event.ts or uuid.uuid4().hex}"
        content: list[str] = []

        async def send(reply: Reply) -> None:
            await self._bind(route, reply)
            content.extend(chunks(reply))
            # The answer grows in one streamed message while the desk replies.
            await self._respond(route, stream_id, "\n\n".join(content), finish=False)

        if not await admit(self.gate, self.desk, event, send):
            if content:
                await self._respond(route, stream_id, "\n\n".join(content), finish=True)
            return
        await self.desk.handle(event, send, retry=True)
        if content:
            await self._respond(route, stream_id, "\n\n".join(content), finish=True)

    async def _respond(self, route: dict, stream_id: str, text: str, *, finish: bool) -> None:
        await self._send({"cmd": "aibot_respond_msg", "headers": {"req_id": route["req_id"]},
                          "body": {"msgtype": "stream", "stream": {"id": stream_id, "finish": finish,
                                                                   "content": text}}})

    async def _bind(self, route: dict, reply: Reply) -> None:
        number = reply.binds_case or (reply.case_number if reply.kind == "card" else None)
        if route.get("group") and number:
            await self.desk.bind(number, self.name, route["channel"], "group")

    async def _push(self, chatid: str, reply: Reply) -> None:
        for part in chunks(reply):
            await self._send({"cmd": "aibot_send_msg", "headers": {"req_id": self._req_id("aibot_send_msg")},
                              "body": {"chatid": chatid, "msgtype": "markdown", "markdown": {"content": part}}})

    # -------------------------------------------- the analysis job's outlet
    async def send(self, route: dict, reply: Reply, key: str | None = None) -> None:
        # The callback's stream has ended by the time a verdict comes: a message of our own.
        await self._push(route.get("group") or route["to"], reply)

    async def to_threads(self, reply: Reply, threads: list[Thread]) -> int:
        reached = 0
        for th in threads:
            if th.channel.startswith("group:"):
                await self._push(th.channel.removeprefix("group:"), reply)
                reached += 1
        return reached
