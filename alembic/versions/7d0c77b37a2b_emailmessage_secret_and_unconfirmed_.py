"""EmailMessage: pay URL tokens out of stored bodies (secret_encrypted), unconfirmed_attempts

Revision ID: 7d0c77b37a2b
Revises: 021627dbf459
Create Date: 2026-11-30 09:28:43.902019

Payment-link emails queued before this revision hold their pay URL's token in both bodies.
The upgrade puts the slot in its place; a still-queued email keeps its token encrypted with
SECRET_KEY so the sender can put it back, the others (sent or given up) keep nothing.
"""

import re
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = '7d0c77b37a2b'
down_revision: Union[str, Sequence[str], None] = '021627dbf459'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Frozen copies of render.SECRET_SLOT and the shape of links' tokens at this revision.
SLOT = "{mio-secret}"
PAY_TOKEN = re.compile(r"/pay/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")

emails = sa.table(
    "emailmessage",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("status", sa.String),
    sa.column("text_body", sa.Text),
    sa.column("html_body", sa.Text),
    sa.column("secret_encrypted", sa.Text),
)


def _secret_key() -> str:
    from mioapp.settings import get_settings

    return get_settings().secret_key_value()


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('emailmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_encrypted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('unconfirmed_attempts', sa.Integer(), server_default='0', nullable=False))

    from mioapp.crypto import encrypt

    connection = op.get_bind()
    rows = connection.execute(
        sa.select(emails.c.id, emails.c.status, emails.c.text_body, emails.c.html_body).where(
            emails.c.kind == "payment_link"
        )
    ).all()
    key = None
    for row in rows:
        tokens = set(PAY_TOKEN.findall(row.text_body)) | set(PAY_TOKEN.findall(row.html_body))
        if len(tokens) != 1:
            continue
        [token] = tokens
        secret = None
        if row.status == "queued":
            key = key or _secret_key()
            secret = encrypt(token, secret_key=key)
        connection.execute(
            emails.update()
            .where(emails.c.id == row.id)
            .values(
                text_body=row.text_body.replace(token, SLOT),
                html_body=row.html_body.replace(token, SLOT),
                secret_encrypted=secret,
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    from mioapp.crypto import decrypt

    connection = op.get_bind()
    rows = connection.execute(
        sa.select(emails.c.id, emails.c.text_body, emails.c.html_body, emails.c.secret_encrypted)
        .where(emails.c.secret_encrypted.is_not(None))
    ).all()
    key = _secret_key() if rows else None
    for row in rows:
        token = decrypt(row.secret_encrypted, secret_key=key)
        connection.execute(
            emails.update()
            .where(emails.c.id == row.id)
            .values(
                text_body=row.text_body.replace(SLOT, token),
                html_body=row.html_body.replace(SLOT, token),
            )
        )

    with op.batch_alter_table('emailmessage', schema=None) as batch_op:
        batch_op.drop_column('unconfirmed_attempts')
        batch_op.drop_column('secret_encrypted')
