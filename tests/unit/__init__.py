"""Unit tests: domain functions against a real migrated database, no server or browser."""
