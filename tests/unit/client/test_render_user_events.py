"""itirp-cli's one-line summary of the user events: who was changed, what, by whom and why."""

from __future__ import annotations

from itirp.v1 import common_pb2, events_pb2
from itirp_client.cli.render import event_summary


def test_user_changes_read_as_sentences() -> None:
    disabled = events_pb2.Event(
        user_disabled=events_pb2.UserDisabled(username="trader1", actor="alice", reason="left the desk")
    )
    role = events_pb2.Event(
        user_role_changed=events_pb2.UserRoleChanged(
            username="risk1", old_role=common_pb2.ROLE_RISK_MANAGER, new_role=common_pb2.ROLE_COMPLIANCE
        )
    )
    unlocked = events_pb2.Event(user_unlocked=events_pb2.UserUnlocked(username="trader1", actor="bob"))

    assert event_summary(disabled) == "trader1 disabled by alice: left the desk"
    assert event_summary(role) == "risk1 role RISK_MANAGER -> COMPLIANCE"
    assert event_summary(unlocked) == "trader1 unlocked by bob"
