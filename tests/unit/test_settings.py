"""Settings read from the environment and `.env`, and the secret key generated into DATA_DIR."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mioapp.settings import PROJECT_ROOT, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting leaks in from the shell running the tests."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults() -> None:
    settings = Settings(_env_file=None)
    assert settings.data_dir == PROJECT_ROOT / ".data"
    assert settings.resolved_database_url == f"sqlite:///{PROJECT_ROOT / '.data' / 'mioapp.db'}"
    assert settings.secret_key is None
    assert settings.stripe_secret_key is None
    assert settings.session_days == 7
    assert settings.stripe_mode == "test"


def test_environment_variables_override_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db/payments")
    monkeypatch.setenv("BUSINESS_NAME", "Reef Runners")
    monkeypatch.setenv("SESSION_DAYS", "30")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_123")
    settings = Settings(_env_file=None)
    assert settings.data_dir == tmp_path
    assert settings.resolved_database_url == "postgresql://app@db/payments"
    assert settings.business_name == "Reef Runners"
    assert settings.session_days == 30
    assert settings.stripe_secret_key is not None
    assert settings.stripe_secret_key.get_secret_value() == "sk_test_123"


def test_sqlite_database_follows_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert Settings(_env_file=None).resolved_database_url == f"sqlite:///{tmp_path}/mioapp.db"


def test_dotenv_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BUSINESS_NAME=Dotenv Tours\nSESSION_DAYS=3\nMAIL_FROM=ops@dotenv.test\n")
    monkeypatch.setenv("MAIL_FROM", "ops@environment.test")
    settings = Settings(_env_file=env_file)
    assert settings.business_name == "Dotenv Tours"
    assert settings.session_days == 3
    assert settings.mail_from == "ops@environment.test"


def test_secrets_are_not_shown_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_do-not-print")
    monkeypatch.setenv("SECRET_KEY", "master-key-do-not-print")
    text = repr(Settings(_env_file=None))
    assert "do-not-print" not in text


@pytest.mark.parametrize(
    ("api_base", "secret_key", "mode"),
    [
        ("http://127.0.0.1:8420", None, "emulator"),
        ("http://127.0.0.1:8420", "sk_live_abc", "emulator"),
        (None, "sk_test_abc", "test"),
        (None, "rk_test_abc", "test"),
        (None, "sk_live_abc", "live"),
        (None, "rk_live_abc", "live"),
        (None, None, "test"),
    ],
)
def test_stripe_mode(
    monkeypatch: pytest.MonkeyPatch, api_base: str | None, secret_key: str | None, mode: str
) -> None:
    if api_base:
        monkeypatch.setenv("STRIPE_API_BASE", api_base)
    if secret_key:
        monkeypatch.setenv("STRIPE_SECRET_KEY", secret_key)
    assert Settings(_env_file=None).stripe_mode == mode


def test_secret_key_from_the_environment_is_used_and_nothing_is_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SECRET_KEY", "configured-key")
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert settings.secret_key_value() == "configured-key"
    assert not (tmp_path / "secret_key").exists()


def test_secret_key_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-yet-created"
    first = Settings(_env_file=None, data_dir=data_dir).secret_key_value()

    key_file = data_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == first
    assert len(first) >= 32
    # A restarted app (a new Settings) must decrypt what the first one encrypted.
    assert Settings(_env_file=None, data_dir=data_dir).secret_key_value() == first


def test_an_empty_secret_key_is_not_used_as_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SECRET_KEY", "")
    assert Settings(_env_file=None, data_dir=tmp_path).secret_key_value() != ""


def test_each_data_dir_gets_its_own_secret_key(tmp_path: Path) -> None:
    one = Settings(_env_file=None, data_dir=tmp_path / "one").secret_key_value()
    two = Settings(_env_file=None, data_dir=tmp_path / "two").secret_key_value()
    assert one != two
