"""Merchant sign-in: argon2 hashes, one refusal for all, throttles per client and email."""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from time import time as real_time

import limits.storage.memory
import pytest
import redis
from limits.strategies import RateLimiter
from sqlmodel import Session, select

from mioapp import auth
from mioapp.models import AuditEntry, LoginSession, MerchantUser, utcnow

EMAIL = "maya@lagoon.test"
PASSWORD = "correct horse battery"
WRONG = "incorrect horse battery"
CLIENT_A = "203.0.113.10"
CLIENT_B = "198.51.100.20"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def password_hash(cheap_hash: Callable[[str], str]) -> str:
    return cheap_hash(PASSWORD)


@pytest.fixture
def user(session: Session, password_hash: str) -> MerchantUser:
    merchant = MerchantUser(email=EMAIL, name="Maya Okafor", password_hash=password_hash)
    session.add(merchant)
    session.commit()
    return merchant


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    """The throttle on each storage the app can run with: in memory (one worker) and Redis."""
    if request.param == "memory":
        yield auth.build_limiter(None)
        return
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL} (TEST_REDIS_URL); CI and dev machines have one")
    prefix = f"mio-test-{uuid.uuid4().hex}"
    yield auth.build_limiter(REDIS_URL, key_prefix=prefix)
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"{prefix}*"):
        connection.delete(key)


def sign_in(
    session: Session,
    limiter: RateLimiter,
    *,
    email: str = EMAIL,
    password: str = PASSWORD,
    client: str = CLIENT_A,
) -> auth.LoginResult:
    return auth.sign_in(
        session, email=email, password=password, session_days=7, limiter=limiter, client=client
    )


def _open_session(session: Session, user: MerchantUser, *, expires_in: timedelta) -> str:
    """A login session written directly, without paying for a password check."""
    token = secrets.token_urlsafe(16)
    session.add(
        LoginSession(
            user_id=user.id, token_hash=auth.hash_token(token), expires_at=utcnow() + expires_in
        )
    )
    session.commit()
    return token


def _audit_actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all())


def test_hash_is_argon2id_and_verifies() -> None:
    password_hash = auth.hash_password(PASSWORD)
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash
    assert auth.verify_password(PASSWORD, password_hash)
    assert not auth.verify_password(WRONG, password_hash)


def test_unknown_emails_are_checked_against_a_hash_of_the_same_cost() -> None:
    """Argon2's cost is written in each hash (m=..,t=..,p=..): equal there, equal in time."""
    cost = auth.hash_password(PASSWORD).split("$")[3]
    assert auth._DUMMY_HASH.split("$")[3] == cost


def test_create_user_normalises_email_and_stores_a_hash(session: Session) -> None:
    created = auth.create_user(session, email="  Maya@Lagoon.TEST ", name="Maya", password=PASSWORD)
    session.commit()
    stored = session.exec(select(MerchantUser)).one()
    assert stored.id == created.id
    assert stored.email == EMAIL
    assert stored.password_hash.startswith("$argon2id$")
    assert auth.verify_password(PASSWORD, stored.password_hash)


def test_create_user_rejects_short_passwords(session: Session) -> None:
    with pytest.raises(ValueError, match="at least 10 characters"):
        auth.create_user(session, email=EMAIL, name="Maya", password="short")
    assert session.exec(select(MerchantUser)).all() == []


