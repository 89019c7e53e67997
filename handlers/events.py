"""What every platform adapter hands the desk, and what it gets back.

A ChatEvent is one message as a person sent it: platform, channel, thread,
user, text, attached files.  A Reply is one message to post: a Doc (worded
once, rendered per platform), the thread to post it in, and the buttons that
go with it.  Adapters translate their wire format to and from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable

from analysis.render.doc import MAX_REPLY_BYTES, Doc, fit

class TempFile(str):
    """A path to a download the adapter spooled to disk: the desk removes it
    once the upload is stored."""


# What fetching an attachment yields: the bytes, or a path to a local file
# (the console, the web form, a spooled download) that the desk copies into
# its data folder.
FetchResult = bytes | str


@dataclass(slots=True)
class Attachment:
    name: str
    fetch: Callable[[], Awaitable[FetchResult]]
    size: int | None = None
    id: str | None = None  # the platform's file id: one file is handled once


@dataclass(slots=True)
class ChatEvent:
    platform: str  # slack | wecom | console | web
    channel: str
    user: str
    text: str
    ts: str  # the message's own id, unique within the channel
    thread: str | None = None  # root message of the thread it was posted in
    user_name: str | None = None
    files: list[Attachment] = field(default_factory=list)
    is_bot: bool = False
    event_id: str | None = None  # delivery id, for dedupe of retried deliveries
    lang: str | None = None  # the channel's language when the platform knows it
    via_command: bool = False  # came through /case rather than a message
    # The platform keeps messages in threads (Slack): a case lives in a
    # thread.  Without threads (WeCom, the console, the board, a slash
    # command), a case is whatever this person last talked about.
    threaded: bool = False
    # One to one with the bot (the terminal, a direct message): every
    # message gets an answer.  In a channel only what is addressed to the
    # bot (a mention, a slash command) does.
    direct: bool = False
    # Cards carry a link onto the case board, except where the person
    # already is on the board.
    link_board: bool = True
    # Where an answer that comes later (the analysis job's verdict) goes:
    # what the adapter needs to post it (channel, thread, person...), kept
    # with the job as it is.
    route: dict | None = None


@dataclass(slots=True)
class Action:
    """A button: ``id`` says what it does, ``value`` what it applies to."""

    id: str  # call | archive | open | assign_me | reopen | show | board | email_send
    label: str
    value: str


@dataclass(slots=True)
class Reply:
    doc: Doc
    kind: str = "info"  # card | verdict | help | error | info | digest | summary | ack
    thread: str | None = None  # post under this root; None: where the event was
    case_number: str | None = None
    actions: list[Action] = field(default_factory=list)
    ephemeral: bool = False  # only the asking user should see it (Slack)
    # The case this reply is about: an adapter that posts it at the top of a
    # channel (a slash command's answer) ties the new thread to the case.
    binds_case: str | None = None
    # The case's state changed (archived, reopened): adapters refresh what
    # they show of it (Slack: the card at the top of the thread).
    state_changed: bool = False
    lang: str | None = None  # the language it is worded in (the desk sets it)

    def bounded_doc(self, limit: int = MAX_REPLY_BYTES) -> Doc:
        """What every platform posts: the doc cut to one reply's size
        (analysis.render.doc.MAX_REPLY_BYTES), saying that the case board
        has the rest.  The desk adds the board link to a reply that needs it."""
        from handlers.texts import t

        return fit(self.doc, t(self.lang or "en", "reply_cut"), limit)


Send = Callable[[Reply], Awaitable[None]]
