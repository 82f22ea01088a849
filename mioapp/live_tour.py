"""The Live Tour's sign-in: devtools/demo creates this merchant; the login page shows it when
Stripe is the local emulator (a demo or development install, never a real one)."""

DEMO_EMAIL = "demo@miocommerce.test"
DEMO_PASSWORD = "LiveTour-2026"
DEMO_NAME = "Maya Okafor"
