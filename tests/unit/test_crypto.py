"""Stored secrets are encrypted with a key derived from SECRET_KEY."""

from __future__ import annotations

import pytest

from mioapp.crypto import DecryptionError, decrypt, encrypt

PLAINTEXT = "sk_test_51AbCdEfGhIjKlMnOp"


def test_round_trip() -> None:
    ciphertext = encrypt(PLAINTEXT, secret_key="key-one")
    assert decrypt(ciphertext, secret_key="key-one") == PLAINTEXT


def test_ciphertext_does_not_reveal_the_plaintext() -> None:
    ciphertext = encrypt(PLAINTEXT, secret_key="key-one")
    assert PLAINTEXT not in ciphertext
    assert "sk_test" not in ciphertext
    # A fresh IV each time: equal secrets do not look equal at rest.
    assert encrypt(PLAINTEXT, secret_key="key-one") != ciphertext


def test_secrets_stored_by_an_earlier_release_still_decrypt() -> None:
    """Changing the key derivation would lock merchants out of their saved Stripe keys."""
    stored = (
        "gAAAAABrCBIGTe5T_kGuQTBI1Nc4jNKxwVaVwVaHzMK1oKHWY1FszbdR1LKkuRQRlHr80J_fVnRJPIwagyExcd"
        "kEMs1BGNBqs6aBBNWkqb13Dok5kt8AIlw="
    )
    assert decrypt(stored, secret_key="stored-by-an-earlier-release") == PLAINTEXT


def test_another_secret_key_cannot_decrypt() -> None:
    ciphertext = encrypt(PLAINTEXT, secret_key="key-one")
    with pytest.raises(DecryptionError):
        decrypt(ciphertext, secret_key="key-two")


@pytest.mark.parametrize("ciphertext", ["", "not a token", "gAAAAABtampered"])
def test_garbage_or_tampered_ciphertext_raises_decryption_error(ciphertext: str) -> None:
    with pytest.raises(DecryptionError):
        decrypt(ciphertext, secret_key="key-one")


def test_flipped_byte_is_detected() -> None:
    ciphertext = encrypt(PLAINTEXT, secret_key="key-one")
    middle = len(ciphertext) // 2
    flipped = (
        ciphertext[:middle] + ("A" if ciphertext[middle] != "A" else "B") + ciphertext[middle + 1 :]
    )
    with pytest.raises(DecryptionError):
        decrypt(flipped, secret_key="key-one")
