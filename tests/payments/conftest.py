"""Fixtures for the payments package: one Stripe emulator for the folder, emptied per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.stripe_emulator.launcher import EmulatorProcess, free_port, start_emulator
from mioapp.payments.gateway import StripeCredentials

SECRET_KEY = "sk_test_paymentsuite000000000001"
PUBLISHABLE_KEY = "pk_test_paymentsuite000000000001"


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    process = start_emulator(
        port=free_port(), secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY
    )
    yield process
    process.stop()


@pytest.fixture
def credentials(emulator: EmulatorProcess) -> StripeCredentials:
    emulator.reset()
    return StripeCredentials(
        secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY, api_base=emulator.base_url
    )
