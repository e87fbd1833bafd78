"""Signed checkpoints of the event log: what anchors the hash chain outside the database.

`checkpoints` is pure (records, signing, checking against a chain); `keyfile` reads and writes the
signing key and the append-only checkpoint file. The why and the limits are in docs/operations.md.
"""
