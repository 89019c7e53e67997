"""WeCom (企业微信): the case desk behind the encrypted callbacks.

  /wecom/callback  the self-built app (自建应用): XML, one-to-one messages
  /wecom/aibot     the AI bot (智能机器人): JSON, @-mentions in groups and,
                   one to one, files

WeCom wants an answer within five seconds and retries three times: the
callback is verified, decrypted, queued as a durable job and answered with
an empty body at once; the desk's answer goes out through message/send (or
the AI bot's response_url).  A retry finds its MsgId already queued."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import defaultdict
import logging
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import aiohttp
from aiohttp import web

from bot.access import Gate, admit
from bot.config import Settings
from bot.jobs import JobQueue, Later
from bot.platform import Platform
from bot.spool import read_body
from bot.wecom_api import WeComClient, WeComError, download
from bot.wecom_crypto import CryptoError, WeComCrypto, aes_key, decrypt_file
from bot.wecom_markdown import chunks
from handlers.desk import Desk
from handlers.deliver import Thread, deliver
from handlers.events import Attachment, ChatEvent, Reply, TempFile
from store import ops

log = logging.getLogger("crashdesk.wecom")


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")
MAX_CALLBACK_BYTES = 1024 * 1024
# A callback signed more than this far from now (either way) is refused,
# as Slack refuses one older than five minutes: a captured callback cannot
# be replayed later.
FRESH_SECONDS = 300

OPT_STR = (str, type(None))


def _typed(obj, fields: dict) -> bool:
    return isinstance(obj, dict) and all(isinstance(obj.get(k), t) for k, t in fields.items())


def bot_message_problem(msg) -> str | None:
    """Why a decrypted AI-bot message cannot be read, or None."""
    if not _typed(msg, {"msgtype": str, "msgid": OPT_STR, "chatid": OPT_STR, "chattype": OPT_STR,
                        "response_url": OPT_STR, "aibotid": OPT_STR}):
        return "a message that is not an object with the fields of an AI-bot message"
    if msg["msgtype"] not in ("text", "file", "mixed"):
        return None  # acknowledged and not read (events, streaming refreshes...)
    if not _typed(msg.get("from"), {"userid": str}):
        return "a message without its sender"
    items = [msg]
    if msg["msgtype"] == "mixed":
        mixed = msg.get("mixed")
        items = mixed.get("msg_item") if isinstance(mixed, dict) else None
        if not isinstance(items, list) or not all(_typed(i, {"msgtype": str}) for i in items):
            return "a mixed message whose items are not message objects"
    for item in items:
        if item["msgtype"] == "text" and not _typed(item.get("text"), {"content": str}):
            return "a text message without its text"
        if item["msgtype"] == "file" and not _typed(item.get("file"), {"url": OPT_STR, "filename": OPT_STR,
                                                                         "name": OPT_STR, "aeskey": OPT_STR}):
            return "a file message without its file"
    return None


def bot_dedupe_key(msg: dict, timestamp: str, nonce: str) -> str:
    """The job's dedupe key: the msgid WeCom gives; without one, a digest
    of the sender, the chat, the whole message (its response_url is its
    own) and the callback's timestamp and nonce, so that two messages never
    share a key while the same callback delivered again still does."""
    if msg.get("msgid"):
        return f"wecom-bot:{msg['msgid']}"
    digest = hashlib.sha256(json.dumps([msg["from"]["userid"], msg.get("chatid"), timestamp, nonce, msg],
                                       sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"wecom-bot:nomsgid:{digest[:32]}"


def bot_event(platform: str, msg: dict, ts: str, file_of: Callable[[dict], Attachment]
              ) -> tuple[ChatEvent, dict]:
    """An AI-bot message (checked by bot_message_problem), as the callback
    and the long connection both deliver it: the event and its route."""
    user = msg["from"]["userid"]
    group = msg.get("chatid") if msg.get("chattype") == "group" else None
    items = [msg] if msg["msgtype"] != "mixed" else msg["mixed"]["msg_item"]
    text = "".join(i["text"]["content"] for i in items if i["msgtype"] == "text")
    files = [file_of(i["file"]) for i in items if i["msgtype"] == "file"]
    channel = f"group:{group}" if group else user
    route = {"to": user, "group": group, "response_url": msg.get("response_url"), "channel": channel}
    event = ChatEvent(platform=platform, channel=channel, user=user, text=text, files=files, ts=ts, lang="zh",
                      route=route, direct=group is None)
    return event, route


def bot_file(http: aiohttp.ClientSession, info: dict, msgid: str, default_key: bytes | None,
             limit: int) -> Attachment:
    """A file an AI bot was sent: downloaded and decrypted with its own
    aeskey (the long connection) or the bot's key (the callback)."""
    url = info.get("url")
    key = aes_key(info["aeskey"]) if info.get("aeskey") else default_key

    async def fetch() -> TempFile:
        if not url:
            raise WeComError(-1, "WeCom gave no download address for this file")
        if key is None:
            raise WeComError(-1, "no key to decrypt this file with")
        async with http.get(url) as r:
            if r.status != 200:
                raise WeComError(r.status, "download failed")
            encrypted = await download(r, limit)
        plain = TempFile(encrypted + ".plain")
        try:
            # Off the event loop: a dump of GBs is decrypted chunk by chunk.
            await asyncio.get_running_loop().run_in_executor(None, decrypt_file, key, encrypted, plain)
        except (CryptoError, OSError):
            Path(plain).unlink(missing_ok=True)
            raise WeComError(-1, "the file could not be decrypted") from None
        finally:
            Path(encrypted).unlink(missing_ok=True)
        return plain

    return Attachment(name=info.get("filename") or info.get("name") or f"{msgid}.dmp", fetch=fetch,
                      size=info.get("size") or info.get("filesize"), id=info.get("url"))


