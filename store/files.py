"""Where uploaded files are kept: a local folder (the default), or
S3-compatible object storage when CRASHDESK_STORAGE is ``s3://bucket/prefix``
(reached through the standard AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION).  Either way a file is named by
its content (sha256), the same dump uploaded twice is kept once, and a
half-written file never takes the final name.

Uploads stream: a local file through a temp file and a rename; an object
through a multipart upload of 8 MiB parts under a temporary key, copied to
its content name once the hash is known.  Reading a stored object for
analysis goes through ``RangedObject``: a buffer-like view that fetches
only the blocks asked for, with ranged GETs, and keeps the recent ones."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

from store.errors import Transient

S3_SCHEME = "s3://"
PART = 8 * 1024 * 1024  # S3 wants parts of 5 MiB at least (but the last)


@dataclass(slots=True)
class StoredFile:
    sha256: str
    path: str  # a local path, or s3://bucket/key
    size: int


class StorageUnavailable(Transient):
    """Object storage did not answer or refused: tried again later."""


def is_s3(location: str | None) -> bool:
    return bool(location) and str(location).startswith(S3_SCHEME)


def files_for(location: str) -> "LocalFiles | S3Files":
    return S3Files(location) if is_s3(location) else LocalFiles(location)


class LocalFiles:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def sweep(self, alive) -> int:
        """Half-written uploads of a process that died (``alive(pid)`` says
        which are still running); the number removed.  A shared folder is
        swept only of this machine's processes' files by each machine."""
        removed = 0
        try:
            names = [n for n in os.listdir(self.folder) if n.startswith(".upload-")]
        except OSError:
            return 0
        for name in names:
            pid = name.split("-")[1]
            if pid.isdigit() and not alive(int(pid)):
                try:
                    os.unlink(self.folder / name)
                    removed += 1
                except OSError:
                    pass
        return removed

    def save(self, name: str, chunks: Iterable[bytes]) -> StoredFile:
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(prefix=f".upload-{os.getpid()}-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    fh.write(chunk)
            sha = digest.hexdigest()
            # Named by content alone: MEMORY.DMP and memory.dmp are one file.
            final = folder / sha[:2] / sha
            final.parent.mkdir(exist_ok=True)
            if final.exists():
                os.unlink(tmp)
            else:
                os.replace(tmp, final)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return StoredFile(sha, str(final), size)

    def remove(self, path: str) -> None:
        """A stored file nobody refers to any more (an upload refused as
        unreadable); gone already is fine."""
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


# ---------------------------------------------------------------------- S3

_clients: dict[int, object] = {}
_clients_lock = threading.Lock()


def s3_client():
    """One boto3 client per process, configured from the standard AWS_*
    variables (boto3 reads AWS_ENDPOINT_URL itself); path-style addressing,
    which every S3-compatible server understands."""
    pid = os.getpid()
    with _clients_lock:
        if pid not in _clients:
            import boto3
            from botocore.config import Config

            _clients[pid] = boto3.session.Session().client(
                "s3", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                                    connect_timeout=10, read_timeout=60))
        return _clients[pid]


def split(location: str) -> tuple[str, str]:
    """s3://bucket/some/key -> (bucket, some/key)."""
    parts = urlsplit(location)
    return parts.netloc, parts.path.lstrip("/")


def _unavailable(exc: BaseException) -> StorageUnavailable:
    return StorageUnavailable(f"object storage did not answer: {exc}")


def _storage_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


