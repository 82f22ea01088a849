"""The customers list with search and paging."""
