"""WeCom's server API, as the bot uses it: access token (cached until it
expires, refetched when WeCom says it is invalid), app messages, media
downloads, the group webhook.  WeCom silently drops messages past 30 a
minute to one person and 20 a minute to one webhook, so we pace ourselves
rather than lose answers."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict, deque

import aiohttp

from bot.spool import CHUNK, TooLarge, spool
from handlers.events import TempFile

log = logging.getLogger("crashdesk.wecom")

DEFAULT_BASE = "https://qyapi.weixin.qq.com/cgi-bin/"
# errcodes after which a fresh access token is worth one more try
TOKEN_ERRORS = {40001, 40014, 42001}
MARKDOWN_LIMIT = 2048  # bytes of markdown content in one message


class WeComError(Exception):
    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"WeCom error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class Pacer:
    """At most ``rate`` sends per ``per`` seconds to one destination."""

    def __init__(self, rate: int, per: float = 60.0, clock=time.monotonic, sleep=asyncio.sleep):
        self.rate, self.per = rate, per
        self.clock, self.sleep = clock, sleep
        self.sent: dict[str, deque] = defaultdict(deque)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def reserve(self, key: str, n: int = 1) -> float:
        """Take ``n`` slots now if they are free (0.0), else say how many
        seconds until they are; nothing is taken then.  More than the rate
        at once waits for an empty window and then goes."""
        sent = self.sent[key]
        now = self.clock()
        while sent and now - sent[0] >= self.per:
            sent.popleft()
        over = len(sent) + min(n, self.rate) - self.rate
        if over > 0:
            return self.per - (now - sent[over - 1]) + 0.05
        sent.extend([now] * n)
        return 0.0

    async def wait(self, key: str) -> None:
        """Take one slot, sleeping until there is one.  One waiter per
        destination at a time, so that concurrent senders do not all slip
        through the same free slot."""
        async with self.locks[key]:
            while delay := self.reserve(key):
                await self.sleep(delay)


class WeComClient:
    def __init__(self, corp_id: str, secret: str, agent_id: str, *, base_url: str | None = None,
                 max_download: int = 2 * 1024**3, clock=time.monotonic):
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.base = (base_url or DEFAULT_BASE).rstrip("/") + "/"
        self.max_download = max_download
        self.clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self._http: aiohttp.ClientSession | None = None
        self.person_pacer = Pacer(30)
        self.webhook_pacer = Pacer(20)

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600, sock_read=60))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def token(self, refresh: bool = False) -> str:
        async with self._lock:
            if refresh or not self._token or self.clock() >= self._expires:
                async with self.http.get(self.base + "gettoken", params={"corpid": self.corp_id,
                                                                          "corpsecret": self.secret}) as r:
                    data = await r.json(content_type=None)
                if data.get("errcode"):
                    raise WeComError(data["errcode"], data.get("errmsg", ""))
                self._token = data["access_token"]
                # Refresh five minutes early: a token that expires mid-call fails.
                self._expires = self.clock() + max(60, int(data.get("expires_in", 7200)) - 300)
            return self._token

    async def _authorised(self, method: str, path: str, read, params: dict | None = None, **kwargs):
        """A request with the access token; ``read(response)`` gives the
        result, WeCom's errors as their JSON dict.  A token WeCom says has
        expired or been revoked is fetched anew, once."""
        for attempt in (0, 1):
            query = {**(params or {}), "access_token": await self.token(refresh=attempt == 1)}
            async with self.http.request(method, self.base + path, params=query, **kwargs) as r:
                result = await read(r)
            if not (attempt == 0 and isinstance(result, dict) and result.get("errcode") in TOKEN_ERRORS):
                return result
        raise AssertionError("unreachable")

    async def _call(self, method: str, path: str, **kwargs) -> dict:
        data = await self._authorised(method, path, _json, **kwargs)
        if data.get("errcode"):
            raise WeComError(data["errcode"], data.get("errmsg", ""))
        return data

    async def send_markdown(self, user: str, content: str) -> None:
        """One message to one person; the caller has taken its slot of
        ``person_pacer`` (WeCom allows 30 a minute per person)."""
        await self._call("POST", "message/send", json={
            "touser": user, "msgtype": "markdown", "agentid": int(self.agent_id) if str(self.agent_id).isdigit() else self.agent_id,
            "markdown": {"content": content}, "enable_duplicate_check": 0})

    async def download_media(self, media_id: str) -> TempFile:
        """media/get: the file, or WeCom's JSON error (media ids live three days)."""

        async def read(r: aiohttp.ClientResponse):
            if r.content_type in ("application/json", "text/plain"):
                return await _json(r)
            return await download(r, self.max_download)

        got = await self._authorised("GET", "media/get", read, params={"media_id": media_id})
        if not isinstance(got, dict):
            return got
        if got.get("errcode") == 40007:
            raise WeComError(40007, "文件已过期（企业微信只保留三天），请重新发送 / the file has expired "
                                    "(WeCom keeps uploads three days); please send it again")
        raise WeComError(got.get("errcode", -1), got.get("errmsg", "unexpected answer"))

    # -- who belongs where (bot.access) ---------------------------------------
    async def user_departments(self, user: str) -> set[int]:
        """user/get: the departments a member is in (needs the app's
        address-book read permission for that member)."""
        data = await self._call("GET", "user/get", params={"userid": user})
        return {int(d) for d in data.get("department") or [] if isinstance(d, int)}

    async def subdepartments(self, department: int) -> set[int]:
        """department/simplelist: the department and every one under it."""
        data = await self._call("GET", "department/simplelist", params={"id": str(department)})
        found = {int(d["id"]) for d in data.get("department_id") or [] if isinstance(d, dict)
                 and isinstance(d.get("id"), int)}
        return found | {department}

    async def tag_members(self, tag: str) -> tuple[set[str], set[int]]:
        """tag/get: the people and the departments that carry a tag."""
        data = await self._call("GET", "tag/get", params={"tagid": tag})
        users = {u["userid"] for u in data.get("userlist") or [] if isinstance(u, dict)
                 and isinstance(u.get("userid"), str)}
        return users, {int(d) for d in data.get("partylist") or [] if isinstance(d, int)}

    async def post_webhook(self, url: str, content: str) -> None:
        await self.webhook_pacer.wait(url)
        async with self.http.post(url, json={"msgtype": "markdown", "markdown": {"content": content}}) as r:
            data = await r.json(content_type=None)
        if data.get("errcode"):
            raise WeComError(data["errcode"], data.get("errmsg", ""))


async def _json(response: aiohttp.ClientResponse) -> dict:
    try:
        data = json.loads(await response.text())
    except ValueError:
        data = None
    if not isinstance(data, dict):
        # A proxy's error page: trouble on the way, tried again like a dropped connection.
        raise aiohttp.ClientResponseError(response.request_info, response.history, status=response.status,
                                          message="the answer is not WeCom's JSON")
    return data


async def download(response: aiohttp.ClientResponse, limit: int) -> TempFile:
    """A WeCom download on disk; over the cap it is a WeComError like any other refusal."""
    try:
        return await spool(response.content.iter_chunked(CHUNK), limit, "crashdesk-wecom-")
    except TooLarge as exc:
        raise WeComError(-1, str(exc)) from None
