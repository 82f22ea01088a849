"""Payment settings: connect Stripe with verified keys, see the connection, disconnect."""
