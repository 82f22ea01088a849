"""`python -m devtools.demo`: seed the Live Tour data into the configured database."""

from devtools.demo.seed import main

main()
