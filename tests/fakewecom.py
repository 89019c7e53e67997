"""A stand-in for WeCom's server API on 127.0.0.1 (gettoken, message/send,
media/get, webhook/send, the AI bot's response_url and file host), plus
helpers that build callbacks encrypted and signed the way WeCom does."""

from __future__ import annotations

import itertools
import json
import time

from aiohttp import web

from bot.wecom_crypto import WeComCrypto, aes_key, encrypt_bytes, signature

CORP_ID = "ww1436e0e65a779aee"
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
SECRET = "app-secret"
AGENT_ID = "1000002"
BOT_TOKEN = "botTokenForTests"
BOT_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


class FakeWeCom:
    def __init__(self):
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.sent: list[dict] = []
        self.webhook: list[dict] = []
        self.responses: list[dict] = []
        self.media: dict[str, tuple[str, bytes]] = {}
        self.bot_files: dict[str, bytes] = {}
        # The address book, for who may use the desk: a member's departments,
        # each department's parent, each tag's people and departments.
        self.members: dict[str, list[int]] = {}
        self.parents: dict[int, int] = {}
        self.tags: dict[str, tuple[list[str], list[int]]] = {}
        self.lookups = 0
        self.base = ""
        self._ids = itertools.count(1)
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_get("/cgi-bin/gettoken", self.gettoken)
        app.router.add_post("/cgi-bin/message/send", self.message_send)
        app.router.add_get("/cgi-bin/media/get", self.media_get)
        app.router.add_post("/cgi-bin/webhook/send", self.webhook_send)
        app.router.add_post("/aibot/response/{id}", self.response_url)
        app.router.add_get("/cgi-bin/user/get", self.user_get)
        app.router.add_get("/cgi-bin/department/simplelist", self.department_simplelist)
        app.router.add_get("/cgi-bin/tag/get", self.tag_get)
        app.router.add_get("/aibot/file/{id}", self.bot_file)
        self.app = app

    def revoke_tokens(self) -> None:
        """WeCom may invalidate a token before it expires."""
        self.valid_tokens.clear()

    def texts(self) -> list[str]:
        return [m["markdown"]["content"] if m["msgtype"] == "markdown" else m["text"]["content"] for m in self.sent]

    async def gettoken(self, request):
        q = request.query
        if q.get("corpid") != CORP_ID or q.get("corpsecret") != SECRET:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        self.tokens_issued += 1
        token = f"token-{self.tokens_issued}"
        self.valid_tokens.add(token)
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    def _check(self, request):
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        return None

    async def message_send(self, request):
        bad = self._check(request)
        if bad:
            return bad
        body = await request.json()
        self.sent.append(body)
        if body["msgtype"] == "markdown" and len(body["markdown"]["content"].encode()) > 2048:
            return web.json_response({"errcode": 44004, "errmsg": "content exceed max length"})
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": f"m{next(self._ids)}"})

    async def media_get(self, request):
        bad = self._check(request)
        if bad:
            return bad
        entry = self.media.get(request.query.get("media_id"))
        if entry is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        name, data = entry
        return web.Response(body=data, content_type="application/octet-stream",
                            headers={"Content-disposition": f'attachment; filename="{name}"'})

    async def user_get(self, request):
        bad = self._check(request)
        if bad:
            return bad
        self.lookups += 1
        user = request.query.get("userid")
        if user not in self.members:
            return web.json_response({"errcode": 60111, "errmsg": "userid not found"})
        return web.json_response({"errcode": 0, "errmsg": "ok", "userid": user, "department": self.members[user]})

    async def department_simplelist(self, request):
        bad = self._check(request)
        if bad:
            return bad
        self.lookups += 1
        root = int(request.query.get("id", "1"))
        found, frontier = [root], [root]
        while frontier:
            parent = frontier.pop()
            children = [d for d, p in self.parents.items() if p == parent]
            found += children
            frontier += children
        return web.json_response({"errcode": 0, "errmsg": "ok", "department_id": [
            {"id": d, "parentid": self.parents.get(d, 0), "order": 0} for d in found]})

    async def tag_get(self, request):
        bad = self._check(request)
        if bad:
            return bad
        self.lookups += 1
        tag = request.query.get("tagid")
        if tag not in self.tags:
            return web.json_response({"errcode": 40068, "errmsg": "invalid tagid"})
        users, parties = self.tags[tag]
        return web.json_response({"errcode": 0, "errmsg": "ok", "tagname": tag,
                                  "userlist": [{"userid": u, "name": u} for u in users], "partylist": parties})

    async def webhook_send(self, request):
        body = await request.json()
        self.webhook.append({"key": request.query.get("key"), **body})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def response_url(self, request):
        self.responses.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def bot_file(self, request):
        return web.Response(body=self.bot_files[request.match_info["id"]], content_type="application/octet-stream")

    # -- callbacks as WeCom sends them ------------------------------------------
    def app_callback(self, inner_xml: str, *, nonce: str = "1597212914", timestamp: str | None = None) -> tuple[dict, str]:
        crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
        ts = timestamp or str(int(time.time()))
        encrypted = crypto.encrypt(inner_xml)
        query = {"msg_signature": signature(TOKEN, ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}
        body = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
                f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>")
        return query, body

    def bot_callback(self, message: dict, *, nonce: str = "1372623149") -> tuple[dict, str]:
        crypto = WeComCrypto(BOT_TOKEN, BOT_AES_KEY, "")
        ts = str(int(time.time()))
        encrypted = crypto.encrypt(json.dumps(message, ensure_ascii=False))
        query = {"msg_signature": signature(BOT_TOKEN, ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}
        return query, json.dumps({"encrypt": encrypted})

    def add_bot_file(self, file_id: str, data: bytes) -> str:
        """Stored encrypted with the bot's key, as WeCom hosts AI-bot files."""
        self.bot_files[file_id] = encrypt_bytes(aes_key(BOT_AES_KEY), data)
        return f"{self.base}/aibot/file/{file_id}"


def text_message(user: str, content: str, msg_id: str, created: int = 1476422779) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>")


def file_message(user: str, media_id: str, msg_id: str, name: str = "seed.txt") -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>1476422780</CreateTime><MsgType><![CDATA[file]]></MsgType><MediaId><![CDATA[{media_id}]]></MediaId>"
            f"<FileName><![CDATA[{name}]]></FileName><MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>")


class FakeLongConnection:
    """WeCom's AI-bot long connection, as its protocol documents it: the
    client subscribes with bot_id and secret (853000 when they are wrong),
    pings, gets aibot_msg_callback frames and answers them with
    aibot_respond_msg (streamed) or sends aibot_send_msg.  A second
    connection for the same bot replaces the first (disconnected_event)."""

    def __init__(self, bot_id: str = "aibBOT1", secret: str = "bot-secret"):
        from aiohttp import web

        self.bot_id, self.secret = bot_id, secret
        self.frames: list[dict] = []  # everything clients sent
        self.live: list = []  # subscribed sockets, newest last
        self.subscribes = 0
        self.files: dict[str, bytes] = {}  # file id -> the bytes WeCom hosts (encrypted)
        self.downloads: list[str] = []
        self.base = ""  # http://host:port, once it listens (for file addresses)
        self.app = web.Application()
        self.app.router.add_get("/", self.socket)
        self.app.router.add_get("/file/{id}", self.file)

    async def file(self, request):
        from aiohttp import web

        self.downloads.append(request.match_info["id"])
        return web.Response(body=self.files[request.match_info["id"]], content_type="application/octet-stream")

    def add_file(self, file_id: str, data: bytes) -> dict:
        """A file as the long connection hands it over: hosted encrypted
        (AES-256-CBC) with a key of its own, given in the message."""
        import base64
        import os

        key = base64.b64encode(os.urandom(32)).decode().rstrip("=")
        self.files[file_id] = encrypt_bytes(aes_key(key), data)
        return {"url": f"{self.base}/file/{file_id}", "aeskey": key}

    async def send_file(self, name: str, data: bytes, *, msgid: str, user: str = "zhangsan",
                        chatid: str | None = None) -> str:
        """A file message (msgtype file) to the bot; the callback's req_id."""
        req = f"cb-{msgid}"
        body = {"msgid": msgid, "aibotid": self.bot_id, "from": {"userid": user}, "msgtype": "file",
                "file": {**self.add_file(msgid, data), "filename": name}, "chattype": "group" if chatid else "single"}
        if chatid:
            body["chatid"] = chatid
        await self.live[-1].send_json({"cmd": "aibot_msg_callback", "headers": {"req_id": req}, "body": body})
        return req

    async def socket(self, request):
        import json as _json

        from aiohttp import web

        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            frame = _json.loads(msg.data)
            self.frames.append(frame)
            req = (frame.get("headers") or {}).get("req_id")
            if frame.get("cmd") == "aibot_subscribe":
                self.subscribes += 1
                body = frame.get("body") or {}
                if body.get("bot_id") != self.bot_id or body.get("secret") != self.secret:
                    await ws.send_json({"headers": {"req_id": req}, "errcode": 853000,
                                        "errmsg": "invalid bot_id or secret"})
                    await ws.close()
                    break
                for old in self.live:
                    await old.send_json({"cmd": "aibot_event_callback", "headers": {"req_id": "ev"},
                                         "body": {"msgtype": "event", "event": {"eventtype": "disconnected_event"}}})
                    await old.close()
                self.live = [ws]
                await ws.send_json({"headers": {"req_id": req}, "errcode": 0, "errmsg": "ok"})
            else:
                await ws.send_json({"headers": {"req_id": req}, "errcode": 0, "errmsg": "ok"})
        if ws in self.live:
            self.live.remove(ws)
        return ws

    async def say(self, text: str, *, msgid: str, user: str = "zhangsan", chatid: str | None = None) -> str:
        req = f"cb-{msgid}"
        body = {"msgid": msgid, "aibotid": self.bot_id, "from": {"userid": user}, "msgtype": "text",
                "text": {"content": text}, "chattype": "group" if chatid else "single"}
        if chatid:
            body["chatid"] = chatid
        await self.live[-1].send_json({"cmd": "aibot_msg_callback", "headers": {"req_id": req}, "body": body})
        return req

    def of(self, cmd: str) -> list[dict]:
        return [f for f in self.frames if f.get("cmd") == cmd]

    async def drop(self) -> None:
        for ws in list(self.live):
            await ws.close()
