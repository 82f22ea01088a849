"""Developer and test tooling for the project; never imported by the ``mioapp`` package."""