APP_KEYS = ("WECOM_CORP_ID", "WECOM_SECRET", "WECOM_AGENT_ID", "WECOM_TOKEN", "WECOM_ENCODING_AES_KEY")
BOT_CALLBACK_KEYS = ("WECOM_BOT_TOKEN", "WECOM_BOT_ENCODING_AES_KEY")


def bad_key(settings: Settings, name: str) -> str | None:
    """'NAME: ...' for an EncodingAESKey WeCom would not have issued; None
    when it is one."""
    value = settings.get(name)
    if not value:
        return None
    try:
        aes_key(value)
    except CryptoError:
        return (f"{name} must be the 43 characters WeCom shows as EncodingAESKey "
                f"(this one has {len(value.strip())})")
    return None


class WeComAdapter(Platform):
    """The self-built app, and the AI bot's callback beside it."""

    name = "wecom"
    settings_keys = APP_KEYS + BOT_CALLBACK_KEYS

    @classmethod
    def missing(cls, settings: Settings) -> list[str]:
        # The AI bot's callback answers through the app's API: it needs the app.
        out = [k for k in APP_KEYS if not settings.get(k)]
        if any(settings.get(k) for k in BOT_CALLBACK_KEYS):
            out.extend(k for k in BOT_CALLBACK_KEYS if not settings.get(k))
        return out

    @classmethod
    def invalid(cls, settings: Settings) -> list[str]:
        return [p for p in (bad_key(settings, "WECOM_ENCODING_AES_KEY"),
                            bad_key(settings, "WECOM_BOT_ENCODING_AES_KEY")) if p]

    @classmethod
    def from_settings(cls, desk, jobs, settings) -> "WeComAdapter":
        return cls(desk, jobs, settings)

    def describe(self) -> str:
        return "WeCom app + AI bot" if self.bot_crypto else "WeCom app"

    async def stop(self) -> None:
        await self.close()

    def digest_target(self, settings):
        return ("wecom:webhook", self.post_webhook) if self.webhook else None

    async def to_threads(self, reply: Reply, threads: list[Thread]) -> int:
        """A case's WeCom groups hear it through the team group's webhook
        (one post however many groups: the webhook is one group)."""
        if any(t.channel.startswith("group:") for t in threads) and self.webhook:
            await self.post_webhook(reply)
            return 1
        return 0

    def __init__(self, desk: Desk, jobs: JobQueue, settings: Settings):
        self.desk = desk
        self.jobs = jobs
        self.settings = settings
        self.app_crypto = WeComCrypto(settings.get("WECOM_TOKEN"), settings.get("WECOM_ENCODING_AES_KEY"),
                                      settings.get("WECOM_CORP_ID"))
        bot_token, bot_key = settings.get("WECOM_BOT_TOKEN"), settings.get("WECOM_BOT_ENCODING_AES_KEY")
        self.bot_crypto = WeComCrypto(bot_token, bot_key, "") if bot_token and bot_key else None
        self.client = WeComClient(settings.get("WECOM_CORP_ID"), settings.get("WECOM_SECRET"),
                                  settings.get("WECOM_AGENT_ID"), base_url=settings.get("WECOM_API_URL"),
                                  max_download=desk.config.max_upload)
        hook = settings.get("WECOM_DIGEST_WEBHOOK")
        # Either the full address WeCom shows, or just its key.
        self.webhook = hook if not hook or hook.startswith("http") else f"{self.client.base}webhook/send?key={hook}"
        jobs.register("wecom.message", self._run)
        jobs.register("wecom.send", self._send)
        from handlers import analyse

        run, give_up = analyse.runner(desk, self)
        jobs.register(analyse.kind_for("wecom"), run, give_up)
        self._outbox: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Who may use the desk: WeCom departments and tags, asked of the API.
        self.gate = Gate(settings.access)
        self.gate.wecom_departments = self.client.user_departments
        self.gate.wecom_subdepartments = self.client.subdepartments
        self.gate.wecom_tagged = self.client.tag_members

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/wecom/callback", self.verify_app)
        app.router.add_post("/wecom/callback", self.receive_app)
        if self.bot_crypto:
            app.router.add_get("/wecom/aibot", self.verify_bot)
            app.router.add_post("/wecom/aibot", self.receive_bot)

    async def close(self) -> None:
        await self.client.close()

    # --------------------------------------------------------------- verify
    @staticmethod
    def _query(request: web.Request) -> tuple[str, str, str]:
        q = request.query  # already percent-decoded once, as WeCom encodes + / =
        return q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", "")

    async def _verify(self, request: web.Request, crypto: WeComCrypto) -> web.Response:
        sig, ts, nonce = self._query(request)
        try:
            echo = crypto.verify_url(sig, ts, nonce, request.query.get("echostr", ""))
        except (CryptoError, UnicodeDecodeError):
            log.warning("refused a WeCom URL verification from %s (bad signature)", request.remote)
            return web.Response(status=403, text="bad signature")
        # The plain echo, nothing around it: no quotes, no BOM, no newline.
        return web.Response(text=echo, content_type="text/plain")

    async def verify_app(self, request: web.Request) -> web.Response:
        return await self._verify(request, self.app_crypto)

    async def verify_bot(self, request: web.Request) -> web.Response:
        return await self._verify(request, self.bot_crypto)

    # -------------------------------------------------------------- receive
    @staticmethod
    def fresh(timestamp: str, now: float | None = None) -> bool:
        """A callback's timestamp within FRESH_SECONDS of now."""
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
            return False
        return abs(int(timestamp) - (time.time() if now is None else now)) <= FRESH_SECONDS

    async def _open(self, request: web.Request, crypto: WeComCrypto, encrypted: str | None) -> str | None:
        sig, ts, nonce = self._query(request)
        if not encrypted:
            return None
        if not self.fresh(ts):
            log.warning("refused a WeCom callback from %s: its timestamp %r is not within %d s of now",
                        request.remote, ts[:20], FRESH_SECONDS)
            return None
        try:
            return crypto.open(sig, ts, nonce, encrypted)
        except (CryptoError, UnicodeDecodeError):
            log.warning("refused a WeCom callback from %s (bad signature or ciphertext)", request.remote)
            return None

    async def receive_app(self, request: web.Request) -> web.Response:
        body = await read_body(request, MAX_CALLBACK_BYTES)
        if body is None:
            return web.Response(status=413)
        try:
            outer = ET.fromstring(body)
        except ET.ParseError:
            return web.Response(status=400, text="not XML")
        plain = await self._open(request, self.app_crypto, outer.findtext("Encrypt"))
        if plain is None:
            return web.Response(status=403, text="bad signature")
        try:
            msg = {child.tag: (child.text or "") for child in ET.fromstring(plain)}
        except ET.ParseError:
            return web.Response(status=400, text="not XML")
        kind = msg.get("MsgType")
        user = msg.get("FromUserName", "")
        # Messages are told apart by MsgId, events by sender and time.
        key = msg.get("MsgId") or f"{user}:{msg.get('CreateTime')}"
        if kind in ("text", "file") or (kind == "event" and msg.get("Event") == "enter_agent"):
            await self.jobs.submit("wecom.message", {"source": "app", "msg": msg}, dedupe=f"wecom:{key}")
        elif kind in ("image", "voice", "video", "location", "link"):
            await self.jobs.submit("wecom.message", {"source": "app", "msg": {**msg, "MsgType": "unsupported"}},
                                   dedupe=f"wecom:{key}")
        # An empty 200 within five seconds: WeCom neither retries nor shows anything.
        return web.Response(text="")

    async def receive_bot(self, request: web.Request) -> web.Response:
        raw = await read_body(request, MAX_CALLBACK_BYTES)
        if raw is None:
            return web.Response(status=413)
        try:
            encrypted = json.loads(raw or b"{}").get("encrypt")
        except (ValueError, AttributeError, RecursionError):
            return web.Response(status=400, text="not JSON")
        if not isinstance(encrypted, str):
            return web.Response(status=400, text="no encrypt field")
        plain = await self._open(request, self.bot_crypto, encrypted)
        if plain is None:
            return web.Response(status=403, text="bad signature")
        try:
            msg = json.loads(plain)
        except (ValueError, RecursionError):
            msg = None
        problem = bot_message_problem(msg)
        if problem is not None:
            log.warning("refused a WeCom AI bot callback (400) from %s: %s", request.remote, problem)
            return web.Response(status=400, text="unreadable message")
        if msg["msgtype"] in ("text", "file", "mixed"):
            _, ts, nonce = self._query(request)
            key = bot_dedupe_key(msg, ts, nonce)
            await self.jobs.submit("wecom.message", {"source": "bot", "msg": msg, "key": key}, dedupe=key)
        return web.Response(text="")

    # ------------------------------------------------------------ run a job
    def to_event(self, payload: dict) -> tuple[ChatEvent, dict]:
        msg = payload["msg"]
        if payload["source"] == "app":
            user = msg.get("FromUserName", "")
            files = []
            if msg.get("MsgType") == "file" and msg.get("MediaId"):
                media_id = msg["MediaId"]

                async def fetch(media_id=media_id) -> TempFile:
                    return await self.client.download_media(media_id)

                files.append(Attachment(name=msg.get("FileName") or f"{media_id}.dmp", fetch=fetch, id=media_id))
            text = msg.get("Content", "") if msg.get("MsgType") == "text" else ""
            # No event_id: the job's dedupe key already dropped WeCom's retries,
            # and a job re-run after a restart must not be taken for one.
            route = {"to": user, "group": None, "response_url": None, "channel": user}
            event = ChatEvent(platform="wecom", channel=user, user=user, text=text, files=files,
                              ts=msg.get("MsgId") or f"{user}:{msg.get('CreateTime')}", lang="zh", route=route,
                              direct=True)
            return event, route
        # AI bot
        key = self.bot_crypto.key if self.bot_crypto else None
        return bot_event("wecom", msg, msg.get("msgid") or payload.get("key", ""),
                         lambda info: bot_file(self.client.http, info, msg.get("msgid", "file"), key,
                                               self.desk.config.max_upload))

    async def _run(self, payload: dict) -> None:
        event, route = self.to_event(payload)
        if payload["msg"].get("MsgType") == "event":
            return

        async def send(reply: Reply) -> None:
            await self.send(route, reply)

        if not await admit(self.gate, self.desk, event, send):
            return
        if payload["msg"].get("MsgType") == "unsupported":
            await self._deliver(self.desk.info(
                "企业微信自建应用只能接收文字消息。dump 文件请单聊发送给智能机器人，或使用案例看板上传。"), route)
            return
        await self.desk.handle(event, send, retry=True)

    # -------------------------------------------- the analysis job's outlet
    async def posted(self, route: dict, key: str) -> bool | None:
        return None  # WeCom keeps no history a bot can read back

    async def send(self, route: dict, reply: Reply, key: str | None = None) -> None:
        await self._deliver(reply, route)
        if route["group"] and reply.binds_case:
            await self.desk.bind(reply.binds_case, "wecom", route.get("channel") or f"group:{route['group']}", "group")
        if reply.kind == "verdict" and reply.case_number and not route["group"]:
            # Reached one to one: the group where the case is discussed hears it too.
            await deliver(self.desk, reply.case_number, reply, only=["wecom"])

    async def finished(self, route: dict, ok: bool) -> None:
        return None

    async def _deliver(self, reply: Reply, route: dict) -> None:
        """An answer is a durable job of its own: WeCom takes 30 messages a
        minute per person, and a person's backlog must neither be dropped
        nor hold up everyone else's answers.  One job per answer keeps its
        numbered parts in order."""
        await self.jobs.submit("wecom.send", {"route": route, "parts": chunks(reply)},
                               dedupe=f"wecom-send:{uuid.uuid4().hex}")

    async def _send(self, payload: dict) -> None:
        route, parts = payload["route"], payload["parts"]
        try:
            if route["group"] and route["response_url"]:
                for part in parts:
                    async with self.client.http.post(route["response_url"], json={
                            "msgtype": "markdown", "markdown": {"content": part}}) as r:
                        await r.read()
                return
            # One person's answers leave one at a time, in the order queued;
            # the 30 a minute are one budget for every instance (in the database).
            async with self._outbox[route["to"]]:
                wait = await self.reserve(route["to"], len(parts))
                if wait:
                    raise Later(datetime.now(timezone.utc) + timedelta(seconds=wait))
                for part in parts:
                    await self.client.send_markdown(route["to"], part)
        except WeComError as exc:
            if exc.errcode == 45009:  # WeCom's own frequency limit: try again in a minute
                raise Later(datetime.now(timezone.utc) + timedelta(seconds=60)) from None
            log.warning("could not deliver to %s: %s", route["to"], exc)
        except aiohttp.ClientError as exc:
            log.warning("could not deliver to %s: %s", route["to"], exc)
            raise

    async def reserve(self, person: str, n: int) -> float:
        """Seconds until ``n`` messages may go to one person (0.0: taken now)."""
        now = datetime.now(timezone.utc)
        per = self.client.person_pacer.per
        oldest = await self.desk.store.call(ops.reserve_sends, f"wecom:{person}", n, _iso(now),
                                            _iso(now - timedelta(seconds=per)), self.client.person_pacer.rate)
        if oldest is None:
            return 0.0
        return per - (now - datetime.fromisoformat(oldest)).total_seconds() + 0.05

    async def post_webhook(self, reply: Reply) -> None:
        """To the team group (消息推送 webhook): the digest, and verdicts for
        a case discussed there.  Without a webhook configured, nothing."""
        if not self.webhook:
            return
        for part in chunks(reply):
            await self.client.post_webhook(self.webhook, part)
