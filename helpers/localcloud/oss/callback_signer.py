"""The local cloud's upload-callback key: RSA signatures over MD5 as real OSS sends them, the public
key URL it publishes, and the string the signature covers (OSS "Callback" API page, reference §7).

This module imports nothing from Starlette.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# Served by the OSS app on its own port; the pub-key URL is `<oss_base_url>` + LOCAL_KEY_PATH.
from helpers.protocol.callback_keys import LOCAL_KEY_FILE as PUBLIC_KEY_FILE
from helpers.protocol.callback_keys import LOCAL_KEY_PATH as PUBLIC_KEY_PATH

PRIVATE_KEY_FILE = "callback_private_key.pem"
# Real OSS signs with RSA-1024; app servers accept any size, so the stand-in uses 2048.
KEY_BITS = 2048


class CallbackSigner:
    """The stand-in's callback RSA key: PKCS#1 v1.5 signatures over MD5, as real OSS sends them."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._key = private_key
        self._public_pem = private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> CallbackSigner:
        """Load `<keys_dir>/callback_private_key.pem` (mode 0600), creating it on first use.

        The public PEM is (re)written next to it so an app server can also read it from disk.
        """
        keys_dir.mkdir(parents=True, exist_ok=True)
        priv_path = keys_dir / PRIVATE_KEY_FILE
        if not priv_path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            try:
                # O_EXCL: if another process won the race, use its key instead of ours.
                fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(pem)
        loaded = serialization.load_pem_private_key(priv_path.read_bytes(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{priv_path} does not hold an RSA private key")
        signer = cls(loaded)
        pub_path = keys_dir / PUBLIC_KEY_FILE
        if not pub_path.exists() or pub_path.read_bytes() != signer.public_pem():
            tmp = pub_path.with_name(f".{pub_path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(signer.public_pem())
            os.replace(tmp, pub_path)
        return signer

    def public_pem(self) -> bytes:
        """The public key as `-----BEGIN PUBLIC KEY-----` PEM (the format of callback_pub_key_v1.pem)."""
        return self._public_pem

    def sign(self, message: bytes) -> bytes:
        """RSA PKCS#1 v1.5 signature over MD5(message)."""
        return self._key.sign(message, padding.PKCS1v15(), hashes.MD5())


def pub_key_url(oss_base_url: str) -> str:
    """The URL sent (base64) in `x-oss-pub-key-url`: the OSS port serves the PEM there."""
    return oss_base_url.rstrip("/") + PUBLIC_KEY_PATH


def string_to_sign(raw_path: str, body: bytes) -> bytes:
    """URL-decoded path + raw query with its `?` + "\\n" + body (OSS Callback page, "signature")."""
    path, sep, query = raw_path.partition("?")
    return (unquote(path) + sep + query).encode("utf-8") + b"\n" + body
