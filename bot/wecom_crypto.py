"""WeCom's callback encryption (企业微信 加解密方案).

  signature = SHA-1 of the sorted token, timestamp, nonce and ciphertext
  key       = base64(EncodingAESKey + "="), 32 bytes; IV = its first 16
  cipher    = AES-256-CBC, PKCS#7 padded to 32-byte blocks (not 16!)
  plaintext = 16 random bytes + 4-byte big-endian length + message + receive id
              (the CorpID for a self-built app, "" for an internal AI bot)
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.secret_compare import same_secret

BLOCK = 32


class CryptoError(ValueError):
    """A callback that does not verify or decrypt: refused, never processed."""


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key.strip().rstrip("=") + "=")
    except (ValueError, TypeError):
        raise CryptoError("EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise CryptoError("EncodingAESKey must be 43 characters (32 bytes)")
    return key


def pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def unpad(data: bytes) -> bytes:
    if not data:
        raise CryptoError("empty plaintext")
    n = data[-1]
    if not 1 <= n <= BLOCK or data[-n:] != bytes([n]) * n:
        raise CryptoError("bad padding")
    return data[:-n]


def _cipher(key: bytes) -> Cipher:
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt_bytes(key: bytes, data: bytes) -> bytes:
    e = _cipher(key).encryptor()
    return e.update(pad(data)) + e.finalize()


def decrypt_bytes(key: bytes, data: bytes) -> bytes:
    """Raw AES-256-CBC with WeCom's 32-byte padding (media files of the AI bot)."""
    if len(data) % 16:
        raise CryptoError("ciphertext is not a whole number of blocks")
    d = _cipher(key).decryptor()
    return unpad(d.update(data) + d.finalize())


def decrypt_file(key: bytes, src: str, dst: str, chunk: int = 1024 * 1024) -> int:
    """Stream-decrypt a downloaded AI-bot file (a dump may be GBs): one chunk
    in memory at a time, the padding taken off the last block.  Returns the
    plaintext size."""
    d = _cipher(key).decryptor()
    size = 0
    held = b""  # the last block is kept back until we know it is the last
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while True:
            data = fin.read(chunk)
            if not data:
                break
            out = held + d.update(data)
            held, out = out[-BLOCK:], out[:-BLOCK]
            fout.write(out)
            size += len(out)
        tail = unpad(held + d.finalize())
        fout.write(tail)
        size += len(tail)
    return size


class WeComCrypto:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        self.token = token
        self.key = aes_key(encoding_aes_key)
        self.receive_id = receive_id

    def check(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not msg_signature or not same_secret(msg_signature.lower(), expected):
            raise CryptoError("signature mismatch")

    def decrypt(self, encrypted: str) -> str:
        try:
            raw = base64.b64decode(encrypted, validate=False)
        except (ValueError, TypeError):
            raise CryptoError("ciphertext is not base64") from None
        plain = decrypt_bytes(self.key, raw)
        if len(plain) < 20:
            raise CryptoError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length:
            raise CryptoError("length field past the end")
        if receive_id.decode("utf-8", "replace") != self.receive_id:
            raise CryptoError("message is for another receiver")
        return message.decode("utf-8")

    def encrypt(self, message: str, random16: bytes | None = None) -> str:
        body = message.encode("utf-8")
        plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        return base64.b64encode(encrypt_bytes(self.key, plain)).decode()

    # -- the two callback shapes ------------------------------------------------
    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """GET verification: the decrypted echostr, to be answered verbatim."""
        self.check(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> str:
        self.check(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

