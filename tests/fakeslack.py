"""A stand-in for Slack's Web API and file host, speaking its wire format on
127.0.0.1, in the manner of bolt-python's own mock server: the real
slack-sdk client talks to it through SLACK_API_URL.  It records every call
and can be told to fail the next one (rate limit, not_in_channel...)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-test-app-token"
SECRET = "test-signing-secret"


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Headers exactly as Slack signs a request: v0=HMAC-SHA256(secret, 'v0:ts:body')."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class FakeSlack:
    def __init__(self):
        self.calls: list[tuple[str, dict, str | None]] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        self.messages: list[dict] = []  # what chat.postMessage posted, for conversations.replies
        self.downloads: list[tuple[str, str | None]] = []
        self.failures: dict[str, list[tuple[int, dict, dict]]] = {}
        self._ts = itertools.count(1)
        self.app = web.Application(client_max_size=64 * 1024**2)
        self.app.router.add_post("/api/{method}", self.api)
        self.app.router.add_get("/api/{method}", self.api)
        self.app.router.add_get("/files-pri/{file_id}/{name}", self.file)
        self.app.router.add_get("/signin", self.signin)
        self.app.router.add_get("/link", self.socket)
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: list[dict] = []
        self.base = ""  # set once the server listens
        self.usergroups: dict[str, list[str]] = {}  # usergroups.users.list

    # -- scripting ----------------------------------------------------------
    def fail_next(self, method: str, *, error: str | None = None, status: int = 200, headers: dict | None = None):
        body = {"ok": False, "error": error} if error else {"ok": False}
        self.failures.setdefault(method, []).append((status, body, headers or {}))

    def add_file(self, file_id: str, name: str, data: bytes) -> dict:
        self.files[file_id] = (name, data)
        url = f"{self.base}/files-pri/{file_id}/{name}"
        return {"id": file_id, "name": name, "title": name, "mimetype": "application/octet-stream",
                "filetype": "binary", "size": len(data), "url_private": url, "url_private_download": url + "?dl=1",
                "mode": "hosted"}

    def called(self, method: str) -> list[dict]:
        return [args for m, args, _ in self.calls if m == method]

    def posts(self) -> list[dict]:
        return self.called("chat.postMessage")

    # -- the wire -----------------------------------------------------------
    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json":
            args = json.loads(raw or "{}")
        else:
            args = dict(parse_qsl(raw))
            for key in ("blocks", "view", "metadata"):
                if isinstance(args.get(key), str):
                    try:
                        args[key] = json.loads(args[key])
                    except ValueError:
                        pass
        # slack-sdk sends some methods' arguments in the query string.
        for key, value in request.query.items():
            args.setdefault(key, value)
        auth = request.headers.get("Authorization")
        self.calls.append((method, args, auth))
        if method == "apps.connections.open":
            if auth != f"Bearer {APP_TOKEN}":
                return web.json_response({"ok": False, "error": "invalid_auth"})
            return web.json_response({"ok": True, "url": self.base.replace("http://", "ws://") + "/link"})
        if auth != f"Bearer {TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        queued = self.failures.get(method)
        if queued:
            status, body, headers = queued.pop(0)
            return web.json_response(body, status=status, headers=headers)
        return web.json_response(self.answer(method, args))

    def answer(self, method: str, args: dict) -> dict:
        if method == "auth.test":
            return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "crashdesk",
                    "team_id": "T0FAKE", "user_id": "UBOT", "bot_id": "BBOT"}
        if method in ("chat.postMessage", "chat.update"):
            ts = args.get("ts") or f"1700000000.{next(self._ts):06d}"
            if method == "chat.postMessage":
                self.messages.append({"channel": args.get("channel"), "ts": ts, "thread_ts": args.get("thread_ts"),
                                      "text": args.get("text"), "metadata": args.get("metadata")})
            return {"ok": True, "channel": args.get("channel"), "ts": ts,
                    "message": {"text": args.get("text"), "ts": ts}}
        if method == "conversations.replies":
            thread = args.get("ts")
            found = [{k: v for k, v in m.items() if k != "channel" and (v is not None or k != "metadata")}
                     for m in self.messages if m["channel"] == args.get("channel")
                     and (m["ts"] == thread or m["thread_ts"] == thread)]
            if str(args.get("include_all_metadata")).lower() not in ("1", "true"):
                for m in found:
                    m.pop("metadata", None)
            return {"ok": True, "messages": found, "has_more": False}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "users.info":
            user = args.get("user")
            return {"ok": True, "user": {"id": user, "name": user.lower(), "real_name": f"Real {user}",
                                         "profile": {"display_name": f"eng-{user.lower()}"}}}
        if method == "usergroups.users.list":
            group = args.get("usergroup")
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        if method == "files.info":
            fid = args.get("file")
            if fid not in self.files:
                return {"ok": False, "error": "file_not_found"}
            name, data = self.files[fid]
            return {"ok": True, "file": self.add_file(fid, name, data)}
        return {"ok": True}

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: Slack's end of the WebSocket the app opened."""
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        async for msg in ws:
            if msg.type == 1:  # text
                self.acks.append(json.loads(msg.data))
        return ws

    async def push(self, envelope: dict) -> None:
        for ws in list(self.sockets):
            if not ws.closed:
                await ws.send_json(envelope)

    async def signin(self, request: web.Request) -> web.Response:
        return web.Response(text="<html>sign in</html>", content_type="text/html")

    async def file(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization")
        self.downloads.append((request.match_info["file_id"], auth))
        if auth != f"Bearer {TOKEN}":
            raise web.HTTPFound(f"{self.base}/signin")
        entry = self.files.get(request.match_info["file_id"])
        if entry is None:
            raise web.HTTPNotFound()
        return web.Response(body=entry[1], content_type="application/octet-stream")


# ------------------------------------------------------ Slack's payloads

def event_body(event: dict, event_id: str) -> str:
    return json.dumps({
        "token": "legacy", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "type": "event_callback",
        "event": event, "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0FAKE", "user_id": "UBOT", "is_bot": True}],
    })


def message_event(text: str, *, ts: str, channel: str = "C0CASES", user: str = "U0WEI", thread_ts: str | None = None,
                  files: list[dict] | None = None) -> dict:
    ev = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts,
          "channel_type": "channel"}
    if thread_ts:
        ev["thread_ts"] = thread_ts
    if files:
        ev["subtype"] = "file_share"
        ev["files"] = files
    return ev


_TRIGGERS = itertools.count(1)


def command_body(text: str, *, channel: str = "C0CASES", user: str = "U0WEI", trigger: str | None = None) -> str:
    """A slash command as Slack posts it; every invocation has its own trigger id."""
    trigger = trigger or f"13345224609.{next(_TRIGGERS)}"
    return urlencode({
        "token": "legacy", "team_id": "T0FAKE", "team_domain": "fake", "channel_id": channel, "channel_name": "cases",
        "user_id": user, "user_name": user.lower(), "command": "/case", "text": text, "api_app_id": "A0FAKE",
        "response_url": "https://hooks.invalid/commands/1", "trigger_id": trigger,
    })


def interactive_body(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload)})
