"""The ``crashdesk`` command.  Each subcommand imports only what it uses, so
``crashdesk analyze`` starts without loading the chat stack."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager

# Seconds `crashdesk analyze` may run at most.  The analysis itself stops
# reading an input after a minute and the case a little before this limit,
# answering with what it read; the limit is the backstop for a hang.
DEFAULT_TIME_LIMIT = 300.0
TIME_UP = 124  # exit status when the limit stopped the command (as timeout(1))


class TimeUp(BaseException):
    """The hard time limit passed (a BaseException: no ``except Exception``
    in the analysis may swallow it)."""


@contextmanager
def hard_time_limit(seconds: float):
    """Raise TimeUp in this (main) thread once ``seconds`` have passed, even
    inside a long C call that checks for signals (a regex, a blocking open).
    Where there is no SIGALRM (Windows), a timer thread interrupts the main
    thread instead (seen as KeyboardInterrupt, flagged as the limit's)."""
    import threading

    if seconds <= 0:
        yield
        return
    import signal

    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        def ring(signum, frame):
            raise TimeUp

        previous = signal.signal(signal.SIGALRM, ring)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    import _thread

    rang = threading.Event()

    def interrupt():
        rang.set()
        _thread.interrupt_main()

    timer = threading.Timer(seconds, interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    except KeyboardInterrupt:
        if rang.is_set():
            raise TimeUp from None
        raise
    finally:
        timer.cancel()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="crashdesk", description="Windows blue-screen case desk.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    a = sub.add_parser("analyze", help="analyse dumps and WinDbg logs of one case")
    a.add_argument("paths", nargs="+", metavar="PATH", help="WinDbg text, .dmp, or .zip/.gz of them")
    a.add_argument("--json", action="store_true", help="print the verdict as one JSON object")
    a.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the verdict")
    a.add_argument("--markdown", action="store_true", help="chat markdown instead of plain text")
    a.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                   help=f"stop after this long, whatever happens (default {DEFAULT_TIME_LIMIT:.0f}; 0: no limit); "
                        "each input also gets at most a minute, and what was cut is said in the verdict")

    sub.add_parser("serve", help="the bot: Slack, WeCom and the case board over HTTP (settings from the environment)")

    c = sub.add_parser("chat", help="the case desk in this terminal (no chat platform needed)")
    c.add_argument("--db", help="SQLite file (default: $CRASHDESK_DB or crashdesk.db)")
    c.add_argument("--data-dir", help="where uploads are kept (default: $CRASHDESK_DATA_DIR or ./data)")
    c.add_argument("--lang", choices=("en", "zh"), help="language of the replies")
    c.add_argument("--user", help="your name on the case record (default: $USER)")
    return p


def cmd_analyze(args) -> int:
    try:
        with hard_time_limit(args.time_limit):
            return _analyze(args)
    except TimeUp:
        print(f"crashdesk: stopped after {args.time_limit:g} s (--time-limit): the analysis did not finish; "
              "no verdict", file=sys.stderr)
        return TIME_UP


def _analyze(args) -> int:
    from analysis.deadline import INPUT_SECONDS, TimeBudget
    from analysis.pipeline import analyze_paths

    limit = args.time_limit if args.time_limit > 0 else None
    # The cooperative budget ends before the hard limit, so that what was
    # read still makes a verdict.
    budget = TimeBudget(per_input=min(INPUT_SECONDS, limit) if limit else INPUT_SECONDS,
                        total=limit * 0.9 if limit else None)
    outcome = analyze_paths(args.paths, budget)
    from analysis.inputs import said_in

    for source, message in outcome.problems:
        print(f"crashdesk: {source}: {said_in(message, args.lang)}", file=sys.stderr)
    if args.json:
        import json

        from analysis.render.as_json import case_json

        from analysis.render.as_json import errors_json

        print(json.dumps(case_json(outcome.case, args.lang, errors_json(outcome.problems, args.lang)), ensure_ascii=False, indent=2))
    if not outcome.analysed:
        if len(args.paths) > 1 or not outcome.problems:
            print("crashdesk: none of the inputs could be analysed", file=sys.stderr)
        return 1
    if not args.json:
        from analysis.render.doc import to_markdown, to_plain
        from analysis.render.verdict import case_doc

        doc = case_doc(outcome.case, args.lang)
        print(to_markdown(doc) if args.markdown else to_plain(doc), end="")
    return 0


def cmd_chat(args) -> int:
    import asyncio
    import getpass

    from bot.config import Settings
    from bot.console import run
    from handlers.desk import Desk, DeskConfig
    from store import Store, StoreError

    settings = Settings.load()
    store = Store(args.db or settings.db)
    config = DeskConfig(data_dir=args.data_dir or settings.data_dir, lang=args.lang or settings.lang,
                        tz=settings.tz, max_upload=settings.max_upload,
                        digest_priorities=settings.digest_priorities, leads=settings.leads,
                        stale_days=settings.stale_days)
    desk = Desk(store, config)
    from bot.board import Board

    # Links signed here open on the board of `crashdesk serve` on the same database.
    config.board = Board(desk, settings)
    # The mailbox's sending half: `case email send` works here too (the
    # mailbox itself is read by `crashdesk serve`).
    from bot.mail import MailSender
    from handlers import mailout

    problems = MailSender.problems(settings)
    if not problems:
        mailout.register(desk, MailSender(desk, settings))
    elif settings.get("CRASHDESK_SMTP_URL") or settings.get("CRASHDESK_MAIL_FROM"):
        print(f"crashdesk: the archive e-mail cannot be sent from here: {'; '.join(problems)}", file=sys.stderr)
    user = args.user or settings.get("USER") or getpass.getuser()

    async def main_loop() -> int:
        await store.open()
        return await run(desk, user, lang=args.lang)

    try:
        return asyncio.run(main_loop())
    except StoreError as exc:
        print(f"crashdesk: {exc}", file=sys.stderr)
        return 1
    finally:
        desk.close()
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        if args.command == "analyze":
            return cmd_analyze(args)
        if args.command == "chat":
            return cmd_chat(args)
        if args.command == "serve":
            from bot.config import Settings
            from bot.server import serve

            return serve(Settings.load())
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
