"""Customers: search and the list, and what the customer page shows."""
