"""HTTP beside Reflex: API routes, security headers, URLs of the app's pages, and the
production server entry point (serve.py)."""
