"""The web case board: all cases at once for a support lead, a case page
with its whole record, a vendor view, and an upload form (the way WeCom
groups, which cannot send files to a bot, get dumps in).

Every page and file needs a session; a session starts only from a signed
link handed out in chat, and is kept in the database (store.sessions), so
that signing out or expiry ends it.  A session opened from a case link
reaches that case only: its page, its uploads, its actions.  Sign-in,
sign-out and every upload leave an audit line.  Server-rendered, no
third-party assets."""

from __future__ import annotations

import functools
import logging
import secrets
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote, urlencode

import jinja2
from aiohttp import web

from bot.board.auth import (COOKIE, LINK_TTL, SESSION_TTL, BadToken, Signer, cookie_token, new_key,
                            new_session_token, token_hash)
from bot.board.svg import vendor_months
from bot.board.texts import translator
from bot.config import Settings
from bot.secret_compare import same_secret
from bot.spool import CHUNK, TooLarge, spool
from handlers.cards import age_days, verdict_line
from analysis.render.doc import Doc
from handlers import commands
from handlers.desk import Ctx, Desk
from handlers.uploads import MAX_FILES
from handlers.events import Attachment, ChatEvent, Reply
from store import board as board_store
from store import memory
from store import casemail, cases, ops, sessions, timeline
from store.audit import note
from store.errors import CrashdeskError
from store.sessions import Session

log = logging.getLogger("crashdesk.board")
HERE = Path(__file__).parent
LANG_COOKIE = "crashdesk_lang"
FLASH_COOKIE = "crashdesk_flash"  # what the last form did, shown once on the next page
MAX_ACTION_FORM = 64 * 1024
# What an engineer can do from a case page: the chat's own commands.
ACTIONS = ("call", "note", "assign", "priority", "archive", "reopen", "email_send")
STATIC = {"board.css": "text/css", "upload.js": "application/javascript"}


MAX_FORM_FILES = MAX_FILES  # the desk's limit for one message's files


