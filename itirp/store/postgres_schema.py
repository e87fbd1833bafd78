"""The PostgreSQL event store's schema: created and migrated by the store itself.

Why this shape:
- Migrations are an ordered list of SQL steps; `itirp_schema` records how many were applied. A
  store applies the missing ones in one transaction under a transaction-scoped advisory lock, so
  two nodes starting together apply each step once (the second waits, then finds nothing to do),
  and a crash half-way leaves the previous version. A database migrated by newer code is refused:
  this code would not know what its rows mean.
- `events` has the SQLite table's columns and indexes (the same trade-off: no index on symbol or
  time). A trigger refuses UPDATE, DELETE and TRUNCATE on it: defence in depth behind the grants
  (`GRANTS_SQL`), because the hash chain only detects an edit, it does not prevent one.
- `itirp_leader` holds the writer's lease in one row (`singleton` is its key): the term is the
  fencing token every commit checks (`itirp.store.postgres`, `itirp.store.lease`).
"""

from __future__ import annotations

from typing import Any

from itirp.store.errors import StoreError

__all__ = [
    "COLUMNS", "GRANTS_SQL", "MIGRATIONS", "SCHEMA_VERSION", "check_version", "migrate", "schema_version",
]  # fmt: skip

COLUMNS = (
    "sequence", "event_id", "event_type", "correlation_id", "causation_id", "order_id",
    "user_id", "symbol", "timestamp_us", "schema_version", "payload", "prev_hash", "hash",
)  # fmt: skip

_LOCK_KEY = 0x1717_4C4F_47  # pg_advisory_xact_lock key of the migrations ("ITIRP LOG")

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: the log, its indexes, append-only triggers, the lease row
        """CREATE TABLE events (
            sequence BIGINT PRIMARY KEY,
            event_id TEXT NOT NULL,
            event_type TEXT NOT NULL,
            correlation_id TEXT NOT NULL,
            causation_id TEXT NOT NULL,
            order_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            symbol TEXT NOT NULL,
            timestamp_us BIGINT NOT NULL,
            schema_version BIGINT NOT NULL,
            payload BYTEA NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX events_correlation_id ON events (correlation_id)",
        "CREATE INDEX events_order_id ON events (order_id)",
        "CREATE INDEX events_user_id ON events (user_id)",
        "CREATE INDEX events_event_type ON events (event_type)",
        """CREATE FUNCTION itirp_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'itirp events are append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$""",
        """CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION itirp_events_append_only()""",
        """CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION itirp_events_append_only()""",
        """CREATE TABLE itirp_leader (
            singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
            term BIGINT NOT NULL,
            node_id TEXT NOT NULL,
            address TEXT NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL,
            acquired_at TIMESTAMPTZ NOT NULL
        )""",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
"""The version this code writes; a database at a higher one is refused."""

GRANTS_SQL = """
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'itirp_app') THEN
        CREATE ROLE itirp_app NOLOGIN;
    END IF;
END $$;
REVOKE ALL ON events, itirp_leader, itirp_schema FROM itirp_app;
GRANT SELECT, INSERT ON events TO itirp_app;
GRANT SELECT, INSERT, UPDATE ON itirp_leader TO itirp_app;
GRANT SELECT ON itirp_schema TO itirp_app;
GRANT pg_signal_backend TO itirp_app;
"""
"""Run once by a superuser after the first start (the store migrates as the schema's owner): a role
`itirp_app` that may read and append events, read and take the lease, read the schema version and
terminate a stale writer's backend (`pg_signal_backend`, for a takeover), and nothing else: no
UPDATE, DELETE or TRUNCATE of events. Give it to the servers' logins with
`GRANT itirp_app TO <login>`."""


def schema_version(cur: Any) -> int | None:
    """The applied version, or None when the database has no `itirp_schema` table."""
    cur.execute("SELECT to_regclass('itirp_schema') IS NOT NULL")
    if not cur.fetchone()[0]:
        return None
    cur.execute("SELECT version FROM itirp_schema")
    row = cur.fetchone()
    return 0 if row is None else int(row[0])


def check_version(version: int | None) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"event store schema {version} is newer than this code ({SCHEMA_VERSION})"
        )


def migrate(conn: Any) -> int:
    """Apply the missing migrations in one transaction; return the version now in place.

    `conn` is a psycopg connection outside a transaction. Idempotent and safe to run from two
    nodes at once (the advisory lock makes the second wait, then find nothing to do). A version
    that is current needs no rights beyond SELECT, so a node running as `itirp_app` opens too.
    """
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        version = schema_version(cur)
        check_version(version)
        if version == SCHEMA_VERSION:
            return version
        if version is None:
            cur.execute("CREATE TABLE itirp_schema (version INTEGER NOT NULL)")
            cur.execute("INSERT INTO itirp_schema (version) VALUES (0)")
            version = 0
        for steps in MIGRATIONS[version:]:
            for statement in steps:
                cur.execute(statement)
        cur.execute("UPDATE itirp_schema SET version = %s", (SCHEMA_VERSION,))
    return SCHEMA_VERSION
