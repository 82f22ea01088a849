"""HTTP beside Reflex: API routes, security headers, page URLs, the production server."""