class _FormRefused(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key  # the board text that says why


async def _part_chunks(part):
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


@functools.cache
def _static_file(name: str) -> bytes:
    return (HERE / "static" / name).read_bytes()


def _offset(text: str | None) -> int:
    """A page offset from the query: anything but a plain number in range is 0."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 9:
        return 0
    return int(text)


async def _nothing() -> bytes:
    return b""


def _basis_words(lang: str, basis: str | None) -> str:
    """How a culprit was found, in words (the verdict's own texts)."""
    from analysis.render.texts import t as verdict_text

    key = f"basis_{basis}"
    words = verdict_text(lang, key)
    return "" if words == key else words


def _iso_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _plain(doc: Doc) -> str:
    """A reply's text, as one line for the page."""
    return " ".join(b.text for b in doc.blocks if b.kind == "para" and b.text)


class Board:
    def __init__(self, desk: Desk, settings: Settings, relay=None):
        self.desk = desk
        self.settings = settings
        self.public_url = (settings.get("CRASHDESK_PUBLIC_URL") or f"http://localhost:{settings.port}").rstrip("/")
        self.relay = relay  # posts a verdict to the case's chat threads
        self.wait_for = 60.0  # seconds an upload request waits for its verdict
        self._signer: Signer | None = None
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                      autoescape=jinja2.select_autoescape(["html"]))

    # ------------------------------------------------------------- the key
    async def signer(self) -> Signer:
        if self._signer is None:
            configured = self.settings.get("CRASHDESK_SECRET")
            key = configured or await self.desk.store.call(ops.setting_once, "board_secret", new_key)
            self._signer = Signer(key.encode())
        return self._signer

    async def link_for(self, user: str, platform: str, case: str | None = None,
                       lang: str | None = None) -> tuple[str, int]:
        """A sign-in link for chat; (url, hours it stays valid).  ``lang``:
        the chat's language, which the board then speaks."""
        token = (await self.signer()).link_token(user, platform, case)
        query = {"t": token, **({"lang": lang} if lang in ("en", "zh") else {})}
        return f"{self.public_url}/auth?{urlencode(query)}", LINK_TTL // 3600

    # ------------------------------------------------------------- routing
    def mount(self, app: web.Application) -> None:
        app.router.add_get("/auth", self.auth)
        app.router.add_get("/logout", self.logout)
        app.router.add_post("/logout", self.logout)
        app.router.add_post("/case/{number}/act", self.act)
        app.router.add_get("/", self.cases_page)
        app.router.add_get("/case/{number}", self.case_page)
        app.router.add_post("/case/{number}/upload", self.upload)
        app.router.add_get("/vendors", self.vendors_page)
        app.router.add_get("/buckets", self.buckets_page)
        app.router.add_get("/static/{name}", self.static)

    def _lang(self, request: web.Request) -> str:
        lang = request.query.get("lang") or request.cookies.get(LANG_COOKIE) or self.desk.config.lang
        return lang if lang in ("en", "zh") else "en"

    def _render(self, request: web.Request, template: str, status: int = 200, **context) -> web.Response:
        lang = self._lang(request)
        html = self.env.get_template(template).render(lang=lang, t=translator(lang), basis=functools.partial(
            _basis_words, lang), **context)
        response = web.Response(text=html, content_type="text/html", status=status, headers={
            # same-origin, not no-referrer: with no-referrer a browser sends
            # "Origin: null" with the page's own forms, and the origin
            # check refused every upload made without JavaScript.
            "Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
            "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        })
        if request.query.get("lang") in ("en", "zh"):
            response.set_cookie(LANG_COOKIE, request.query["lang"], max_age=365 * 24 * 3600, httponly=True,
                                samesite="Strict")
        return response

    def _refuse(self, request: web.Request, key: str = "signin_needed", status: int = 401) -> web.Response:
        t = translator(self._lang(request))
        return self._render(request, "signin.html", status=status, message=t(key))

    async def _session(self, request: web.Request) -> Session | None:
        """The live session the request's cookie names, or None (no cookie,
        one of another shape, signed out, expired)."""
        token = cookie_token(request.cookies.get(COOKIE))
        if token is None:
            return None
        return await self.desk.store.call(sessions.alive, token_hash(token), self.desk.iso(self.desk.now()))

    async def _whole_board(self, request: web.Request) -> Session | web.Response:
        """A session that may see every case, or the page that says why not:
        a case link's session reaches its own case only."""
        session = await self._session(request)
        if session is None:
            return self._refuse(request)
        if session.case is not None:
            return self._out_of_scope(request, session)
        return session

    async def _case_session(self, request: web.Request, number: str) -> Session | web.Response:
        session = await self._session(request)
        if session is None:
            return self._refuse(request)
        if not session.reaches(number):
            return self._out_of_scope(request, session)
        return session

    def _out_of_scope(self, request: web.Request, session: Session) -> web.Response:
        log.warning("refused %s %s to %s (%s): their sign-in reaches %s only", request.method, request.path,
                    session.user, session.platform, session.case)
        t = translator(self._lang(request))
        return self._render(request, "signin.html", status=403, message=t("scope_case", number=session.case),
                            case_link=f"/case/{session.case}")

    async def open_session(self, user: str, platform: str, case: str | None = None,
                           remote: str | None = None) -> tuple[str, Session]:
        """A new server-side session; (the cookie's value, the session)."""
        token = new_session_token()
        now = self.desk.now()
        session = await self.desk.store.call(
            sessions.start, token_hash=token_hash(token), user=user, platform=platform, case=case,
            csrf=secrets.token_urlsafe(24), at=self.desk.iso(now),
            expires_at=self.desk.iso(now + timedelta(seconds=SESSION_TTL)), remote=remote)
        return token, session

    # --------------------------------------------------------------- pages
    async def auth(self, request: web.Request) -> web.Response:
        try:
            link = (await self.signer()).link(request.query.get("t"))
        except BadToken as exc:
            log.warning("refused a board sign-in link from %s: %s", request.remote, exc)
            return self._refuse(request, "link_bad", status=403)
        # The sign-in and its audit line are one transaction.
        cookie, session = await self.open_session(link.user, link.platform, link.case, remote=request.remote)
        log.info("board sign-in: %s (%s), %s", link.user, link.platform,
                 f"case {link.case} only" if link.case else "the whole board")
        response = web.HTTPFound(f"/case/{link.case}" if link.case else "/")
        response.set_cookie(COOKIE, cookie, max_age=SESSION_TTL, httponly=True, samesite="Strict",
                            secure=self.public_url.startswith("https://"), path="/")
        if request.query.get("lang") in ("en", "zh"):  # the language of the chat the link came from
            response.set_cookie(LANG_COOKIE, request.query["lang"], max_age=365 * 24 * 3600, httponly=True,
                                samesite="Strict")
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        """Sign out: the session ends in the database, so the cookie stops
        working wherever a copy of it is."""
        token = cookie_token(request.cookies.get(COOKIE))
        if token is not None:
            ended = await self.desk.store.call(sessions.end, token_hash(token), self.desk.iso(self.desk.now()),
                                               request.remote)
            if ended is not None:
                log.info("board sign-out: %s (%s)", ended.user, ended.platform)
        response = self._refuse(request, "signed_out", status=200)
        response.del_cookie(COOKIE, path="/")
        return response

    async def static(self, request: web.Request) -> web.StreamResponse:
        if await self._session(request) is None:
            return self._refuse(request)
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(body=_static_file(name), content_type=STATIC[name],
                            headers={"Cache-Control": "private, max-age=300"})

    async def cases_page(self, request: web.Request) -> web.Response:
        session = await self._whole_board(request)
        if isinstance(session, web.Response):
            return session
        lang = self._lang(request)
        t = translator(lang)
        q = request.query
        status = q.get("status", "open")
        statuses = {"open": ("open", "observing"), "observing": ("observing",), "archived": ("archived",),
                    "all": ("open", "observing", "archived")}.get(status, ("open", "observing"))
        offset = _offset(q.get("offset"))
        filters = {k: (q.get(k) or None) for k in ("priority", "customer", "vendor", "owner", "q")}
        rows, total = await self.desk.store.call(board_store.case_list, statuses=statuses, limit=200, offset=offset,
                                                 **filters)
        facets = await self.desk.store.call(board_store.facets)
        today = self.desk.today()
        view = [self._row(c, lang, today) for c in rows]
        next_offset = offset + 200 if offset + 200 < total else None
        next_query = urlencode({**{k: v for k, v in q.items() if k != "offset"}, "offset": next_offset or 0})
        return self._render(request, "cases.html", page="cases", session=session, rows=view, total=total,
                            f={**filters, "status": status}, facets=facets, next_offset=next_offset,
                            next_query=next_query,
                            statuses=[("open", t("st_open")), ("observing", t("st_observing")),
                                      ("archived", t("st_archived")), ("all", t("st_all"))])

    def _row(self, c, lang: str, today) -> dict:
        return {
            "number": c.number, "status": c.status, "priority": c.priority, "customer": c.customer, "title": c.title,
            "age": age_days(c.opened_at, today), "last_contact": self._local(c.last_contact_at),
            "next_action": c.next_action, "next_action_due": c.next_action_due,
            "overdue": c.overdue(today),
            "first_response": self._response_time(c.opened_at, c.first_response_at),
            "verdict": verdict_line(c.verdict_in(lang), lang) or c.verdict_line,
        }

    def _local(self, iso: str | None, with_time: bool = False) -> str | None:
        if not iso:
            return None
        when = datetime.fromisoformat(iso).astimezone(self.desk.tz)
        return when.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")

    @staticmethod
    def _response_time(opened: str, first: str | None) -> str | None:
        if not first:
            return None
        minutes = int((datetime.fromisoformat(first) - datetime.fromisoformat(opened)).total_seconds() // 60)
        if minutes < 60:
            return f"{max(minutes, 0)} min"
        if minutes < 48 * 60:
            return f"{minutes // 60} h {minutes % 60:02d}"
        return f"{minutes // 1440} d"

    async def case_page(self, request: web.Request) -> web.Response:
        session = await self._case_session(request, request.match_info["number"])
        if isinstance(session, web.Response):
            return session
        lang = self._lang(request)
        case = await self.desk.store.call(cases.get, request.match_info["number"])
        if case is None:
            return self._render(request, "signin.html", status=404, message=translator(lang)("not_found"))
        today = self.desk.today()
        items = []
        for item in await self.desk.store.call(timeline.timeline, case.id):
            item["when"] = self._local(item.get("at"), with_time=True)
            if item["type"] == "upload":
                item["size_text"] = f"{item['size'] / 1024:.0f} KB" if item["size"] < 1024**2 else f"{item['size'] / 1024**2:.1f} MB"
            items.append(item)
        last = await self.desk.store.call(timeline.last_decision, case.id)
        closing = last if last and last["kind"] == "archive" and case.status == "archived" else None
        # Whether the archive e-mail can be sent from here, or went already.
        mail = None
        if closing is not None:
            from handlers.mailout import archive_email_text, mail_lang, mailer_of, recipients_text, stale_before

            route = await self.desk.store.call(casemail.route_of, case.id)
            state = await self.desk.store.call(casemail.archive_mail, closing["id"])
            # The text shown is the one the button sends.
            text = (await archive_email_text(self.desk, case, closing, mail_lang(case, route)) if route
                    else closing["email"])
            # A claim its sender left (it died during the SMTP exchange) may be taken over, as in chat.
            free = state is None or state.abandoned(stale_before(self.desk, self.desk.now()))
            mail = {"email": text, "sendable": mailer_of(self.desk) is not None and route is not None and free,
                    "to": recipients_text(route.to, route.cc, lang) if route else None,
                    "sent": state is not None and state.claim is casemail.Claim.SENT,
                    "sent_to": recipients_text(state.to, (), lang) if state else None,
                    "sent_at": self._local(state.at, with_time=True) if state else None,
                    "sent_by": state.by if state else None}
        verdict = case.verdict_in(lang)
        third = {m.lower() for d in (verdict or {}).get("dumps", []) for m in d.get("third_party_modules") or []}
        info = {"opened": self._local(case.opened_at, True), "age": age_days(case.opened_at, today),
                "first_response": self._local(case.first_response_at, True), "last_contact": self._local(case.last_contact_at, True),
                "overdue": case.overdue(today)}
        # Other cases are out of reach of a case link's session.
        similar = await self.desk.store.call(memory.similar, case.id) if session.case is None else None
        changes = await self.desk.store.call(board_store.case_changes, case.id)
        for change in changes:
            change["when"] = self._local(change.get("at"), with_time=True)
        items = sorted(items + changes, key=lambda i: (i.get("at") or "", i["type"]))
        flash = request.cookies.get(FLASH_COOKIE)
        response = self._render(request, "case.html", page="case", session=session, case=case, info=info,
                                verdict=verdict, verdict_line=verdict_line(verdict, lang), third=third,
                                similar=similar, timeline=items, closing=closing, mail=mail,
                                flash=unquote(flash) if flash else None,
                                max_upload_mb=self.desk.config.max_upload // 1024**2)
        if flash:
            response.del_cookie(FLASH_COOKIE, path="/")
        return response

    @staticmethod
    def _flash(response: web.StreamResponse, text: str) -> None:
        """Say on the next page what a form did (a reload shows it once)."""
        value = quote(text, safe="")
        while len(value) > 3000:
            text = text[: len(text) * 3 // 4]
            value = quote(text + "…", safe="")
        response.set_cookie(FLASH_COOKIE, value, max_age=300, httponly=True, samesite="Strict", path="/")

    def _cross_site(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin and origin.rstrip("/") not in (self.public_url, f"{request.scheme}://{request.host}"):
            log.warning("refused a cross-site %s from %s (Origin %s)", request.path, request.remote, origin)
            return True
        return False

    # ------------------------------------------------------------- actions
    async def act(self, request: web.Request) -> web.StreamResponse:
        """Log a call or a note, assign, change the priority, archive or
        reopen, from the case page: the chat's own command handlers run
        (handlers.commands), so the record, the audit and the answer are the
        ones chat gives; the answer is shown on the page and posted to the
        case's chat threads."""
        number = request.match_info["number"]
        session = await self._case_session(request, number)
        if isinstance(session, web.Response):
            return session
        lang = self._lang(request)
        t = translator(lang)
        if self._cross_site(request):
            return self._render(request, "signin.html", status=403, message=t("csrf_bad"))
        if request.content_length is None or request.content_length > MAX_ACTION_FORM:
            return self._render(request, "signin.html", status=413, message=t("form_too_large"))
        form = await request.post()
        if not same_secret(str(form.get("csrf") or ""), session.csrf):
            log.warning("refused a board action with a bad CSRF token from %s", request.remote)
            return self._render(request, "signin.html", status=403, message=t("csrf_bad"))
        case = await self.desk.store.call(cases.get, number)
        if case is None:
            raise web.HTTPNotFound()
        action = str(form.get("action") or "")
        if action not in ACTIONS:
            return self._render(request, "signin.html", status=400, message=t("action_unknown"))
        text = " ".join(str(form.get("text") or "").split())
        nxt = " ".join(str(form.get("next") or "").split())
        due = str(form.get("due") or "").strip()
        if due and not _iso_date(due):
            due = ""
        if nxt or due:  # the words chat takes: "<agreed>, next <action> <date>"
            text += ", next " + " ".join(w for w in (nxt, due) if w)
        replies: list = []

        async def send(reply) -> None:
            replies.append(reply)

        event = ChatEvent(platform="web", channel="board", user=session.user, user_name=session.user,
                          text=f"case {action} {number} {text}".strip(), ts=f"web-{uuid.uuid4().hex}", lang=lang,
                          link_board=False, route={"case": number})
        ctx = Ctx(event, lang, send, self.desk.now(), thread_case=case)
        ctx.send = self.desk._worded(ctx, send)
        # The page's case comes first, so that a number typed in the text
        # cannot move the action to another case.
        rest = f"{number} {text}"
        try:
            if action in ("call", "note"):
                await commands.followup(self.desk, ctx, commands.FOLLOWUP_VERBS[action], action, rest)
            else:
                handler = {"assign": commands.assign, "priority": commands.priority, "archive": commands.archive,
                           "reopen": commands.reopen, "email_send": commands.email_send}[action]
                await handler(self.desk, ctx, rest)
        except CrashdeskError as exc:
            log.warning("a board action on %s failed: %s", number, exc)
            replies.append(self.desk.error(t("action_failed")))
        said = next((_plain(r.doc) for r in replies if r.kind in ("info", "error", "summary")), "")
        # Told in chat as well, where the case is discussed.
        if self.relay is not None:
            for reply in replies:
                if reply.kind in ("info", "summary"):
                    echo = Doc()
                    echo.para(t("echo_from_board", who=session.user))
                    echo.extend(reply.doc)
                    reply.doc, reply.case_number = echo, number
                if reply.kind in ("info", "summary", "card"):
                    reply.case_number = number
                    await self.relay(reply)
        if "application/json" in request.headers.get("Accept", ""):
            return web.json_response({"ok": True, "message": said})
        response = web.HTTPSeeOther(f"/case/{number}")
        self._flash(response, said)
        raise response

    async def vendors_page(self, request: web.Request) -> web.Response:
        session = await self._whole_board(request)
        if isinstance(session, web.Response):
            return session
        stats = await self.desk.store.call(board_store.vendor_stats)
        months = await self.desk.store.call(board_store.vendor_months)
        # The intro counts what the table counts: the files of these cases.
        dumps = sum(v["dumps"] for v in stats)
        return self._render(request, "vendors.html", page="vendors", session=session, vendors=stats,
                            chart=vendor_months(months), dumps=dumps)

    async def buckets_page(self, request: web.Request) -> web.Response:
        """The crash buckets across every case, the ones seen most first,
        with how they grew month by month."""
        session = await self._whole_board(request)
        if isinstance(session, web.Response):
            return session
        found = await self.desk.store.call(memory.buckets, 200)
        months = sorted({m for b in found for m in b.by_month})[-12:]
        return self._render(request, "buckets.html", page="buckets", session=session, buckets=found, months=months)

    # -------------------------------------------------------------- upload
    async def upload(self, request: web.Request) -> web.Response:
        session = await self._case_session(request, request.match_info["number"])
        if isinstance(session, web.Response):
            return session
        t = translator(self._lang(request))
        wants_json = "application/json" in request.headers.get("Accept", "")
        number = request.match_info["number"]

        def refuse(message: str, status: int) -> web.Response:
            """JSON for the page's script; without JavaScript, a page."""
            if wants_json:
                return web.json_response({"ok": False, "message": message}, status=status)
            if status in (400, 413):  # the person can fix it on the case page
                back = web.HTTPSeeOther(f"/case/{number}")
                self._flash(back, message)
                raise back
            return self._render(request, "signin.html", status=status, message=message, case_link=f"/case/{number}")

        if self._cross_site(request):
            return refuse(t("csrf_bad"), 403)
        case = await self.desk.store.call(cases.get, number)
        if case is None:
            raise web.HTTPNotFound()
        header_token = request.headers.get("X-CSRF-Token")
        if header_token is not None and not same_secret(header_token, session.csrf):
            # Refused before a byte of the body is read.
            log.warning("refused an upload with a bad CSRF token from %s", request.remote)
            return refuse(t("csrf_bad"), 403)
        if not request.content_type.startswith("multipart/"):
            return refuse(t("upload_none"), 400)
        files: list[Attachment] = []
        replies: list[Reply] = []
        verdict = None
        try:
            try:
                files = await self._read_form(request, session.csrf, checked=header_token is not None)
            except _FormRefused as refused:
                log.warning("refused an upload from %s: %s", request.remote, refused.key)
                return refuse(t(refused.key, n=MAX_FORM_FILES), 403 if refused.key == "csrf_bad" else 413)
            if not files:
                return refuse(t("upload_none"), 400)

            async def send(reply: Reply) -> None:
                replies.append(reply)

            event = ChatEvent(platform="web", channel="board", user=session.user, user_name=session.user,
                              text=number, ts=f"web-{uuid.uuid4().hex}", files=files, lang=self._lang(request),
                              link_board=False, route={"case": number})
            # The files are stored and filed here; the analysis is the
            # same durable job every door submits, run by whichever
            # instance is free.  The request waits a while for it, and
            # otherwise answers that the verdict will come (a closed page
            # loses nothing).
            queued = await self.desk.handle(event, send)
            states = [await self.desk.queue.wait(job_id, self.wait_for) for job_id in queued] \
                if self.desk.queue is not None else []
        finally:
            for f in files:
                if f.id:
                    Path(f.id).unlink(missing_ok=True)
        verdict = next((r for r in replies if r.kind == "verdict"), None)
        pending = any(s and s["status"] not in ("done", "failed") for s in states)
        lang = self._lang(request)
        fresh = await self.desk.store.call(cases.get, number)
        case_verdict = fresh.verdict_in(lang) or {}
        line = verdict_line(case_verdict, lang) or ""
        analysed = verdict is not None or (queued and not pending and all(s and s["status"] == "done" for s in states)
                                           and bool(line))
        # The case's verdict is about every file it has: what this upload
        # brought is judged by its own files, so that a file nobody could
        # read is not answered with the verdict of the dumps before it.
        names = {f.name for f in files}
        unread = [e for e in case_verdict.get("errors") or [] if isinstance(e, dict)
                  and str(e.get("source") or "").split("/", 1)[0] in names]
        unread_names = {str(e.get("source") or "").split("/", 1)[0] for e in unread}
        problems = [r for r in replies if r.kind in ("error", "info")]
        said = " ".join(b.text for r in problems for b in r.doc.blocks if b.text)
        notes = [f"{e.get('source')}: {e.get('message')}" for e in unread]
        if queued and not pending:
            # A file no reader could read is taken off the case by the job.
            on_case = await self.desk.store.call(board_store.case_file_names, case.id)
            refused = sorted(names - on_case - unread_names)
            if refused:
                notes.append(t("upload_refused", names=", ".join(refused)))
                unread_names |= set(refused)
        if analysed and notes and unread_names >= names:
            message, status = "; ".join(notes), 422
        elif analysed:
            message, status = t("upload_done", line=line), 200
            if notes:
                message += " · " + "; ".join(notes)
        elif pending:
            message, status = t("upload_queued"), 202
        else:
            message, status = said or t("upload_failed"), 422
        if status == 422 and not any(n in message for n in names):
            message = f"{', '.join(sorted(names))}: {message}"
        await self.desk.store.call(note, at=self.desk.iso(self.desk.now()), who=session.user,
                                   platform=session.platform, case_id=case.id, action="board_upload",
                                   detail={"session": session.id, "files": [[f.name, f.size] for f in files],
                                           "status": status, "remote": request.remote})
        if wants_json:
            response = web.json_response({"ok": status < 300, "message": message}, status=status)
            if status == 200:  # the page reloads to show the verdict, and says this once
                self._flash(response, message)
            return response
        # Without JavaScript: back to the case page, which says what happened.
        see_other = web.HTTPSeeOther(f"/case/{number}")
        self._flash(see_other, message)
        raise see_other

    async def _read_form(self, request: web.Request, csrf: str, checked: bool) -> list[Attachment]:
        """Stream the multipart body to temp files, each within the upload cap.
        The form's token comes before its files (the page puts it first); a
        file part before a valid token is refused before anything is written.
        Whatever was written is removed if the request fails mid-way."""
        files: list[Attachment] = []
        limit = self.desk.config.max_upload
        try:
            reader = await request.multipart()
            async for part in reader:
                if part.name == "csrf":
                    if not same_secret((await part.read_chunk(256)).decode("utf-8", "replace"), csrf):
                        raise _FormRefused("csrf_bad")
                    checked = True
                    continue
                if part.name != "files" or not part.filename:
                    continue
                if not checked:
                    raise _FormRefused("csrf_bad")
                if len(files) == MAX_FORM_FILES:
                    raise _FormRefused("upload_too_many")
                name = Path(part.filename).name or "upload"
                try:
                    path = await spool(_part_chunks(part), limit, "crashdesk-web-")
                except TooLarge:
                    # The desk says it is too large; the rest of the part is skipped unread.
                    files.append(Attachment(name=name, fetch=_nothing, size=limit + 1))
                    continue

                async def fetch(path=path) -> str:
                    return str(path)  # the desk copies it; the board removes it after

                files.append(Attachment(name=name, fetch=fetch, size=Path(path).stat().st_size, id=str(path)))
        except BaseException:
            for f in files:
                if f.id:
                    Path(f.id).unlink(missing_ok=True)
            raise
        return files
