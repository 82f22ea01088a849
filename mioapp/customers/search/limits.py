"""Where customer search stops reading one way and takes another, and the list's sizes.

The other modules read these as `limits.NAME` when they run, so a value set here (as tests
do, to reach a bound with a few rows) holds for every place that reads it."""

PAGE_SIZE = 25
# A search with more matches than this is walked in list order rather than read in full.
CANDIDATE_LIMIT = 1000
# The list says "1,000+ customers" rather than count a million rows for every page (a search
# counts its matches up to CANDIDATE_LIMIT, as it reads them).
COUNT_LIMIT = 1000
MAX_QUERY = 100
# Characters of a long query looked up in the index before the rest is checked row by row.
WINDOW = 10
# SQLite, another order than name: a common search with at most this many matches walks the
# order's (key, id) index index-only, each entry looked up in the set of their ids (read off
# the FTS index in a few milliseconds), rather than reading a row for each entry passed.
MATCH_SET_LIMIT = 10_000
# PostgreSQL: how far a common search first walks its order's index (index-only), checking
# each entry, before it reads its matches another way: a first name in name order (whose
# owners are then read as one range), any other term in any order. An entry walked costs
# about a sixteenth of a match read through the trigram index and sorted (0.25 against 4
# microseconds, measured at a million customers).
START_WALK_ROWS = 10_000
WALK_ROWS = 25_000
# A term that is not a first name is walked when its page is expected within this share of
# the walk's rows (the candidate read says how many customers there are to each match), so
# a term spread unevenly still fills it.
WALK_SHARE = 0.5
