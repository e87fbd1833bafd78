"""`itirp-cli` — the ITIRP trading backend from a terminal.

Log in once per server; the token is kept in a per-user file (mode 0600) and used by every other
command until it expires or you log out:

    itirp-cli --server 127.0.0.1:50051 login --username trader1
    itirp-cli submit AAPL BUY 100 150.50 --strategy momentum
    itirp-cli submit AAPL SELL 50 --type market --tif ioc     # internal venue: no price for a market order
    itirp-cli amend 5f0c...-... --quantity 80 --price 150.40   # a resting order (internal venue)
    itirp-cli book AAPL --depth 5 --watch                       # the live book, Ctrl-C to stop
    itirp-cli trades AAPL --from-sequence 1                     # every trade so far, then live ones
    itirp-cli quote AAPL                                        # the reference price risk uses
    itirp-cli quotes AAPL MSFT --count 5                        # marks as they are recorded
    itirp-cli orders --status EXECUTED --symbol AAPL
    itirp-cli watch                                  # live order status, Ctrl-C to stop
    itirp-cli cancel 5f0c...-...  --reason "changed my mind"
    itirp-cli positions
    itirp-cli risk
    itirp-cli limits show
    itirp-cli limits set --max-position-size 500000 --reason "tighter for the open"   # RISK_MANAGER
    itirp-cli kill-switch on --reason "fat-finger drill"                              # RISK_MANAGER
    itirp-cli audit tail --type ORDER_CREATED --type RISK_CHECK_FAILED               # COMPLIANCE
    itirp-cli audit trail 5f0c...                    # an order id or a correlation id
    itirp-cli audit verify
    itirp-cli info                                   # the server: version, node, role, term, leader, store
    itirp-cli metrics
    itirp-cli --server 10.0.0.1:50051,10.0.0.2:50051 orders   # a two-node layout: follows the leader
    itirp-cli --json orders | jq '.orders[].status'  # one JSON document (streams: one per line)
    itirp-cli logout

The server is `--server HOST:PORT`, else `$ITIRP_SERVER`, else 127.0.0.1:50051; several
comma-separated addresses (the nodes of a two-node layout) are tried in turn, and writes follow
the leader. Tokens are kept in
`$ITIRP_CLI_CONFIG`, else `$XDG_CONFIG_HOME/itirp/tokens.json`, else `~/.config/itirp/tokens.json`,
one per server. Results go to stdout, messages to stderr.

Exit codes:
    0  done
    1  an unexpected error from the server
    2  usage error (bad arguments)
    3  refused: not logged in, not allowed for your role, invalid request, not found,
       duplicate client order id, wrong order state, too many requests
    4  the order was rejected by pre-trade risk
    5  the server cannot be reached (or could not carry the request out right now)
    6  the audit log's hash chain is broken
  130  interrupted (Ctrl-C) — except `watch`, `audit tail`, `trades`, `quotes` and `book --watch`, for which Ctrl-C
       is the normal end (0)
"""

from __future__ import annotations

from itirp_client.cli.app import main

__all__ = ["main"]