def test_sign_in_stores_only_the_sha256_of_the_token(
    session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    result = sign_in(session, limiter, email=" MAYA@lagoon.test")

    assert result.refusal is None
    assert result.user is not None and result.user.id == user.id
    assert result.token
    login = session.exec(select(LoginSession)).one()
    assert login.user_id == user.id
    assert login.token_hash == hashlib.sha256(result.token.encode()).hexdigest()
    assert result.token not in login.token_hash
    assert (
        timedelta(days=7) - timedelta(minutes=1) < login.expires_at - utcnow() <= timedelta(days=7)
    )
    assert _audit_actions(session) == ["login.succeeded"]
    assert auth.user_for_token(session, result.token).id == user.id


def test_wrong_password_and_unknown_email_look_the_same(
    session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    wrong_password = sign_in(session, limiter, password=WRONG)
    unknown_email = sign_in(session, limiter, email="nobody@lagoon.test")

    assert wrong_password == unknown_email == auth.LoginResult(refusal=auth.Refusal.INVALID)
    assert session.exec(select(LoginSession)).all() == []
    failed = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(f.action, f.actor_user_id, f.subject) for f in failed] == [
        ("login.failed", user.id, EMAIL),
        ("login.failed", None, "nobody@lagoon.test"),
    ]


def test_a_locked_email_still_opens_for_the_right_password_from_a_client_that_has_not_failed(
    session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    """Someone who knows the merchant's address cannot keep the merchant out."""
    failures = auth.EMAIL_FAILURES.amount
    refusals = [sign_in(session, limiter, password=WRONG).refusal for _ in range(failures)]
    assert refusals == [auth.Refusal.INVALID] * (failures - 1) + [auth.Refusal.LOCKED]

    from_attacker = sign_in(session, limiter)
    assert from_attacker == auth.LoginResult(refusal=auth.Refusal.LOCKED)
    assert session.exec(select(LoginSession)).all() == []

    from_merchant = sign_in(session, limiter, client=CLIENT_B)
    assert from_merchant.refusal is None and from_merchant.token
    assert auth.user_for_token(session, from_merchant.token).id == user.id
    assert sign_in(session, limiter, client=CLIENT_A).refusal == auth.Refusal.LOCKED
    assert _audit_actions(session) == ["login.failed"] * failures + ["login.succeeded"]


def test_a_clean_client_that_fails_on_a_locked_email_is_locked_out_of_it(
    session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    """While an email is locked each other address gets one guess at it, not five."""
    for _ in range(auth.EMAIL_FAILURES.amount):
        sign_in(session, limiter, password=WRONG)
    assert sign_in(session, limiter, password=WRONG, client=CLIENT_B).refusal == (
        auth.Refusal.LOCKED
    )
    assert sign_in(session, limiter, client=CLIENT_B).refusal == auth.Refusal.LOCKED
    assert sign_in(session, limiter, client="192.0.2.30").refusal is None


def test_the_email_lock_ends_when_its_failures_leave_the_window(
    session: Session, user: MerchantUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = auth.build_limiter(None)
    for _ in range(auth.EMAIL_FAILURES.amount):
        sign_in(session, limiter, password=WRONG)
    assert sign_in(session, limiter).refusal == auth.Refusal.LOCKED

    class Later:
        """The limiter's clock, one window on (the module-wide `time` stays untouched)."""

        @staticmethod
        def time() -> float:
            return real_time() + auth.EMAIL_FAILURES.get_expiry() + 1

    monkeypatch.setattr(limits.storage.memory, "time", Later)
    assert sign_in(session, limiter).refusal is None


def test_one_client_trying_many_emails_is_throttled_the_same_for_known_and_unknown(
    session: Session, user: MerchantUser, limiter: RateLimiter, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    verify = auth.verify_password
    monkeypatch.setattr(
        auth, "verify_password", lambda pw, hashed: checked.append(hashed) or verify(pw, hashed)
    )
    allowed = auth.CLIENT_FAILURES.amount
    refusals = [
        sign_in(session, limiter, email=f"guess{n}@lagoon.test", password=WRONG).refusal
        for n in range(allowed)
    ]
    assert refusals == [auth.Refusal.INVALID] * (allowed - 1) + [auth.Refusal.THROTTLED]
    checks = len(checked)

    known = sign_in(session, limiter)
    unknown = sign_in(session, limiter, email="nobody@lagoon.test")
    assert known == unknown == auth.LoginResult(refusal=auth.Refusal.THROTTLED)
    assert len(checked) == checks, "a throttled client gets no password check at all"
    assert session.exec(select(LoginSession)).all() == []
    assert sign_in(session, limiter, client=CLIENT_B).refusal is None


def test_a_burst_of_attempts_from_one_client_is_throttled_before_any_password_check(
    session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    """Parallel requests cannot all pass the failure counts before the first one is recorded:
    every attempt is counted before its password is checked."""
    burst = auth.CLIENT_ATTEMPTS.amount
    results = [sign_in(session, limiter) for _ in range(burst + 1)]
    assert [r.refusal for r in results] == [None] * burst + [auth.Refusal.THROTTLED]
    assert len(session.exec(select(LoginSession)).all()) == burst


def test_a_success_forgives_that_client_its_failures_on_that_email(
    session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    """A merchant who mistyped, then signed in, is not locked out when someone else later
    locks the address."""
    sign_in(session, limiter, password=WRONG, client=CLIENT_B)
    assert sign_in(session, limiter, client=CLIENT_B).refusal is None
    for _ in range(auth.EMAIL_FAILURES.amount):
        sign_in(session, limiter, password=WRONG)
    assert sign_in(session, limiter, client=CLIENT_B).refusal is None


def test_unknown_email_is_locked_out_like_a_real_one(
    session: Session, user: MerchantUser, limiter: RateLimiter
) -> None:
    """Failures lock any address, so the locked answer proves no account exists."""
    failures = auth.EMAIL_FAILURES.amount
    for email, client in ((EMAIL, CLIENT_A), ("nobody@lagoon.test", CLIENT_B)):
        refusals = [
            sign_in(session, limiter, email=email, password=WRONG, client=client).refusal
            for _ in range(failures + 1)
        ]
        assert refusals == [auth.Refusal.INVALID] * (failures - 1) + [auth.Refusal.LOCKED] * 2


def test_unknown_email_still_checks_a_password_hash(
    session: Session, limiter: RateLimiter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So a wrong email takes as long as a wrong password and timing tells nothing."""
    checked: list[str] = []
    monkeypatch.setattr(auth, "verify_password", lambda pw, hashed: checked.append(hashed))
    sign_in(session, limiter, email="nobody@lagoon.test")
    assert len(checked) == 1
    assert checked[0].startswith("$argon2id$")


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        ("", "unknown"),
    ],
)
def test_client_key_groups_an_ipv6_network(address: str, key: str) -> None:
    """One IPv6 subscriber holds a whole /64, so a throttle per address would be no throttle."""
    assert auth.client_key(address) == key


@pytest.mark.parametrize("token", [None, "", "never-issued"])
def test_user_for_token_without_a_valid_token(
    session: Session, user: MerchantUser, token: str | None
) -> None:
    _open_session(session, user, expires_in=timedelta(days=1))
    assert auth.user_for_token(session, token) is None


def test_user_for_token_until_the_session_expires(session: Session, user: MerchantUser) -> None:
    live = _open_session(session, user, expires_in=timedelta(minutes=5))
    expired = _open_session(session, user, expires_in=-timedelta(seconds=1))
    assert auth.user_for_token(session, live).id == user.id
    assert auth.user_for_token(session, expired) is None


def test_sign_out_ends_only_that_session(session: Session, user: MerchantUser) -> None:
    laptop = _open_session(session, user, expires_in=timedelta(days=1))
    phone = _open_session(session, user, expires_in=timedelta(days=2))

    auth.sign_out(session, laptop)

    assert auth.user_for_token(session, laptop) is None
    assert auth.user_for_token(session, phone).id == user.id
    remaining = session.exec(select(LoginSession.token_hash)).all()
    assert remaining == [auth.hash_token(phone)]


def test_sign_out_without_a_token_changes_nothing(session: Session, user: MerchantUser) -> None:
    token = _open_session(session, user, expires_in=timedelta(days=1))
    auth.sign_out(session, None)
    auth.sign_out(session, "")
    assert auth.user_for_token(session, token).id == user.id
