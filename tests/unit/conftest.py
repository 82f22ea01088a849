"""Fixtures for the unit tests of sign-in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from mioapp import auth

_CHEAP = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1),))


@pytest.fixture
def cheap_hash(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Argon2 hashes that take a millisecond to check, for tests that sign in dozens of times.

    Argon2 reads its cost from the stored hash, so the code under test runs unchanged; the
    stand-in for unknown emails is swapped for one just as cheap, as production keeps both
    at the same cost (see test_auth's test of it).
    """
    monkeypatch.setattr(auth, "_DUMMY_HASH", _CHEAP.hash("unknown email"))
    return _CHEAP.hash
