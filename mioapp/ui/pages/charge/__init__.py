"""The Charge Customer modal: bookings and amount, then a saved card, a new card or a link."""
