"""Email: Jinja2 templates, the outbox written with each change, and the SMTP sender."""
