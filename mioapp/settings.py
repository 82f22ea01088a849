"""Every setting of the app: one pydantic-settings class read from the environment and `.env`."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mioapp.formatting import parse_locale, parse_time_zone

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration; each field is the upper-case environment variable of the same name."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=PROJECT_ROOT / ".data",
        description="Folder for the SQLite database, the generated secret key and local mail.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means the SQLite file <DATA_DIR>/mioapp.db.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Encrypts stored Stripe keys; if unset, generated once into DATA_DIR.",
    )
    app_base_url: str = Field(
        default="http://localhost:3000",
        description="Public origin of the app: links in emails, allowed websocket/CORS origin.",
    )
    business_name: str = Field(
        default="Lagoon Adventures", description="Merchant name shown to customers."
    )
    business_email: str = Field(
        default="hello@lagoon-adventures.test",
        description="Contact email shown to customers (pay page, receipts, emails).",
    )
    business_phone: str = Field(default="", description="Contact phone shown to customers.")
    business_reply_to: str = Field(
        default="", description="Reply-To of customer emails; empty means BUSINESS_EMAIL."
    )
    business_time_zone: str = Field(
        default="UTC",
        description="IANA time zone every date is shown in (America/New_York, Europe/Lisbon).",
    )
    business_locale: str = Field(
        default="en_US", description="Locale of dates, amounts and typed amounts (en_US, de_DE)."
    )
    stripe_secret_key: SecretStr | None = Field(
        default=None, description="Pre-connects Stripe (sk_test_/sk_live_); else use Settings."
    )
    stripe_publishable_key: str | None = Field(
        default=None, description="Publishable key paired with STRIPE_SECRET_KEY."
    )
    stripe_webhook_secret: SecretStr | None = Field(
        default=None, description="Signing secret (whsec_) of the webhook endpoint."
    )
    stripe_api_base: str | None = Field(
        default=None,
        description="Stripe API base URL; unset means real Stripe (the emulator sets it).",
    )
    stripe_js_url: str = Field(
        default="https://js.stripe.com/v3/", description="Where the browser loads Stripe.js from."
    )
    stripe_connect_timeout: float = Field(
        default=5.0, description="Seconds to wait for a connection to Stripe."
    )
    stripe_read_timeout: float = Field(
        default=30.0,
        description="Seconds to wait for Stripe's answer; past it the payment is `unknown` "
        "(never failed) until Stripe is asked again.",
    )
    stripe_max_network_retries: int = Field(
        default=2, description="Retries of a failed connection, with the same idempotency key."
    )
    smtp_url: str = Field(
        default="smtp://127.0.0.1:8025",
        description="smtp://[user:pass@]host:port (smtps:// for TLS); default: local mail server.",
    )
    mail_from: str = Field(
        default="Lagoon Adventures <payments@lagoon-adventures.test>",
        description="From address of every email.",
    )
    session_days: int = Field(default=7, description="How long a merchant sign-in lasts.")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for GET /api/metrics (Prometheus text); unset, no metrics route.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db: page state, jobs and change notices shared by every "
        "process and host; unset, everything stays in one process (memory and SQLite).",
    )
    internal_base_url: str | None = Field(
        default=None,
        description="Without Redis, where the job consumer tells the web app about changes "
        "(e.g. http://127.0.0.1:3000); unset, open pages refresh only for changes made "
        "by the web process itself.",
    )
    web_workers: int = Field(
        default=1,
        ge=1,
        description="Granian worker processes per app instance; more than 1 needs REDIS_URL.",
    )
    state_leases: bool = Field(
        default=True,
        description="With REDIS_URL: a worker keeps a tab's page state while its events keep "
        "coming (Reflex's opportunistic lock) instead of reading and writing Redis each event.",
    )
    job_workers: int = Field(
        default=2, ge=1, description="Threads of each job consumer (`python -m mioapp.jobs`)."
    )
    job_queue: str = Field(
        default="mioapp",
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Name of the job queue; every app instance and consumer of a site shares it.",
    )
    trusted_proxy_hops: int = Field(
        default=0,
        ge=0,
        description=(
            "Reverse proxies in front of the app that append the client to X-Forwarded-For "
            "(1 behind one nginx); 0 ignores the header, so it cannot be forged."
        ),
    )

    @model_validator(mode="after")
    def _workers_need_shared_state(self) -> Settings:
        # Memory state lives in one process: a second worker would not know the first's tabs.
        if self.web_workers > 1 and not self.redis_url:
            raise ValueError("WEB_WORKERS above 1 needs REDIS_URL (page state shared in Redis)")
        return self

    @field_validator("business_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        """A typo here should stop the app at start-up, not show dates in the wrong zone."""
        return parse_time_zone(value)

    @field_validator("business_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        return parse_locale(value)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'mioapp.db'}"

    @property
    def job_store_path(self) -> Path:
        """The SQLite file that holds the job queue when REDIS_URL is unset."""
        return self.data_dir / "jobs.db"

    @property
    def stripe_mode(self) -> str:
        """`emulator`, `test` or `live`, judged from the API base and the key prefix."""
        if self.stripe_api_base:
            return "emulator"
        key = self.stripe_secret_key.get_secret_value() if self.stripe_secret_key else ""
        return "live" if key.startswith(("sk_live_", "rk_live_")) else "test"

    def secret_key_value(self) -> str:
        """The configured SECRET_KEY, or one generated on first use and kept in DATA_DIR."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process created it first
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
        value = path.read_text().strip()
        if not value:
            raise RuntimeError(f"{path} is empty; delete it or set SECRET_KEY")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
