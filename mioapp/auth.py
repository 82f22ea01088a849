"""Merchant sign-in: argon2 password hashes, lockout after repeated failures, login sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select, update

from mioapp.models import AuditEntry, LoginSession, LoginThrottle, MerchantUser, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
GENERIC_LOGIN_ERROR = "That email and password don't match an account."
LOCKED_ERROR = "Too many failed attempts. Try again in 15 minutes."

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the email is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


def hash_token(token: str) -> str:
    """SHA-256 hex of a random bearer token; what we store instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class LoginResult:
    user: MerchantUser | None = None
    token: str | None = None
    error: str | None = None


def create_user(session: Session, *, email: str, name: str, password: str) -> MerchantUser:
    if len(password) < 10:
        raise ValueError("Passwords need at least 10 characters")
    user = MerchantUser(
        email=normalize_email(email), name=name, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user


def _is_locked(session: Session, email: str) -> bool:
    throttle = session.exec(select(LoginThrottle).where(LoginThrottle.email == email)).first()
    return bool(throttle and throttle.locked_until and throttle.locked_until > utcnow())


def _record_failure(session: Session, email: str) -> bool:
    """Count a failed sign-in for the email, atomically; True if that locked it."""
    if session.exec(select(LoginThrottle.id).where(LoginThrottle.email == email)).first() is None:
        try:
            with session.begin_nested():
                session.add(LoginThrottle(email=email))
        except IntegrityError:
            pass  # a parallel attempt created it; the increment below still counts ours
    session.exec(
        update(LoginThrottle)
        .where(col(LoginThrottle.email) == email)
        .values(failures=LoginThrottle.failures + 1)
    )
    throttle = session.exec(select(LoginThrottle).where(LoginThrottle.email == email)).one()
    session.refresh(throttle)
    if throttle.failures < MAX_FAILED_LOGINS:
        return False
    throttle.failures = 0
    throttle.locked_until = utcnow() + LOCKOUT
    session.add(throttle)
    return True


def sign_in(session: Session, *, email: str, password: str, session_days: int) -> LoginResult:
    """Check credentials and open a login session (the caller commits, failures included).

    Unknown emails and wrong passwords get the same message, take the same time and are
    throttled the same way, so the answers never reveal whether an account exists.
    """
    email = normalize_email(email)
    if _is_locked(session, email):
        return LoginResult(error=LOCKED_ERROR)
    user = session.exec(select(MerchantUser).where(MerchantUser.email == email)).first()
    if not verify_password(password, user.password_hash if user else _DUMMY_HASH) or not user:
        locked = _record_failure(session, email)
        session.add(
            AuditEntry(
                actor_user_id=user.id if user else None, action="login.failed", subject=email
            )
        )
        session.flush()
        return LoginResult(error=LOCKED_ERROR if locked else GENERIC_LOGIN_ERROR)
    session.exec(delete(LoginThrottle).where(col(LoginThrottle.email) == email))
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(days=session_days),
        )
    )
    session.add(AuditEntry(actor_user_id=user.id, action="login.succeeded", subject=email))
    session.flush()
    session.refresh(user)
    return LoginResult(user=user, token=token)


def user_for_token(session: Session, token: str | None) -> MerchantUser | None:
    """The merchant a session token belongs to, if the session is still valid."""
    if not token:
        return None
    login = session.exec(
        select(LoginSession).where(LoginSession.token_hash == hash_token(token))
    ).first()
    if login is None or login.expires_at <= utcnow():
        return None
    return session.get(MerchantUser, login.user_id)


def sign_out(session: Session, token: str | None) -> None:
    if token:
        session.exec(delete(LoginSession).where(col(LoginSession.token_hash) == hash_token(token)))
        session.flush()
