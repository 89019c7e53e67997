"""``crashdesk chat``: the desk in a terminal, on the SQLite file, no chat
platform needed.  Lines from stdin are messages (scriptable when stdin is
a pipe); ``upload PATH... [CASE]`` attaches files.  The conversation
follows the case last talked about, as a thread would."""

from __future__ import annotations

import asyncio
import itertools
import shlex
import sys
from pathlib import Path

from analysis.render.doc import to_plain
from bot.platform import Platform
from handlers.deliver import Thread
from handlers.desk import Desk
from handlers.events import Attachment, ChatEvent, Reply
from handlers.parsing import CASE_NUMBER

PROMPT = "crashdesk> "


def _attachment(path: str) -> Attachment:
    p = Path(path).expanduser()

    async def fetch() -> str:
        if not p.is_file():
            raise FileNotFoundError(f"no such file: {p}")
        return str(p)

    size = p.stat().st_size if p.is_file() else None
    return Attachment(name=p.name, fetch=fetch, size=size, id=str(p.resolve()) if p.exists() else None)


def parse_upload(line: str) -> tuple[list[str], str | None] | None:
    """'upload a.dmp b.txt CAS-04716-C3F2K9' -> (['a.dmp', 'b.txt'], 'CAS-...')."""
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    if not words or words[0].lower() not in ("upload", "上传"):
        return None
    paths, number = [], None
    for w in words[1:]:
        if CASE_NUMBER.fullmatch(w):
            number = w.upper()
        else:
            paths.append(w)
    return paths, number


class Console(Platform):
    """The terminal as a platform: lines in, replies printed; a delivery
    to the case's threads (a verdict reached elsewhere) is printed too."""

    name = "console"

    def __init__(self, desk: Desk, user: str, out=None):
        self.desk = desk
        self.user = user
        self.out = out or sys.stdout
        self.counter = itertools.count(1)
        self.closed = False  # whoever read our output went away (| head)

    async def send(self, route: dict, reply: Reply, key: str | None = None) -> None:
        await self.show(reply)

    async def show(self, reply: Reply) -> None:
        if self.closed:
            return
        text = to_plain(reply.bounded_doc()).rstrip()
        buttons = [a for a in reply.actions if a.id != "board"]
        if buttons:
            text += "\n[" + "] [".join(a.label for a in buttons) + "]"
        for a in reply.actions:
            if a.id == "board" and a.value not in text:  # `case board` says its link in its text already
                text += f"\n{a.label}: {a.value}"
        try:
            print(text + "\n", file=self.out, flush=True)
        except BrokenPipeError:
            self.closed = True

    async def to_threads(self, reply: Reply, threads: list[Thread]) -> int:
        await self.show(reply)
        return 1 if threads else 0

    async def line(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        upload = parse_upload(line)
        files = []
        text = line
        if upload is not None:
            paths, number = upload
            if not paths:
                await self.show(self.desk.info("usage: upload PATH... [CASE]  /  用法：upload 文件... [案例号]"))
                return
            missing = [p for p in paths if not Path(p).expanduser().is_file()]
            for p in missing:
                await self.show(self.desk.info(f"{p}: no such file / 文件不存在"))
            files = [_attachment(p) for p in paths if p not in missing]
            if not files:
                return
            text = number or ""
        event = ChatEvent(platform="console", channel="console", user=self.user, user_name=self.user,
                          text=text, ts=f"console-{next(self.counter)}-{self.desk.now().timestamp()}", files=files,
                          direct=True)
        await self.desk.handle(event, self.show)


async def run(desk: Desk, user: str, stream=None, lang: str | None = None) -> int:
    """``lang``: the language asked for on the command line (--lang), which
    wins over the one stored for the terminal (and is stored in its place)."""
    stream = stream or sys.stdin
    if lang:
        from handlers.commands import set_lang

        await set_lang(desk, "console", "console", lang)
    console = Console(desk, user)
    from handlers import deliver

    deliver.register(desk, console)
    interactive = stream.isatty()
    loop = asyncio.get_running_loop()
    if interactive:
        print("crashdesk chat — type `case help`; Ctrl-D to quit.", flush=True)
    while True:
        if interactive:
            print(PROMPT, end="", flush=True)
        line = await loop.run_in_executor(None, stream.readline)
        if not line:
            break
        if line.strip() in ("exit", "quit", "退出"):
            break
        await console.line(line)
        if console.closed:
            break
    if console.closed:
        # Keep the interpreter from complaining about the closed stdout at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
