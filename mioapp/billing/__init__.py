"""Money rules: the ledger, amounts in minor units, balances read from the database."""
