"""The public pay page `/pay/<token>` and its receipt page: no sign-in, built for phones."""
