"""A local SMTP server for development and tests that keeps every message it receives.

Each message is written to the store folder as an .eml file and kept in memory, so tests can
read what "the customer" received. `python -m devtools.mailserver --port 8025 --store DIR`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from itertools import count
from pathlib import Path

from aiosmtpd.controller import Controller

logger = logging.getLogger("mailserver")

DEFAULT_PORT = 8025
HOST = "127.0.0.1"


@dataclass
class _StoringHandler:
    """aiosmtpd handler: parse, file and remember each message; it runs on the server's loop."""

    store_dir: Path
    _messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _serial: count = field(default_factory=lambda: count(1))

    async def handle_DATA(self, _server, _session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode()
        message = BytesParser(policy=policy.default).parsebytes(raw)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        with self._lock:
            path = self.store_dir / f"{stamp}-{next(self._serial):05d}.eml"
            path.write_bytes(raw)
            self._messages.append(message)
        logger.info("Mail to %s: %s", ", ".join(envelope.rcpt_tos), message["Subject"])
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            for path in self.store_dir.glob("*.eml"):
                path.unlink(missing_ok=True)


class LocalMailServer:
    """A running server; `messages()` lists what arrived since start or the last `clear()`."""

    def __init__(self, controller: Controller, handler: _StoringHandler, port: int) -> None:
        self._controller = controller
        self._handler = handler
        self.port = port
        self.store_dir = handler.store_dir

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def messages(self) -> list[EmailMessage]:
        return self._handler.messages()

    def clear(self) -> None:
        self._handler.clear()

    def stop(self) -> None:
        self._controller.stop()


def start_mail_server(
    port: int = DEFAULT_PORT, store_dir: Path | str = ".data/mail"
) -> LocalMailServer:
    """Listen on 127.0.0.1:`port` in a background thread; returns once it accepts connections."""
    store = Path(store_dir)
    store.mkdir(parents=True, exist_ok=True)
    handler = _StoringHandler(store_dir=store)
    # SMTPUTF8 so names and subjects outside ASCII arrive as sent.
    controller = Controller(handler, hostname=HOST, port=port, enable_SMTPUTF8=True)
    controller.start()
    return LocalMailServer(controller, handler, port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--store", type=Path, default=None, help="Default: <DATA_DIR>/mail")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # aiosmtpd logs every SMTP command at INFO; one line per message is enough here.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    store = args.store
    if store is None:
        from mioapp.settings import get_settings

        store = get_settings().data_dir / "mail"
    server = start_mail_server(args.port, store)
    logger.info("Local mail server on smtp://%s:%s, storing in %s", HOST, server.port, store)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        while not stopping.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
