"""Everything that talks to Stripe; nothing outside this package imports `stripe`."""
