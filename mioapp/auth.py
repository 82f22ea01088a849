"""Merchant sign-in: argon2 password hashes, lockout after repeated failures, login sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session, col, delete, select

from mioapp.models import AuditEntry, LoginSession, MerchantUser, utcnow

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


@dataclass(frozen=True)
class LoginResult:
    user: MerchantUser | None = None
    token: str | None = None
    error: str | None = None


def create_user(session: Session, *, email: str, name: str, password: str) -> MerchantUser:
    if len(password) < 10:
        raise ValueError("Passwords need at least 10 characters")
    user = MerchantUser(
        email=email.strip().lower(), name=name, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user


def sign_in(session: Session, *, email: str, password: str, session_days: int) -> LoginResult:
    """Check credentials and open a login session; commits. Errors never say what was wrong."""
    user = session.exec(
        select(MerchantUser).where(MerchantUser.email == email.strip().lower())
    ).first()
    now = utcnow()
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return LoginResult(error=GENERIC_LOGIN_ERROR)
    if user.locked_until and user.locked_until > now:
        return LoginResult(error=LOCKED_ERROR)
    if not verify_password(password, user.password_hash):
        user.failed_logins += 1
        locked = user.failed_logins >= MAX_FAILED_LOGINS
        if locked:
            user.failed_logins = 0
            user.locked_until = now + LOCKOUT
        session.add(user)
        session.add(AuditEntry(actor_user_id=user.id, action="login.failed", subject=user.email))
        session.commit()
        return LoginResult(error=LOCKED_ERROR if locked else GENERIC_LOGIN_ERROR)
    user.failed_logins = 0
    user.locked_until = None
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=hash_token(token),
            expires_at=now + timedelta(days=session_days),
        )
    )
    session.add(AuditEntry(actor_user_id=user.id, action="login.succeeded", subject=user.email))
    session.add(user)
    session.commit()
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
        session.commit()
