"""Secrets never reach the logs or the stored job errors (issue 16)."""

import logging
import os
import stat

from bot.redact import RedactingFilter, redact


def test_links_tokens_and_secrets_are_redacted():
    line = ('127.0.0.1 "GET /auth?t=eyJ1Ijoicm9vdCJ9.sig HTTP/1.1" 302 '
            "https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=AbC123_x-Y&debug=1 "
            "xoxb-1234567890-abcdEF Bearer sk.live.1 crashdesk_session=s3cr3t; Path=/")
    out = redact(line)
    for secret in ("eyJ1Ijoicm9vdCJ9.sig", "AbC123_x-Y", "1234567890-abcdEF", "sk.live.1", "s3cr3t"):
        assert secret not in out
    assert "/auth?t=[redacted]" in out and "access_token=[redacted]&debug=1" in out
    assert redact("nothing secret here") == "nothing secret here"


def test_the_log_filter_rewrites_formatted_records(caplog):
    logger = logging.getLogger("crashdesk.test.redact")
    handler = logging.Handler()
    seen = []
    handler.emit = lambda record: seen.append(record.getMessage())
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("could not deliver: %s", "POST /cgi-bin/x?access_token=LEAK")
    finally:
        logger.removeHandler(handler)
    assert seen == ["could not deliver: POST /cgi-bin/x?access_token=[redacted]"]


def test_a_new_database_file_is_private(tmp_path):
    from store.db import connect

    db = connect(tmp_path / "desk.db")
    db.close()
    mode = stat.S_IMODE(os.stat(tmp_path / "desk.db").st_mode)
    assert mode & (stat.S_IRWXG | stat.S_IRWXO) == 0, oct(mode)


async def test_a_failed_jobs_stored_error_holds_no_token(tmp_path):
    from bot.jobs import JobQueue
    from store import Store

    store = Store(tmp_path / "j.db")
    await store.open()
    queue = JobQueue(store, max_attempts=1, poll=0.01)

    async def failing(payload):
        raise RuntimeError("POST https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=LEAKED failed")

    queue.register("t", failing)
    await queue.start()
    try:
        await queue.submit("t", {}, dedupe="one")
        await queue.drain()
    finally:
        await queue.stop()
    rows = await store.call(lambda db: list(db.query("select status, error from jobs")))
    store.close()
    assert rows[0]["status"] == "failed"
    assert "LEAKED" not in rows[0]["error"] and "access_token=[redacted]" in rows[0]["error"]
