"""Encryption at rest for stored secrets (Stripe keys), keyed from SECRET_KEY."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class DecryptionError(Exception):
    """The stored value was encrypted with another SECRET_KEY or was tampered with."""


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    # Deriving the key (HKDF) costs more than decrypting; a process uses one SECRET_KEY.
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"mioapp stored secrets v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plaintext: str, *, secret_key: str) -> str:
    """Callers pass the key from their own Settings, so a test or tool never uses another."""
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str, *, secret_key: str) -> str:
    try:
        return _fernet(secret_key).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored secret cannot be decrypted with this SECRET_KEY") from exc
