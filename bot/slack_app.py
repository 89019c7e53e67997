"""Slack: the case desk behind slack-bolt's AsyncApp.

Messages (uploads included) are acknowledged as soon as they are queued as
durable jobs; the desk answers in the message's thread.  ``/case`` runs the
same commands; buttons open modals where input is needed.  Web API calls
that Slack rate-limits are retried after ``Retry-After``; a channel the bot
is not in is joined once."""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import Gate, Rules, admit
from bot.jobs import JobQueue
from bot.platform import Platform
from bot.slack_blocks import message
from bot.spool import CHUNK, TooLarge, spool
from handlers.analyse import once
from handlers.desk import Desk
from handlers.events import Attachment, ChatEvent, Reply, TempFile
from handlers.parsing import CASE_NUMBER
from handlers.deliver import Thread, case_threads
from store import cases, ops
from store.errors import CrashdeskError

log = logging.getLogger("crashdesk.slack")
MAX_SLACK_BODY = 1024**2

# Message subtypes a person produces; edits, joins and bot posts are not.
HUMAN_SUBTYPES = (None, "file_share", "thread_broadcast")
WORKING, DONE, FAILED = "hourglass_flowing_sand", "white_check_mark", "warning"
ARCHIVED_MARK = "lock"


class DownloadError(Exception):
    pass


# -- the shape of what Slack sends ---------------------------------------------
# A signed body is still checked before anything reads it: JSON that is not
# an object, a field of the wrong type or nesting deep enough to exhaust
# the parser's recursion is answered 400 (and logged), never a 500 or a job
# that fails later.
OPT_STR = (str, type(None))
MESSAGE_FIELDS = {"type": str, "channel": str, "ts": str, "user": OPT_STR, "text": OPT_STR, "thread_ts": OPT_STR,
                  "subtype": OPT_STR, "files": (list, type(None))}
FILE_FIELDS = {"id": OPT_STR, "name": OPT_STR, "title": OPT_STR, "mode": OPT_STR, "url_private": OPT_STR,
               "url_private_download": OPT_STR, "size": (int, type(None))}
EVENTS_API_TYPES = ("event_callback", "url_verification", "app_rate_limited")
INTERACTIVE_TYPES = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action",
                     "block_suggestion")


def _typed(obj: Any, fields: dict) -> bool:
    return isinstance(obj, dict) and all(isinstance(obj.get(k), t) for k, t in fields.items())


def message_shape_problem(event: Any) -> str | None:
    """Why a message or app_mention event cannot be read, or None."""
    if not _typed(event, MESSAGE_FIELDS):
        wrong = [k for k, t in MESSAGE_FIELDS.items() if isinstance(event, dict) and not isinstance(event.get(k), t)]
        return f"a message event with fields of the wrong type ({', '.join(wrong) or 'not an object'})"
    if not all(_typed(f, FILE_FIELDS) for f in event.get("files") or []):
        return "a message event whose files are not file objects"
    return None