class S3Files:
    def __init__(self, location: str):
        self.bucket, prefix = split(location)
        if not self.bucket:
            raise ValueError(f"CRASHDESK_STORAGE must be s3://bucket/prefix, not {location!r}")
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._ready = False

    @property
    def client(self):
        return s3_client()

    def ensure_bucket(self) -> None:
        """The bucket exists (created when missing and allowed)."""
        if self._ready:
            return
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise _unavailable(exc) from None
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except ClientError as again:
                if again.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise _unavailable(again) from None
        except _storage_errors() as exc:
            raise _unavailable(exc) from None
        self._ready = True

    def save(self, name: str, chunks: Iterable[bytes]) -> StoredFile:
        try:
            return self._save(chunks)
        except _storage_errors() as exc:
            raise _unavailable(exc) from None

    def _save(self, chunks: Iterable[bytes]) -> StoredFile:
        self.ensure_bucket()
        client = self.client
        temp_key = f"{self.prefix}incoming/{uuid.uuid4().hex}"
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict] = []
        try:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                while len(buffer) >= PART:
                    if upload_id is None:
                        upload_id = client.create_multipart_upload(Bucket=self.bucket, Key=temp_key)["UploadId"]
                    piece = bytes(buffer[:PART])
                    del buffer[:PART]
                    etag = client.upload_part(Bucket=self.bucket, Key=temp_key, UploadId=upload_id,
                                              PartNumber=len(parts) + 1, Body=piece)["ETag"]
                    parts.append({"ETag": etag, "PartNumber": len(parts) + 1})
            sha = digest.hexdigest()
            key = f"{self.prefix}{sha[:2]}/{sha}"
            if self._exists(key):
                if upload_id is not None:
                    client.abort_multipart_upload(Bucket=self.bucket, Key=temp_key, UploadId=upload_id)
                    upload_id = None
                return StoredFile(sha, f"{S3_SCHEME}{self.bucket}/{key}", size)
            if upload_id is None:
                # Small enough for one request, under its final name at once.
                client.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer))
                return StoredFile(sha, f"{S3_SCHEME}{self.bucket}/{key}", size)
            if buffer:
                etag = client.upload_part(Bucket=self.bucket, Key=temp_key, UploadId=upload_id,
                                          PartNumber=len(parts) + 1, Body=bytes(buffer))["ETag"]
                parts.append({"ETag": etag, "PartNumber": len(parts) + 1})
            client.complete_multipart_upload(Bucket=self.bucket, Key=temp_key, UploadId=upload_id,
                                             MultipartUpload={"Parts": parts})
            upload_id = None
            # Server-side copy (multipart for a large object): no byte comes back here.
            client.copy({"Bucket": self.bucket, "Key": temp_key}, self.bucket, key)
            client.delete_object(Bucket=self.bucket, Key=temp_key)
            return StoredFile(sha, f"{S3_SCHEME}{self.bucket}/{key}", size)
        except BaseException:
            if upload_id is not None:
                try:
                    client.abort_multipart_upload(Bucket=self.bucket, Key=temp_key, UploadId=upload_id)
                except Exception:
                    pass
            raise

    def remove(self, path: str) -> None:
        bucket, key = split(path)
        try:
            self.client.delete_object(Bucket=bucket, Key=key)
        except _storage_errors() as exc:
            raise _unavailable(exc) from None

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise


class RangedObject:
    """A stored object as the dump readers take their data: ``len()``,
    ``obj[i]`` and ``obj[a:b]`` (bytes).  Reads whole blocks with ranged
    GETs (a run of missing blocks in one request) and keeps the last
    ``cache_blocks`` of them, so walking page tables costs the pages walked,
    not the object.  ``bytes_read`` and ``requests`` say what it cost."""

    def __init__(self, location: str, *, block: int = 256 * 1024, cache_blocks: int = 256, client=None):
        self.location = location
        self.bucket, self.key = split(location)
        self.client = client or s3_client()
        self.block = block
        self.cache_blocks = cache_blocks
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self.bytes_read = 0
        self.requests = 0
        try:
            self.size = int(self.client.head_object(Bucket=self.bucket, Key=self.key)["ContentLength"])
        except _storage_errors() as exc:
            raise _unavailable(exc) from None

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(self.size)
            if step != 1:
                return self._read(start, max(0, stop - start))[::step]
            return self._read(start, max(0, stop - start))
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError("object index out of range")
        return self._read(index, 1)[0]

    def _fetch(self, first: int, last: int) -> None:
        start, end = first * self.block, min(self.size, (last + 1) * self.block) - 1
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={start}-{end}")["Body"].read()
        except _storage_errors() as exc:
            raise _unavailable(exc) from None
        self.requests += 1
        self.bytes_read += len(body)
        for n in range(first, last + 1):
            self._cache[n] = body[(n - first) * self.block:(n - first + 1) * self.block]
            self._cache.move_to_end(n)
        while len(self._cache) > self.cache_blocks:
            self._cache.popitem(last=False)

    def _read(self, offset: int, length: int) -> bytes:
        if length <= 0 or offset >= self.size:
            return b""
        length = min(length, self.size - offset)
        first, last = offset // self.block, (offset + length - 1) // self.block
        missing = [n for n in range(first, last + 1) if n not in self._cache]
        run_start = None
        for i, n in enumerate(missing):
            if run_start is None:
                run_start = n
            if i + 1 == len(missing) or missing[i + 1] != n + 1:
                self._fetch(run_start, n)
                run_start = None
        out = bytearray()
        for n in range(first, last + 1):
            data = self._cache.get(n)
            if data is None:  # pushed out by a read larger than the cache
                self._fetch(n, n)
                data = self._cache[n]
            else:
                self._cache.move_to_end(n)
            out += data
        skip = offset - first * self.block
        return bytes(out[skip:skip + length])

    def download(self, fh) -> None:
        """The whole object into an open file, in blocks (for inputs that are
        read from start to end anyway: text, archives)."""
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key)["Body"]
            for chunk in iter(lambda: body.read(1024 * 1024), b""):
                self.bytes_read += len(chunk)
                fh.write(chunk)
            self.requests += 1
        except _storage_errors() as exc:
            raise _unavailable(exc) from None
