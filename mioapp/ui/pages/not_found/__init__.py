"""The page shown for an address the app does not have."""
