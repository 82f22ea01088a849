"""Live Tour demo data (Faker) and the demo-only Stripe helpers that make it."""
