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
    assert "crashdesk serve: Slack over HTTP + board, listening on 0.0.0.0:" in out


def _serve(tmp_path, **env):
    base = {"PATH": os.environ["PATH"], "CRASHDESK_DB": str(tmp_path / "x.db"),
            "CRASHDESK_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        r = _serve(tmp_path, PORT=str(port), CRASHDESK_HOST="127.0.0.1")
    assert r.returncode == 1
    assert r.stderr == f"crashdesk: port {port} is in use (127.0.0.1:{port}); stop what holds it or set PORT\n"
    assert "Traceback" not in r.stdout + r.stderr


def test_a_host_that_is_not_this_machine_is_one_line(tmp_path):
    r = _serve(tmp_path, PORT=str(free_port()), CRASHDESK_HOST="192.0.2.1")  # TEST-NET-1: nobody's
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().endswith("CRASHDESK_HOST is not an address of this machine")


@pytest.mark.parametrize("env, expected", [
    ({"WECOM_CORP_ID": "ww1", "WECOM_SECRET": "s", "WECOM_AGENT_ID": "1", "WECOM_TOKEN": "t",
      "WECOM_ENCODING_AES_KEY": "a" * 43, "WECOM_BOT_TOKEN": "bot"},
     "crashdesk: missing settings: WECOM_BOT_ENCODING_AES_KEY\n"),
    ({"WECOM_BOT_TOKEN": "bot", "WECOM_BOT_ENCODING_AES_KEY": "a" * 43},
     "crashdesk: missing settings: WECOM_CORP_ID, WECOM_SECRET, WECOM_AGENT_ID, WECOM_TOKEN, "
     "WECOM_ENCODING_AES_KEY\n"),
    ({"WECOM_CORP_ID": "ww1", "WECOM_SECRET": "s", "WECOM_AGENT_ID": "1", "WECOM_TOKEN": "t",
      "WECOM_ENCODING_AES_KEY": "tooshort"},
     "crashdesk: WECOM_ENCODING_AES_KEY must be the 43 characters WeCom shows as EncodingAESKey (this one has 8)\n"),
])
def test_incomplete_platform_settings_refuse_to_start(tmp_path, env, expected):
    r = _serve(tmp_path, PORT=str(free_port()), **env)
    assert r.returncode == 2
    assert r.stderr == expected


def _bound(port: int) -> set[str]:
    """Local addresses listening on ``port`` (from /proc/net/tcp, IPv4)."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, _, hexport = local.partition(":")
        if int(hexport, 16) == port and state == "0A":
            out.add(".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return out


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
async def test_a_loopback_only_board_says_what_runs_and_the_time_zone(tmp_path):
    from servekit import Instance

    inst = Instance({"CRASHDESK_HOST": "127.0.0.1", "CRASHDESK_DB": str(tmp_path / "b.db"),
                     "CRASHDESK_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}, tmp_path / "serve.log")
    inst.start()
    try:
        async with aiohttp.ClientSession() as http:
            await inst.healthy(http)
            assert _bound(inst.port) == {"127.0.0.1"}
    finally:
        inst.stop()
    out = (tmp_path / "serve.log").read_text()
    assert (f"crashdesk serve: board only, listening on 127.0.0.1:{inst.port}; time zone UTC (the default; set TZ)"
            in out)


async def test_the_log_names_wecom_app_and_ai_bot(tmp_path):
    from deskkit import app_client

    key = "a" * 43
    app, client = await app_client(tmp_path, {
        "WECOM_CORP_ID": "ww1", "WECOM_SECRET": "s", "WECOM_AGENT_ID": "1", "WECOM_TOKEN": "t",
        "WECOM_ENCODING_AES_KEY": key, "WECOM_BOT_TOKEN": "bot", "WECOM_BOT_ENCODING_AES_KEY": key})
    try:
        assert app.describe() == "WeCom app + AI bot + board"
    finally:
        await client.close()