def _loads(text: str | bytes) -> Any:
    """json.loads, with nesting too deep for the parser a ValueError too."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deep") from None


def body_problem(body: bytes, content_type: str) -> str | None:
    """Why a signed Slack request cannot be served, or None when it has the
    shape of an Events API call, a slash command or an interaction."""
    if content_type.startswith("application/json"):
        try:
            payload = _loads(body)
        except ValueError as exc:
            return f"a body that is not JSON ({exc})"
        if not isinstance(payload, dict):
            return f"JSON that is not an object ({type(payload).__name__})"
        kind = payload.get("type")
        if kind not in EVENTS_API_TYPES:
            return f"an Events API call of no known type ({str(kind)[:40]!r})"
        if kind == "url_verification" and not isinstance(payload.get("challenge"), str):
            return "a URL verification without its challenge"
        if kind == "event_callback":
            event = payload.get("event")
            if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                return "an event callback without an event object"
            if event["type"] in ("message", "app_mention"):
                return message_shape_problem(event)
        return None
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return "a form that is not UTF-8"
    if "payload" in form:
        try:
            payload = _loads(form["payload"][0])
        except ValueError as exc:
            return f"an interaction payload that is not JSON ({exc})"
        return _interaction_problem(payload)
    if "command" in form:
        if not all(form.get(k) for k in ("channel_id", "user_id")):
            return "a slash command without its channel or user"
        return None
    return "a form that is neither a slash command nor an interaction"


def _interaction_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict) or payload.get("type") not in INTERACTIVE_TYPES:
        return "an interaction payload that is not an object of a known type"
    if not _typed(payload.get("user"), {"id": str}) or not isinstance(payload.get("trigger_id"), OPT_STR):
        return "an interaction without its user"
    for key in ("channel", "message", "container"):
        if not isinstance(payload.get(key), (dict, type(None))):
            return f"an interaction whose {key} is not an object"
    if payload["type"] == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not all(_typed(a, {"action_id": str, "value": OPT_STR}) for a in actions):
            return "block actions that are not action objects"
    if payload["type"] in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not _typed(view, {"callback_id": str, "private_metadata": OPT_STR, "id": OPT_STR}):
            return "a view submission without its view"
        values = (view.get("state") or {}).get("values", {}) if isinstance(view.get("state"), (dict, type(None))) else None
        if not isinstance(values, dict) or not all(
                isinstance(block, dict) and all(isinstance(v, dict) for v in block.values()) for block in values.values()):
            return "a view submission whose values are not objects"
        try:
            meta = _loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = None
        if not isinstance(meta, dict):
            return "a view submission whose metadata is not ours"
    return None


class SlackAdapter(Platform):
    name = "slack"
    settings_keys = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")

    @classmethod
    def missing(cls, settings) -> list[str]:
        out = []
        if not settings.get("SLACK_BOT_TOKEN"):
            out.append("SLACK_BOT_TOKEN")
        if not settings.get("SLACK_APP_TOKEN") and not settings.get("SLACK_SIGNING_SECRET"):
            out.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
        return out

    @classmethod
    def from_settings(cls, desk, jobs, settings) -> "SlackAdapter":
        adapter = cls(desk, jobs, token=settings.get("SLACK_BOT_TOKEN"),
                      signing_secret=settings.get("SLACK_SIGNING_SECRET"), api_url=settings.get("SLACK_API_URL"),
                      socket_mode=bool(settings.get("SLACK_APP_TOKEN")), rules=settings.access)
        adapter.app_token = settings.get("SLACK_APP_TOKEN")
        return adapter

    def describe(self) -> str:
        return "Slack over Socket Mode" if self.socket_mode else "Slack over HTTP"

    def __init__(self, desk: Desk, jobs: JobQueue, *, token: str, signing_secret: str | None,
                 api_url: str | None = None, max_download: int | None = None, socket_mode: bool = False,
                 rules: Rules | None = None):
        self.desk = desk
        self.jobs = jobs
        self.token = token
        self.socket_mode = socket_mode
        self.app_token: str | None = None
        self.leadership = None
        self._socket = None
        self.max_download = max_download or desk.config.max_upload
        self.client = AsyncWebClient(
            token=token, base_url=api_url or "https://slack.com/api/",
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                            AsyncServerErrorRetryHandler(max_retry_count=2),
                            AsyncConnectionErrorRetryHandler(max_retry_count=2)],
        )
        # Requests are verified once, by signed(), before their body is
        # parsed; bolt would only verify them again after parsing.
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self.app = AsyncApp(client=self.client, signing_secret=signing_secret, request_verification_enabled=False,
                            raise_error_for_unhandled_request=False, process_before_response=False)
        self._names: dict[str, str] = {}
        # Who may use the desk: Slack channels and user groups (bot.access).
        self.gate = Gate(rules or Rules())
        self.gate.slack_members = self._usergroup_members
        self._http: aiohttp.ClientSession | None = None
        jobs.register("slack.message", self._run_message, self._message_failed)
        from handlers import analyse

        run, give_up = analyse.runner(desk, self)
        jobs.register(analyse.kind_for("slack"), run, give_up)
        self._register()

    def signed(self, body: bytes, headers) -> bool:
        """Slack's v0 signature over the raw body, made in the last five
        minutes.  A malformed header (a timestamp that is no number, a
        signature that is not ASCII) is a bad signature, not an error."""
        if self.verifier is None:
            return False
        try:
            return self.verifier.is_valid_request(body, headers)
        except (TypeError, ValueError):
            return False

    @staticmethod
    def refuse(body: bytes, content_type: str, remote: str | None = None):
        """A 400 for a signed request of the wrong shape (logged), else None."""
        problem = body_problem(body, content_type)
        if problem is None:
            return None
        log.warning("refused a signed Slack request (400) from %s: %s", remote, problem)
        return web.Response(status=400, text=f"unreadable request: {problem}")

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    # ------------------------------------------------------------ platform
    def mount(self, web_app) -> None:
        if not self.socket_mode:
            web_app.router.add_post("/slack/events", self.events)

    async def start(self) -> None:
        if self.socket_mode and self.app_token:
            # One Socket Mode connection for the cluster (Slack would spread
            # events over several): held under a lease, taken over when its
            # instance dies.
            from bot.leader import hold

            self.leadership = await hold(self.desk, self.jobs, "slack-socket", gain=self._socket_up,
                                         lose=self._socket_down)

    async def stop(self) -> None:
        if self.leadership is not None:
            await self.leadership.stop()
        await self.close()

    def health(self) -> dict:
        if self.socket_mode:
            return {"ok": True, "socket": bool(self.leadership and self.leadership.held)}
        return {"ok": True}

    async def _socket_up(self) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        self._socket = AsyncSocketModeHandler(self.app, self.app_token)
        await self._socket.connect_async()

    async def _socket_down(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            await socket.close_async()

    def digest_target(self, settings):
        channel = settings.get("DIGEST_CHANNEL")
        if not channel:
            return None

        async def post(reply: Reply) -> None:
            if await self.post(reply, channel, thread=None) is None:
                # Not marked sent: the next tick tries again.
                raise RuntimeError(f"the digest could not be posted to {channel}")

        return f"slack:{channel}", post

    async def to_threads(self, reply: Reply, threads: list[Thread]) -> int:
        reached = 0
        for th in threads:
            if await self.post(reply, th.channel, thread=th.thread) is not None:
                reached += 1
        return reached

    async def events(self, request):
        from aiohttp import web
        from slack_bolt.adapter.aiohttp import to_aiohttp_response
        from slack_bolt.request.async_request import AsyncBoltRequest

        from bot.spool import read_body

        # Slack's payloads are a few kilobytes; the signature is checked on
        # the raw bytes before anything parses them.
        body = await read_body(request, MAX_SLACK_BODY)
        if body is None:
            log.warning("refused a Slack request (413) from %s: over %d bytes", request.remote, MAX_SLACK_BODY)
            return web.Response(status=413)
        if not self.signed(body, request.headers):
            # A bad signature or a stale (replayed) timestamp: nothing was
            # parsed, queued or stored; this line is the only trace.
            log.warning("refused a Slack request (401) from %s: bad or stale signature", request.remote)
            return web.Response(status=401)
        refused = self.refuse(body, request.content_type, request.remote)
        if refused is not None:
            return refused
        queued = await self._queue_event(body, request)
        if queued is not None:
            return queued
        try:
            bolt_request = AsyncBoltRequest(body=body.decode("utf-8", "replace"), query=request.query_string,
                                            headers=request.headers)
        except ValueError:  # signed, yet not the JSON or form it says it is
            return web.Response(status=400, text="unreadable body")
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _queue_event(self, body: bytes, request):
        """A message event is acknowledged only once its job is stored: if
        the database cannot take it (a full disk, a server away), Slack is
        answered 503 and delivers it again, instead of a 200 for an event
        that would then be lost.  None: not a message event, bolt decides."""
        from aiohttp import web

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
            await self.accept(payload, event)
        except CrashdeskError as exc:
            log.error("a Slack event was not queued, answering 503 so that Slack sends it again: %s", exc)
            return web.Response(status=503, text="not queued; please retry")
        return web.Response(status=200)

    # ------------------------------------------------------------- listeners
    def _register(self) -> None:
        app = self.app

        @app.event("message")
        async def on_message(body, event):
            await self.accept(body, event)

        @app.event("app_mention")
        async def on_mention(body, event):
            await self.accept(body, event)

        @app.event("file_shared")
        async def on_file_shared(body):
            # The file_share message carries the file; this event only its id.
            return None

        @app.command("/case")
        async def on_command(ack, command):
            await ack()
            await self.run_command(command)

        @app.action(re.compile(r"^crashdesk_\w++$"))
        async def on_action(ack, body, action):
            await ack()
            await self.run_action(body, action)

        @app.view(re.compile(r"^crashdesk_\w++$"))
        async def on_view(ack, body, view):
            errors = self.validate_view(view)
            if errors:
                await ack(response_action="errors", errors=errors)
                return
            await ack()
            await self.run_view(body, view)

    async def accept(self, body: dict, event: dict) -> None:
        """Queue a human message as a durable job; retries and the duplicate
        app_mention of a channel message share channel+ts and are dropped."""
        if event.get("bot_id") or event.get("subtype") not in HUMAN_SUBTYPES or not event.get("user"):
            return
        problem = message_shape_problem(event)
        if problem is not None:  # over Socket Mode, nothing checked it before
            log.warning("dropped a Slack event: %s", problem)
            return
        await self.jobs.submit("slack.message", {"event": event},
                               dedupe=f"slack:{event.get('channel')}:{event.get('ts')}")

    # ------------------------------------------------------------- messages
    def to_event(self, ev: dict) -> ChatEvent:
        thread = ev.get("thread_ts")
        if thread == ev.get("ts"):
            thread = None
        files = [self._attachment(f) for f in ev.get("files") or [] if f.get("mode") != "tombstone"]
        # "<@U0BOT> case show ..." -> "@crashdesk case show ...", the plain form the desk reads.
        text = re.sub(r"<@[\w.-]++>", "@crashdesk", ev.get("text") or "")
        return ChatEvent(platform="slack", channel=ev["channel"], user=ev["user"], text=text,
                         ts=ev["ts"], thread=thread, files=files, threaded=True, direct=ev.get("channel_type") == "im",
                         route={"channel": ev["channel"], "thread": thread or ev["ts"], "user": ev["user"],
                                "ts": ev["ts"], "files": bool(files)})

    async def _run_message(self, payload: dict) -> None:
        ev = payload["event"]
        event = self.to_event(ev)
        event.user_name = await self.user_name(event.user)
        root = event.thread or event.ts

        async def refuse(reply: Reply) -> None:
            await self.post(reply, event.channel, thread=root if event.thread else None, user=event.user,
                            ephemeral=True)

        if not await admit(self.gate, self.desk, event, refuse):
            return
        if event.files:
            await self._react(event.channel, event.ts, WORKING)
        replies: list[Reply] = []

        route = event.route or {}

        async def post(reply: Reply, key: str) -> None:
            await self.send(route, reply, key)

        async def posted(key: str) -> bool | None:
            return await self.posted(route, key)

        # Run again after a crash, the message posts nothing it posted before.
        posted_once = once(self.desk, f"slack:{event.channel}:{event.ts}", post, posted)

        async def send(reply: Reply) -> None:
            replies.append(reply)
            await posted_once(reply)

        queued = await self.desk.handle(event, send, retry=True)
        if event.files and not queued:
            # Nothing left for the analysis job (refused, or a file the
            # case already has): the message is settled now.
            await self.finished(event.route or {}, any(r.kind == "verdict" for r in replies))

    async def _message_failed(self, payload: dict, error: str) -> None:
        """Retried and still failing: say so in the thread, rather than
        leave the message without an answer."""
        event = self.to_event(payload["event"])
        lang = await self.desk.lang_for(event)
        from handlers.texts import t

        await self.send(event.route or {}, self.desk.error(t(lang, "not_now", why=t(lang, "try_again_later"))))
        if event.files:
            await self.finished(event.route or {}, False)

    # -------------------------------------------- the analysis job's outlet
    async def send(self, route: dict, reply: Reply, key: str | None = None) -> None:
        await self.post(reply, route["channel"], thread=reply.thread or route.get("thread"), user=route.get("user"),
                        key=key)

    async def posted(self, route: dict, key: str) -> bool | None:
        """Whether the thread already holds the reply of this key (the
        message metadata every job reply carries); None when Slack cannot
        be asked."""
        try:
            resp = await self.client.conversations_replies(channel=route["channel"], ts=route.get("thread"),
                                                           include_all_metadata=True, limit=200)
        except (SlackApiError, aiohttp.ClientError) as exc:
            log.warning("could not look for an earlier reply in %s: %s", route.get("channel"), exc)
            return None
        return any(((m.get("metadata") or {}).get("event_payload") or {}).get("key") == key
                   for m in resp.get("messages") or [])

    async def finished(self, route: dict, ok: bool) -> None:
        if route.get("files"):
            await self._unreact(route["channel"], route["ts"], WORKING)
            await self._react(route["channel"], route["ts"], DONE if ok else FAILED)

    # ------------------------------------------------------------- commands
    async def run_command(self, command: dict) -> None:
        channel, user = command["channel_id"], command["user_id"]
        trigger = command.get("trigger_id")
        # A trigger id is unique to one invocation: a replayed request is
        # dropped by the desk like any redelivered event.
        event = ChatEvent(platform="slack", channel=channel, user=user, text="case " + (command.get("text") or ""),
                          ts=f"cmd-{trigger or command.get('command_ts', '')}", event_id=f"cmd:{trigger}" if trigger else None,
                          user_name=await self.user_name(user), via_command=True)
        started: dict[str, str] = {}

        async def send(reply: Reply) -> None:
            if reply.ephemeral or reply.kind in ("help", "error"):
                await self.post(reply, channel, thread=None, user=user, ephemeral=True)
                return
            # A command's answer opens a thread at the top of the channel;
            # what follows about the same case goes into that thread.
            thread = started.get(reply.case_number or "")
            ts = await self.post(reply, channel, thread=thread, user=user)
            if ts and reply.binds_case and reply.binds_case not in started:
                started[reply.binds_case] = ts
                await self.desk.bind(reply.binds_case, "slack", channel, ts)

        async def refuse(reply: Reply) -> None:
            await self.post(reply, channel, thread=None, user=user, ephemeral=True)

        if await admit(self.gate, self.desk, event, refuse):
            await self.desk.handle(event, send)

    # -------------------------------------------------------- buttons, modals
    async def run_action(self, body: dict, action: dict) -> None:
        kind = action["action_id"].removeprefix("crashdesk_")
        value = action.get("value") or ""
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        message = body.get("message") or {}
        thread = message.get("thread_ts") or message.get("ts") or (body.get("container") or {}).get("message_ts")
        user = body["user"]["id"]
        meta = json.dumps({"case": value if value != "-" else "", "channel": channel, "thread": thread})
        if kind in ("call", "archive", "open"):
            await self.client.views_open(trigger_id=body["trigger_id"], view=self._modal(kind, value, meta))
            return
        text = {"assign_me": f"case assign {value} me", "show": f"case show {value}",
                "email_send": f"case email send {value}", "reopen": f"case reopen {value}"}.get(kind)
        if text:
            await self._as_message(text, channel, thread, user, key=f"action:{body.get('trigger_id')}")

    def _modal(self, kind: str, number: str, meta: str) -> dict:
        def text_input(block_id, label, multiline=False, optional=False, initial=None):
            element = {"type": "plain_text_input", "action_id": "value", "multiline": multiline}
            if initial:
                element["initial_value"] = initial
            return {"type": "input", "block_id": block_id, "optional": optional,
                    "label": {"type": "plain_text", "text": label}, "element": element}

        title = {"call": "Log a call", "archive": "Archive case", "open": "Open a case"}[kind]
        blocks: list[dict] = []
        if kind == "call":
            blocks = [
                text_input("agreed", "What was agreed", multiline=True),
                {"type": "input", "block_id": "due", "optional": True, "label": {"type": "plain_text", "text": "Next action due"},
                 "element": {"type": "datepicker", "action_id": "value"}},
                text_input("next", "Next action", optional=True),
            ]
        elif kind == "archive":
            blocks = [text_input("reason", "Reason", multiline=True)]
        else:
            blocks = [
                text_input("number", "Case number (CAS-00000-XXXXXX)", initial=number or None),
                {"type": "input", "block_id": "priority", "label": {"type": "plain_text", "text": "Priority"},
                 "element": {"type": "static_select", "action_id": "value",
                             "initial_option": {"text": {"type": "plain_text", "text": "P3"}, "value": "P3"},
                             "options": [{"text": {"type": "plain_text", "text": p}, "value": p} for p in ("P1", "P2", "P3", "P4")]}},
                text_input("customer", "Customer", optional=True),
                text_input("title", "Title"),
            ]
        return {"type": "modal", "callback_id": f"crashdesk_{kind}", "private_metadata": meta,
                "title": {"type": "plain_text", "text": title}, "submit": {"type": "plain_text", "text": "Save"},
                "close": {"type": "plain_text", "text": "Cancel"}, "blocks": blocks}

    @staticmethod
    def _values(view: dict) -> dict[str, str]:
        out = {}
        for block_id, block in (view.get("state") or {}).get("values", {}).items():
            v = block.get("value") or {}
            out[block_id] = (v.get("value") or v.get("selected_date") or (v.get("selected_option") or {}).get("value") or "").strip()
        return out

    def validate_view(self, view: dict) -> dict[str, str] | None:
        kind = view["callback_id"].removeprefix("crashdesk_")
        values = self._values(view)
        if kind == "open" and not CASE_NUMBER.fullmatch(values.get("number", "")):
            return {"number": "A case number looks like CAS-04716-C3F2K9"}
        if kind == "call" and not values.get("agreed"):
            return {"agreed": "Please say what was agreed"}
        if kind == "archive" and not values.get("reason"):
            return {"reason": "Please give a reason"}
        return None

    async def run_view(self, body: dict, view: dict) -> None:
        kind = view["callback_id"].removeprefix("crashdesk_")
        meta = json.loads(view.get("private_metadata") or "{}")
        values = self._values(view)
        number = meta.get("case") or ""
        if kind == "call":
            text = f"case call {number} {values['agreed']}"
            if values.get("next"):
                text += f", next {values['next']}"
            if values.get("due"):
                text += f" {values['due']}" if values.get("next") else f", next {values['due']}"
        elif kind == "archive":
            text = f"case archive {number} {values['reason']}"
        else:
            customer = values.get("customer", "").replace(" ", "_")
            text = f"case open {values['number']} {values.get('priority', 'P3')}" + (
                f" customer:{customer}" if customer else "") + f" {values.get('title', '')}"
        await self._as_message(text, meta.get("channel"), meta.get("thread"), body["user"]["id"],
                               key=f"view:{view.get('id')}")

    async def _as_message(self, text: str, channel: str, thread: str | None, user: str, key: str) -> None:
        event = ChatEvent(platform="slack", channel=channel, user=user, text=text, ts=key, thread=thread,
                          user_name=await self.user_name(user), event_id=key, threaded=thread is not None)

        async def send(reply: Reply) -> None:
            await self.post(reply, channel, thread=reply.thread or thread, user=user)

        async def refuse(reply: Reply) -> None:
            await self.post(reply, channel, thread=thread, user=user, ephemeral=True)

        if await admit(self.gate, self.desk, event, refuse):
            await self.desk.handle(event, send)

    # ---------------------------------------------------------------- posting
    async def post(self, reply: Reply, channel: str, *, thread: str | None, user: str | None = None,
                   ephemeral: bool = False, key: str | None = None) -> str | None:
        args = message(reply)
        if key and not (ephemeral or reply.ephemeral):
            # Lets a job run again after a crash find what it had posted.
            args["metadata"] = {"event_type": "crashdesk_reply", "event_payload": {"key": key}}
        if thread and not thread.startswith(("cmd-", "view:", "action:")):
            args["thread_ts"] = thread
        try:
            if ephemeral or reply.ephemeral:
                await self._call("chat_postEphemeral", channel=channel, user=user, **args)
                return None
            resp = await self._call("chat_postMessage", channel=channel, **args)
        except SlackApiError as exc:
            log.warning("could not post to %s: %s", channel, exc.response.get("error"))
            return None
        ts = resp.get("ts")
        if reply.kind == "card" and reply.case_number and ts:
            # The first card in a thread (or the card that starts one) is the
            # one kept current.
            key = f"slack:card:{channel}:{args.get('thread_ts') or ts}"
            if not await self.desk.store.call(ops.get_setting, key):
                await self.desk.store.call(ops.set_setting, key, ts)
        if reply.state_changed and reply.case_number:
            await self.refresh_case(reply.case_number)
        return ts

    async def _call(self, method: str, **kwargs) -> Any:
        try:
            return await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            if exc.response.get("error") == "not_in_channel" and kwargs.get("channel"):
                await self.client.conversations_join(channel=kwargs["channel"])
                return await getattr(self.client, method)(**kwargs)
            raise

    async def refresh_case(self, number: str) -> None:
        """After archive/reopen: update the card at the top of every Slack
        thread of the case, and mark the thread's root message."""
        case = await self.desk.store.call(cases.get, number)
        if case is None:
            return
        for th in await case_threads(self.desk, number, "slack"):
            channel, thread = th.channel, th.thread
            lang = await self.desk.store.call(ops.get_setting, f"lang:slack:{channel}") or self.desk.config.lang
            card_ts = await self.desk.store.call(ops.get_setting, f"slack:card:{channel}:{thread}")
            reply = await self.desk.card_for(case, lang)
            try:
                if card_ts:
                    await self._call("chat_update", channel=channel, ts=card_ts, **{k: v for k, v in message(reply).items()
                                                                                     if k in ("text", "blocks")})
                if case.status == "archived":
                    await self._react(channel, thread, ARCHIVED_MARK)
                else:
                    await self._unreact(channel, thread, ARCHIVED_MARK)
            except SlackApiError as exc:
                log.warning("could not refresh %s in %s: %s", number, channel, exc.response.get("error"))

    async def _react(self, channel: str, ts: str, name: str) -> None:
        try:
            await self.client.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_reacted":
                log.info("reaction %s on %s failed: %s", name, ts, exc.response.get("error"))

    async def _unreact(self, channel: str, ts: str, name: str) -> None:
        try:
            await self.client.reactions_remove(channel=channel, timestamp=ts, name=name)
        except SlackApiError:
            pass

    async def _usergroup_members(self, group: str) -> set[str]:
        """usergroups.users.list (the usergroups:read scope)."""
        resp = await self.client.usergroups_users_list(usergroup=group)
        return {u for u in resp.get("users") or [] if isinstance(u, str)}

    async def user_name(self, user: str) -> str:
        if user not in self._names:
            try:
                resp = await self.client.users_info(user=user)
                profile = resp["user"].get("profile", {})
                self._names[user] = profile.get("display_name") or resp["user"].get("real_name") or resp["user"].get("name") or user
            except (SlackApiError, KeyError, aiohttp.ClientError):
                return user
        return self._names[user]

    # ------------------------------------------------------------- downloads
    def _attachment(self, f: dict) -> Attachment:
        async def fetch() -> TempFile:
            return await self.download(f)

        return Attachment(name=f.get("name") or f.get("title") or f.get("id", "file"), fetch=fetch,
                          size=f.get("size"), id=f.get("id"))

    async def download(self, f: dict) -> TempFile:
        """The file, spooled to a temp file with the bot token.  Redirects are
        not followed: Slack redirects to its sign-in page when the token may
        not read the file."""
        url = f.get("url_private_download") or f.get("url_private")
        if not url and f.get("id"):
            try:
                info = await self.client.files_info(file=f["id"])
            except SlackApiError as exc:
                raise DownloadError(self._explain(exc.response.get("error"))) from None
            url = info["file"].get("url_private_download") or info["file"].get("url_private")
        if not url:
            raise DownloadError("Slack gave no download address for this file")
        host = urlsplit(url).hostname or ""
        if not self._trusted_host(host):
            # The bot token goes only to Slack (or the API base configured).
            raise DownloadError(f"refusing to send the bot token to {host or 'an unknown host'}")
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600, sock_read=60))
        async with self._http.get(url, headers={"Authorization": f"Bearer {self.token}"}, allow_redirects=False) as r:
            if 300 <= r.status < 400:
                raise DownloadError("Slack sent a sign-in page instead of the file (does the app have the files:read scope?)")
            if r.status == 404:
                raise DownloadError(self._explain("file_not_found"))
            if r.status != 200:
                raise DownloadError(f"Slack answered HTTP {r.status}")
            if r.headers.get("Content-Type", "").startswith("text/html"):
                raise DownloadError("Slack sent a web page instead of the file (does the app have the files:read scope?)")
            try:
                return await spool(r.content.iter_chunked(CHUNK), self.max_download, "crashdesk-slack-")
            except TooLarge as exc:
                raise DownloadError(str(exc)) from None

    def _trusted_host(self, host: str) -> bool:
        host = host.lower()
        api_host = (urlsplit(self.client.base_url).hostname or "").lower()
        return host == api_host or host == "slack.com" or host.endswith((".slack.com", ".slack-edge.com"))

    @staticmethod
    def _explain(error: str | None) -> str:
        return {
            "file_not_found": "the file was deleted or is no longer shared (file_not_found)",
            "file_deleted": "the file was deleted",
            "missing_scope": "the app lacks the files:read scope",
        }.get(error or "", f"Slack said {error}")
