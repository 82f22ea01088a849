"""Connecting Stripe: verified keys stored encrypted, environment keys taking precedence."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlmodel import Session, select

from mioapp.crypto import decrypt
from mioapp.db import Database
from mioapp.models import AuditEntry, MerchantUser, StripeConnection
from mioapp.payments import connection
from mioapp.payments.gateway import GatewayError, StripeCredentials
from mioapp.settings import Settings
from tests.conftest import run_coroutine as run


@pytest.fixture
def settings(credentials: StripeCredentials, tmp_path) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=tmp_path,
        secret_key=SecretStr("x" * 40),
        stripe_api_base=credentials.api_base,
    )


@pytest.fixture
def merchant(session: Session) -> MerchantUser:
    user = MerchantUser(email="maya@lagoon.test", name="Maya", password_hash="x")
    session.add(user)
    session.commit()
    return user


def _connect(
    session: Session, settings: Settings, credentials: StripeCredentials, merchant: MerchantUser
) -> None:
    run(
        connection.connect(
            Database(session.get_bind()),
            user_id=merchant.id,
            secret_key=credentials.secret_key,
            publishable_key=credentials.publishable_key,
            webhook_secret=None,
            settings=settings,
        )
    )


def test_connect_verifies_then_stores_keys_encrypted(
    session: Session, settings: Settings, credentials: StripeCredentials, merchant: MerchantUser
) -> None:
    info = run(
        connection.connect(
            Database(session.get_bind()),
            user_id=merchant.id,
            secret_key=f"  {credentials.secret_key} ",
            publishable_key=credentials.publishable_key,
            webhook_secret="whsec_abc",
            settings=settings,
        )
    )
    assert info.connected and info.source == "settings" and info.mode == "emulator"
    assert info.account_id.startswith("acct_")
    row = session.exec(select(StripeConnection)).one()
    assert credentials.secret_key not in row.secret_key_encrypted
    assert decrypt(row.secret_key_encrypted, secret_key="x" * 40) == credentials.secret_key
    assert decrypt(row.webhook_secret_encrypted, secret_key="x" * 40) == "whsec_abc"
    active = connection.active_credentials(session, settings)
    assert active == StripeCredentials(
        secret_key=credentials.secret_key,
        publishable_key=credentials.publishable_key,
        webhook_secret="whsec_abc",
        api_base=credentials.api_base,
    )
    audit = session.exec(select(AuditEntry)).one()
    assert (audit.action, audit.actor_user_id) == ("stripe.connected", merchant.id)


def test_rejected_keys_store_nothing(
    session: Session, settings: Settings, credentials: StripeCredentials, merchant: MerchantUser
) -> None:
    with pytest.raises(GatewayError, match="rejected the secret key"):
        run(
            connection.connect(
                Database(session.get_bind()),
                user_id=merchant.id,
                secret_key="sk_test_not_this_one",
                publishable_key=credentials.publishable_key,
                webhook_secret=None,
                settings=settings,
            )
        )
    assert session.exec(select(StripeConnection)).all() == []
    assert connection.active_credentials(session, settings) is None
    assert not connection.connection_info(session, settings).connected


def test_disconnect_removes_the_keys(
    session: Session, settings: Settings, credentials: StripeCredentials, merchant: MerchantUser
) -> None:
    _connect(session, settings, credentials, merchant)
    connection.disconnect(session, user_id=merchant.id)
    session.commit()
    assert session.exec(select(StripeConnection)).all() == []
    assert connection.active_credentials(session, settings) is None
    actions = session.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["stripe.connected", "stripe.disconnected"]


def test_environment_keys_win_over_settings(
    session: Session, settings: Settings, credentials: StripeCredentials, merchant: MerchantUser
) -> None:
    _connect(session, settings, credentials, merchant)
    env = settings.model_copy(
        update={
            "stripe_secret_key": SecretStr("sk_test_from_env"),
            "stripe_publishable_key": "pk_test_from_env",
            "stripe_webhook_secret": SecretStr("whsec_env"),
        }
    )
    active = connection.active_credentials(session, env)
    assert (active.secret_key, active.publishable_key, active.webhook_secret) == (
        "sk_test_from_env",
        "pk_test_from_env",
        "whsec_env",
    )
    info = connection.connection_info(session, env)
    assert (info.source, info.publishable_key, info.has_webhook_secret) == (
        "environment",
        "pk_test_from_env",
        True,
    )


def test_environment_account_is_checked_live(
    settings: Settings, credentials: StripeCredentials
) -> None:
    assert run(connection.environment_account(settings)) is None, "no keys in the environment"
    env = settings.model_copy(
        update={
            "stripe_secret_key": SecretStr(credentials.secret_key),
            "stripe_publishable_key": credentials.publishable_key,
        }
    )
    account = run(connection.environment_account(env))
    assert account is not None and account.account_id.startswith("acct_")
    wrong = env.model_copy(update={"stripe_secret_key": SecretStr("sk_test_revoked_key")})
    with pytest.raises(GatewayError, match="rejected the secret key"):
        run(connection.environment_account(wrong))
