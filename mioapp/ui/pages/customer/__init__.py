"""One customer: contact details, bookings with derived status, saved cards and transactions."""
