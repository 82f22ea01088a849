"""Settings states: the Stripe connection shown and the connect form's answer (Payments);
the business profile and its form's answers (Business)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import reflex as rx
from babel.numbers import format_decimal
from sqlmodel import Session

from mioapp import business
from mioapp.business import BusinessProfile, current_profile, current_profile_async
from mioapp.db import database
from mioapp.formatting import when, when_in_zone
from mioapp.payments import connection
from mioapp.payments.gateway import GatewayError
from mioapp.ui.merchant_state import MerchantState, signed_in

MODE_LABELS = {"live": "Live", "test": "Test mode", "emulator": "Emulator (simulated Stripe)"}


class PaymentSettingsState(MerchantState):
    """Shows the connection; the keys typed in the form only ever travel browser -> server."""

    loaded: bool = False
    connected: bool = False
    source: str = ""
    account_id: str = ""
    account_name: str = ""
    mode: str = ""
    publishable_key: str = ""
    has_webhook_secret: bool = False
    connected_at: str = ""
    error: str = ""
    saving: bool = False

    def _show(self, info: connection.ConnectionInfo, profile: BusinessProfile) -> None:
        self.loaded = True
        self.connected = info.connected
        self.source = info.source
        self.account_id = info.account_id
        self.account_name = info.account_name
        self.mode = MODE_LABELS.get(info.mode, info.mode)
        self.publishable_key = info.publishable_key
        self.has_webhook_secret = info.has_webhook_secret
        self.connected_at = when(info.connected_at, profile) if info.connected_at else ""

    @rx.event
    @signed_in
    async def load_settings(self):
        self.error = ""

        def read(session: Session):
            return connection.connection_info(session), current_profile(session)

        self._show(*await database().run(read))
        if self.source == "environment":
            try:
                account = await connection.environment_account()
            except GatewayError as exc:
                self.error = f"Stripe didn't accept the keys set in the environment: {exc.message}"
            else:
                self.account_id, self.account_name = account.account_id, account.display_name

    @rx.event
    @signed_in
    async def connect_stripe(self, form: dict):
        if self.saving:
            return
        secret_key = str(form.get("secret_key", "")).strip()
        publishable_key = str(form.get("publishable_key", "")).strip()
        webhook_secret = str(form.get("webhook_secret", "")).strip()
        if not secret_key or not publishable_key:
            self.error = "Enter both the secret key and the publishable key."
            return
        self.saving, self.error = True, ""
        yield
        try:
            info = await connection.connect(
                database(),
                user_id=self._user_id,
                secret_key=secret_key,
                publishable_key=publishable_key,
                webhook_secret=webhook_secret or None,
            )
        except GatewayError as exc:
            self.error = f"Stripe didn't accept these keys: {exc.message}"
            return
        finally:
            self.saving = False
        self._show(info, await current_profile_async())
        yield rx.toast.success("Stripe connected. You can now charge customers.")

    @rx.event
    @signed_in
    async def disconnect_stripe(self):
        user_id = self._user_id

        def disconnect(session):
            if connection.connection_info(session).source != "settings":
                return None, None
            connection.disconnect(session, user_id=user_id)
            return connection.connection_info(session), current_profile(session)

        info, profile = await database().run(disconnect)
        if info is None:
            self.error = "This connection comes from environment variables; change it there."
            return None
        self._show(info, profile)
        return rx.toast.info("Stripe disconnected. Charging is off until you connect again.")


@dataclass
class BusinessForm:
    """The business profile as the form shows it (and, for errors, what is wrong with each
    field: "" when nothing is)."""

    name: str = ""
    email: str = ""
    phone: str = ""
    reply_to: str = ""
    time_zone: str = ""
    locale: str = ""


# A fixed moment to show how dates will read (a summer date, so daylight time shows).
SAMPLE_MOMENT = datetime(2026, 7, 14, 16, 30, tzinfo=UTC)


def _sample(profile: BusinessProfile) -> str:
    return (
        f"Dates read {when_in_zone(SAMPLE_MOMENT, profile)}; "
        f"numbers {format_decimal(1234.56, locale=profile.locale)}."
    )


class BusinessSettingsState(MerchantState):
    """The saved profile fills the form; a refused value keeps what was typed and says what
    to fix next to the field."""

    loaded: bool = False
    saved: BusinessForm = BusinessForm()
    errors: BusinessForm = BusinessForm()
    sample: str = ""
    saving: bool = False
    # Changes when the saved values change, so the form's inputs start again from them.
    form_version: int = 0

    def _show_saved(self, profile: BusinessProfile) -> None:
        self.saved = BusinessForm(**asdict(profile))
        self.errors = BusinessForm()
        self.sample = _sample(profile)
        self.business_name = profile.name
        self.form_version += 1
        self.loaded = True

    @rx.event
    @signed_in
    async def load_business(self):
        # Read now, not from the cache: this page is where a save made elsewhere must show.
        self._show_saved(await database().run(business.load_profile))

    @rx.event
    @signed_in
    async def save_business(self, form: dict):
        if self.saving:
            return
        values = {name: str(form.get(name, "")) for name in business.FIELDS}
        user_id = self._user_id
        self.saving = True
        yield
        try:
            profile = await database().run(
                lambda session: business.save_profile(session, values, user_id=user_id)
            )
        except business.ProfileError as exc:
            self.errors = BusinessForm(**exc.errors)
            yield rx.toast.error("Some values need fixing; nothing was saved.")
            return
        finally:
            self.saving = False
        self._show_saved(profile)
        yield rx.toast.success("Business profile saved.")
