"""The Outbox: every email the app queued, its delivery status and a rendered preview."""
