"""The merchant's Stripe connection: from the environment or Settings, keys encrypted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, delete, select

from mioapp.crypto import decrypt, encrypt
from mioapp.db import Database
from mioapp.models import AuditEntry, StripeConnection
from mioapp.payments.gateway import AccountInfo, StripeCredentials, verify_credentials
from mioapp.settings import Settings, get_settings


@dataclass(frozen=True)
class ConnectionInfo:
    """What the dashboard may show about the connection: never a secret."""

    connected: bool
    source: str = ""  # "environment" or "settings"
    account_id: str = ""
    account_name: str = ""
    mode: str = ""
    publishable_key: str = ""
    has_webhook_secret: bool = False
    connected_at: datetime | None = None


def _env_credentials(settings: Settings) -> StripeCredentials | None:
    if settings.stripe_secret_key is None or not settings.stripe_publishable_key:
        return None
    secret = settings.stripe_webhook_secret
    return StripeCredentials(
        secret_key=settings.stripe_secret_key.get_secret_value(),
        publishable_key=settings.stripe_publishable_key,
        webhook_secret=secret.get_secret_value() if secret else None,
        api_base=settings.stripe_api_base,
    )


def _stored(session: Session) -> StripeConnection | None:
    return session.exec(select(StripeConnection).order_by(StripeConnection.id.desc())).first()


def active_credentials(
    session: Session, settings: Settings | None = None
) -> StripeCredentials | None:
    """The keys to charge with: the environment's if set, else the ones connected in Settings."""
    settings = settings or get_settings()
    env = _env_credentials(settings)
    if env is not None:
        return env
    row = _stored(session)
    if row is None:
        return None
    key = settings.secret_key_value()
    secret = decrypt(row.secret_key_encrypted, secret_key=key)
    webhook = row.webhook_secret_encrypted
    return StripeCredentials(
        secret, row.publishable_key, webhook and decrypt(webhook, secret_key=key), row.api_base
    )


def connection_info(session: Session, settings: Settings | None = None) -> ConnectionInfo:
    settings = settings or get_settings()
    env = _env_credentials(settings)
    if env is not None:
        return ConnectionInfo(
            connected=True,
            source="environment",
            mode=env.mode,
            publishable_key=env.publishable_key,
            has_webhook_secret=bool(env.webhook_secret),
        )
    row = _stored(session)
    if row is None:
        return ConnectionInfo(connected=False)
    return ConnectionInfo(
        connected=True,
        source="settings",
        account_id=row.account_id,
        account_name=row.account_name,
        mode=row.mode,
        publishable_key=row.publishable_key,
        has_webhook_secret=row.webhook_secret_encrypted is not None,
        connected_at=row.connected_at,
    )


async def environment_account(settings: Settings | None = None) -> AccountInfo | None:
    """The account behind environment keys, checked live with Stripe (raises GatewayError)."""
    env = _env_credentials(settings or get_settings())
    return await verify_credentials(env) if env is not None else None


async def connect(
    db: Database,
    *,
    user_id: int,
    secret_key: str,
    publishable_key: str,
    webhook_secret: str | None,
    settings: Settings | None = None,
) -> ConnectionInfo:
    """Verify the keys against Stripe, then store them encrypted. Raises GatewayError."""
    settings = settings or get_settings()
    credentials = StripeCredentials(
        secret_key=secret_key.strip(),
        publishable_key=publishable_key.strip(),
        webhook_secret=(webhook_secret or "").strip() or None,
        api_base=settings.stripe_api_base,
    )
    account = await verify_credentials(credentials)
    return await db.run(lambda s: _store(s, credentials, account, user_id, settings))


def _store(
    session: Session,
    credentials: StripeCredentials,
    account: AccountInfo,
    user_id: int,
    settings: Settings,
) -> ConnectionInfo:
    key = settings.secret_key_value()
    webhook = credentials.webhook_secret
    session.exec(delete(StripeConnection))
    session.add(
        StripeConnection(
            account_id=account.account_id,
            account_name=account.display_name,
            mode=credentials.mode,
            api_base=credentials.api_base,
            # Both secrets are stored encrypted with SECRET_KEY, never in clear.
            secret_key_encrypted=encrypt(credentials.secret_key, secret_key=key),
            webhook_secret_encrypted=webhook and encrypt(webhook, secret_key=key),
            publishable_key=credentials.publishable_key,
            connected_by_user_id=user_id,
        )
    )
    session.add(
        AuditEntry(
            actor_user_id=user_id,
            action="stripe.connected",
            subject=account.account_id,
            detail=f"mode={credentials.mode}",
        )
    )
    session.flush()
    return connection_info(session, settings)


def disconnect(session: Session, *, user_id: int) -> None:
    session.exec(delete(StripeConnection))
    session.add(AuditEntry(actor_user_id=user_id, action="stripe.disconnected"))
    session.flush()
