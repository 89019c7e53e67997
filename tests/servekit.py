"""`crashdesk serve` as real processes: started with settings in the
environment, waited for on /healthz, killed as a machine loses power (the
whole process group, workers included, with SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from engines import free_port

ROOT = Path(__file__).resolve().parent.parent


class Instance:
    def __init__(self, env: dict[str, str], log: Path, port: int | None = None):
        self.port = port or free_port()
        self.env = {"PATH": os.environ["PATH"], "PORT": str(self.port), **env}
        self.log = log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Instance":
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=self.env.get("CWD", ROOT),
                                     env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    async def healthy(self, http: aiohttp.ClientSession, tries: int = 600) -> None:
        for _ in range(tries):
            if self.proc.poll() is not None:
                raise RuntimeError(f"crashdesk serve exited: {self.log.read_text(errors='replace')[-3000:]}")
            try:
                async with http.get(self.url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError("crashdesk serve did not become healthy")

    def kill(self) -> None:
        """SIGKILL to the server and its analysis workers at once."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # workers it may have left
            except ProcessLookupError:
                pass
