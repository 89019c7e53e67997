"""`crashdesk serve` as an operator starts it: a real process, settings from
the environment, Slack's Web API faked on 127.0.0.1."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from deskkit import serve
from fakeslack import SECRET, TOKEN, FakeSlack, event_body, message_event, sign

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_missing_settings_are_named_in_one_line(tmp_path):
    env = {"PATH": os.environ["PATH"], "SLACK_BOT_TOKEN": "xoxb-1", "CRASHDESK_DB": str(tmp_path / "x.db")}
    r = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == "crashdesk: missing settings: SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)"


async def test_serve_answers_a_signed_slack_event(tmp_path):
    fake = FakeSlack()
    server, fake.base = await serve(fake.app)
    port = free_port()
    env = {"PATH": os.environ["PATH"], "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.base + "/api/", "PORT": str(port), "CRASHDESK_DB": str(tmp_path / "serve.db"),
           "CRASHDESK_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail("crashdesk serve did not become healthy")
            body = event_body(message_event("[案例号: CAS-04716-C3F2K9] % |P3|ICBC|总行电脑蓝屏 % 初次响应",
                                            ts="1630900000.000100"), "Ev100")
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body.encode(),
                                 headers={"Content-Type": "application/json", **sign(body)}) as r:
                assert r.status == 200
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body.encode(),
                                 headers={"Content-Type": "application/json", "X-Slack-Signature": "v0=bad",
                                          "X-Slack-Request-Timestamp": str(int(time.time()))}) as r:
                assert r.status == 401
            for _ in range(100):
                if any("CAS-04716-C3F2K9" in p.get("text", "") for p in fake.posts()):
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("no reply was posted")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        await server.close()
    assert "Traceback" not in out
    assert "refused a Slack request (401)" in out
