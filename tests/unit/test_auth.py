"""Merchant sign-in: argon2 hashes, the generic error, lockout, and login sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from mioapp import auth
from mioapp.models import AuditEntry, LoginSession, LoginThrottle, MerchantUser, utcnow

EMAIL = "maya@lagoon.test"
PASSWORD = "correct horse battery"
WRONG = "incorrect horse battery"


@pytest.fixture(scope="module")
def password_hash() -> str:
    """Argon2 is slow on purpose, so the module hashes PASSWORD once."""
    return auth.hash_password(PASSWORD)


@pytest.fixture
def user(session: Session, password_hash: str) -> MerchantUser:
    merchant = MerchantUser(email=EMAIL, name="Maya Okafor", password_hash=password_hash)
    session.add(merchant)
    session.commit()
    return merchant


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


def _throttle(session: Session, email: str = EMAIL) -> LoginThrottle | None:
    session.expire_all()
    return session.exec(select(LoginThrottle).where(LoginThrottle.email == email)).first()


def _audit_actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all())


def test_hash_is_argon2id_and_verifies(password_hash: str) -> None:
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash
    assert auth.verify_password(PASSWORD, password_hash)
    assert not auth.verify_password(WRONG, password_hash)


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


def test_sign_in_stores_only_the_sha256_of_the_token(session: Session, user: MerchantUser) -> None:
    session.add(LoginThrottle(email=EMAIL, failures=3))
    session.commit()

    result = auth.sign_in(session, email=" MAYA@lagoon.test", password=PASSWORD, session_days=7)

    assert result.error is None
    assert result.user is not None and result.user.id == user.id
    assert result.token
    login = session.exec(select(LoginSession)).one()
    assert login.user_id == user.id
    assert login.token_hash == hashlib.sha256(result.token.encode()).hexdigest()
    assert result.token not in login.token_hash
    assert (
        timedelta(days=7) - timedelta(minutes=1) < login.expires_at - utcnow() <= timedelta(days=7)
    )
    assert _throttle(session) is None, "a success clears the failure count"
    assert _audit_actions(session) == ["login.succeeded"]
    assert auth.user_for_token(session, result.token).id == user.id


def test_wrong_password_and_unknown_email_look_the_same(
    session: Session, user: MerchantUser
) -> None:
    wrong_password = auth.sign_in(session, email=EMAIL, password=WRONG, session_days=7)
    unknown_email = auth.sign_in(
        session, email="nobody@lagoon.test", password=PASSWORD, session_days=7
    )

    assert wrong_password == unknown_email == auth.LoginResult(error=auth.GENERIC_LOGIN_ERROR)
    assert session.exec(select(LoginSession)).all() == []
    assert _throttle(session).failures == 1
    assert _throttle(session, "nobody@lagoon.test").failures == 1
    failed = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(f.action, f.actor_user_id, f.subject) for f in failed] == [
        ("login.failed", user.id, EMAIL),
        ("login.failed", None, "nobody@lagoon.test"),
    ]


def test_five_failures_lock_the_account_until_locked_until_passes(
    session: Session, user: MerchantUser
) -> None:
    errors = [
        auth.sign_in(session, email=EMAIL, password=WRONG, session_days=7).error
        for _ in range(auth.MAX_FAILED_LOGINS)
    ]
    assert errors == [auth.GENERIC_LOGIN_ERROR] * 4 + [auth.LOCKED_ERROR]
    locked_until = _throttle(session).locked_until
    assert timedelta(minutes=14) < locked_until - utcnow() <= timedelta(minutes=15)

    while_locked = auth.sign_in(session, email=EMAIL, password=PASSWORD, session_days=7)
    assert while_locked == auth.LoginResult(error=auth.LOCKED_ERROR)
    assert session.exec(select(LoginSession)).all() == []

    locked = _throttle(session)
    locked.locked_until = utcnow() - timedelta(seconds=1)
    session.add(locked)
    session.commit()

    after = auth.sign_in(session, email=EMAIL, password=PASSWORD, session_days=7)
    assert after.error is None and after.token
    assert _throttle(session) is None
    assert _audit_actions(session) == ["login.failed"] * 5 + ["login.succeeded"]


def test_unknown_email_still_checks_a_password_hash(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So a wrong email takes as long as a wrong password and timing tells nothing."""
    checked: list[str] = []
    monkeypatch.setattr(auth, "verify_password", lambda pw, hashed: checked.append(hashed))
    auth.sign_in(session, email="nobody@lagoon.test", password=PASSWORD, session_days=7)
    assert len(checked) == 1
    assert checked[0].startswith("$argon2id$")


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


def test_unknown_email_is_locked_out_like_a_real_one(session: Session, user: MerchantUser) -> None:
    """Five failures lock any address, so the locked message proves no account exists."""
    for email in (EMAIL, "nobody@lagoon.test"):
        errors = [
            auth.sign_in(session, email=email, password=WRONG, session_days=7).error
            for _ in range(auth.MAX_FAILED_LOGINS + 1)
        ]
        assert errors == [auth.GENERIC_LOGIN_ERROR] * 4 + [auth.LOCKED_ERROR] * 2
