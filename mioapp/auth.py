"""Merchant sign-in: argon2 password hashes, throttles per client and per email, login sessions."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter, RateLimiter
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session, col, delete, select

from mioapp.models import AuditEntry, LoginSession, MerchantUser, utcnow

# Moving windows: each limit counts the events of the last N minutes, so a refusal lasts only
# until the oldest counted event is N minutes old, and a window never resets all at once.
# Every attempt from one client address, counted before its password is checked, so parallel
# requests cannot all slip past the failure counts below before the first failure is recorded.
CLIENT_ATTEMPTS = RateLimitItemPerSecond(10, 10)
# Failed sign-ins from one client address, whatever the email: stops one client guessing
# passwords for many addresses.
CLIENT_FAILURES = RateLimitItemPerMinute(10, 15)
# Failed sign-ins for one email, from any client. When reached the email is locked, but only for
# clients that have failed for it themselves: the right password from a client that has not
# still signs in, so knowing a merchant's address is not enough to keep the merchant out.
EMAIL_FAILURES = RateLimitItemPerMinute(5, 15)

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the email is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Refusal(StrEnum):
    """Why a sign-in was refused; the page words each one (and never says whether the email
    has an account)."""

    INVALID = "invalid"
    LOCKED = "locked"
    THROTTLED = "throttled"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


def hash_token(token: str) -> str:
    """SHA-256 hex of a random bearer token; what we store instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


def build_limiter(redis_url: str | None, *, key_prefix: str = "mioapp") -> RateLimiter:
    """The sign-in throttle's counters: in Redis when configured (shared by every web worker
    and kept across restarts), else in this process's memory (one worker, as Reflex runs
    without Redis)."""
    storage = RedisStorage(redis_url, key_prefix=key_prefix) if redis_url else MemoryStorage()
    return MovingWindowRateLimiter(storage)


def client_key(address: str) -> str:
    """Whom the per-client limits count: the address, but a whole IPv6 /64 for IPv6, since one
    subscriber is handed a /64 and could otherwise change address at every attempt."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class LoginResult:
    user: MerchantUser | None = None
    token: str | None = None
    refusal: Refusal | None = None


def create_user(session: Session, *, email: str, name: str, password: str) -> MerchantUser:
    if len(password) < 10:
        raise ValueError("Passwords need at least 10 characters")
    user = MerchantUser(
        email=normalize_email(email), name=name, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user


def _throttled(limiter: RateLimiter, email: str, client: str) -> Refusal | None:
    """Checked before the password, so a refused attempt costs no hash and says nothing."""
    if not limiter.hit(CLIENT_ATTEMPTS, "sign-in-attempts", client):
        return Refusal.THROTTLED
    if not limiter.test(CLIENT_FAILURES, "sign-in-client", client):
        return Refusal.THROTTLED
    email_locked = not limiter.test(EMAIL_FAILURES, "sign-in-email", email)
    if email_locked and _failed_here(limiter, email, client):
        return Refusal.LOCKED
    return None


def _failed_here(limiter: RateLimiter, email: str, client: str) -> bool:
    stats = limiter.get_window_stats(EMAIL_FAILURES, "sign-in-email-client", email, client)
    return stats.remaining < EMAIL_FAILURES.amount


def _record_failure(limiter: RateLimiter, email: str, client: str) -> Refusal:
    """Count the failure everywhere it counts; the answer warns when this one used up a limit."""
    limiter.hit(CLIENT_FAILURES, "sign-in-client", client)
    limiter.hit(EMAIL_FAILURES, "sign-in-email", email)
    limiter.hit(EMAIL_FAILURES, "sign-in-email-client", email, client)
    if not limiter.test(CLIENT_FAILURES, "sign-in-client", client):
        return Refusal.THROTTLED
    if not limiter.test(EMAIL_FAILURES, "sign-in-email", email):
        return Refusal.LOCKED
    return Refusal.INVALID


def sign_in(
    session: Session,
    *,
    email: str,
    password: str,
    session_days: int,
    limiter: RateLimiter,
    client: str,
) -> LoginResult:
    """Check credentials from `client` (see `client_key`) and open a login session; the
    caller commits (failures included).

    Unknown emails and wrong passwords get the same refusal, take the same time and are
    throttled the same way, so the answers never reveal whether an account exists.
    """
    email = normalize_email(email)
    # Emails and addresses are hashed into the limiter's keys: none sits in Redis in clear.
    email_key, client = hash_token(email), hash_token(client)
    refusal = _throttled(limiter, email_key, client)
    if refusal is not None:
        return LoginResult(refusal=refusal)
    user = session.exec(select(MerchantUser).where(MerchantUser.email == email)).first()
    if not verify_password(password, user.password_hash if user else _DUMMY_HASH) or not user:
        refusal = _record_failure(limiter, email_key, client)
        session.add(
            AuditEntry(
                actor_user_id=user.id if user else None, action="login.failed", subject=email
            )
        )
        session.flush()
        return LoginResult(refusal=refusal)
    # Whoever knows the password may forget their own typos on this email.
    limiter.clear(EMAIL_FAILURES, "sign-in-email-client", email_key, client)
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
