"""Encryption at rest for stored secrets (Stripe keys), keyed from SECRET_KEY."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mioapp.settings import get_settings


class DecryptionError(Exception):
    """The stored value was encrypted with another SECRET_KEY or was tampered with."""


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"mioapp stored secrets v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plaintext: str, *, secret_key: str | None = None) -> str:
    return (
        _fernet(secret_key or get_settings().secret_key_value())
        .encrypt(plaintext.encode())
        .decode()
    )


def decrypt(ciphertext: str, *, secret_key: str | None = None) -> str:
    try:
        fernet = _fernet(secret_key or get_settings().secret_key_value())
        return fernet.decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored secret cannot be decrypted with this SECRET_KEY") from exc
