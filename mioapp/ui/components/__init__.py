"""Widgets shared by the dashboard pages."""
