"""Payment settings state: the Stripe connection shown, the connect form's answer."""

from __future__ import annotations

import reflex as rx

from mioapp.db import database
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

    def _show(self, info: connection.ConnectionInfo) -> None:
        self.loaded = True
        self.connected = info.connected
        self.source = info.source
        self.account_id = info.account_id
        self.account_name = info.account_name
        self.mode = MODE_LABELS.get(info.mode, info.mode)
        self.publishable_key = info.publishable_key
        self.has_webhook_secret = info.has_webhook_secret
        self.connected_at = (
            info.connected_at.strftime("%b %-d, %Y %H:%M UTC") if info.connected_at else ""
        )

    @rx.event
    @signed_in
    async def load_settings(self):
        self.error = ""
        self._show(await database().run(connection.connection_info))
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
        self._show(info)
        yield rx.toast.success("Stripe connected. You can now charge customers.")

    @rx.event
    @signed_in
    async def disconnect_stripe(self):
        user_id = self._user_id

        def disconnect(session) -> connection.ConnectionInfo | None:
            if connection.connection_info(session).source != "settings":
                return None
            connection.disconnect(session, user_id=user_id)
            return connection.connection_info(session)

        info = await database().run(disconnect)
        if info is None:
            self.error = "This connection comes from environment variables; change it there."
            return None
        self._show(info)
        return rx.toast.info("Stripe disconnected. Charging is off until you connect again.")
