"""Storing a batch of usage messages: parse, drop duplicates, map accounts (all before the write
transaction, which on SQLite holds the database's one write lock), then store the events and their
rollups and mark the accounts for a health recompute."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from tend.activity.services import activities_store
from tend.activity.write import ActivityRow
from tend.core import bulk, clock, hooks, policy
from tend.core.errors import Forbidden, ValidationFailed
from tend.core.policy import Actor

from .accounts import IdentityChanges, map_accounts
from .activity import activity_rows
from .parse import MAX_BATCH_MESSAGES, USAGE_KINDS, Message, parse_message
from .rollups import insert_events, insert_events_with_rollups, rollups_add


@dataclass
class IngestResult:
    """What happened to each message of a batch."""

    accepted: int = 0
    duplicates: int = 0
    unmatched: int = 0
    errors: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)  # per message: {"messageId", "status"}
    account_ids: set[int] = field(default_factory=set)

    def as_dict(self, *, with_results: bool = False) -> dict:
        out = {
            "success": True,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
            "errors": self.errors,
        }
        if with_results:
            out["results"] = self.results
        return out


def _require_ingest(actor: Actor) -> None:
    policy.require(actor, policy.Action.USE_WORKSPACE)  # first: no actor at all is a TypeError
    if not actor.can_write:
        raise Forbidden(_("This API token is read-only; send usage events with a write token."))


def events_ingest(
    *,
    actor: Actor,
    messages: list[object],
    kind: str | None = None,
    sent_at: object = None,
    with_results: bool = False,
) -> IngestResult:
    """Store a batch of Segment messages, idempotent by messageId; bad messages are reported one
    by one (index, messageId, field, reason) and the good ones kept. `kind` forces the type (the
    single-call endpoints). Returns counts of accepted, duplicate and unmatched messages."""
    _require_ingest(actor)
    if not isinstance(messages, list):
        raise ValidationFailed.single("batch", _("batch must be a list of messages."))
    if len(messages) > MAX_BATCH_MESSAGES:
        raise ValidationFailed.single(
            "batch", _("A batch may hold at most %(n)d messages.") % {"n": MAX_BATCH_MESSAGES}, "too_many"
        )
    now = clock.now()
    result = IngestResult()
    parsed: list[Message] = []
    for i, msg in enumerate(messages):
        m = parse_message(i, msg, kind=kind, sent_at_default=sent_at, now=now, errors=result.errors)
        if m is not None:
            parsed.append(m)
    statuses: dict[int, str] = {e["index"]: "error" for e in result.errors}
    # Everything that only reads happens before the write transaction: on SQLite it holds the
    # database's one write lock, which concurrent requests wait for.
    fresh: dict[str, Message] = {}
    for m in parsed:
        if m.message_id in fresh:  # within the batch, the first wins
            statuses[m.index] = "duplicate"
            result.duplicates += 1
        else:
            fresh[m.message_id] = m
    if fresh:
        identities = map_accounts(list(fresh.values()))
        activity = activity_rows(list(fresh.values()))
        with bulk.write_turn(), transaction.atomic():
            _store(fresh, identities, now, result, statuses)
            _store_activity(actor, fresh, activity, statuses, now)
    if with_results:
        result.results = [
            {
                "index": i,
                "messageId": (msg.get("messageId") if isinstance(msg, dict) else None),
                "status": statuses.get(i, "error"),
            }
            for i, msg in enumerate(messages)
        ]
    return result


def _store(
    fresh: dict[str, Message],
    identities: IdentityChanges,
    now: dt.datetime,
    result: IngestResult,
    statuses: dict[int, str],
) -> None:
    todo = list(fresh.values())
    if not todo:
        return
    postgres = bulk.is_postgres()
    # PostgreSQL adds the rollups in the statement that stores the events, SQLite after (`rollups`).
    # Either insert says which messages were new (the others were stored before: duplicates).
    inserted = insert_events_with_rollups(todo, now) if postgres else insert_events(todo, now)
    identities.write({m.message_id for m in todo} if inserted is None else inserted, now)
    counted: list[Message] = []  # SQLite: the new usage messages of known accounts
    for m in todo:
        if inserted is not None and m.message_id not in inserted:  # a concurrent request stored it first
            statuses[m.index] = "duplicate"
            result.duplicates += 1
            continue
        result.accepted += 1
        if m.account_id is None:
            statuses[m.index] = "unmatched"
            if m.kind != "identify":
                result.unmatched += 1
            continue
        statuses[m.index] = "accepted"
        result.account_ids.add(m.account_id)
        if not postgres and m.kind in USAGE_KINDS:
            counted.append(m)
    # Identify calls are about people, not accounts: "unmatched" counts usage that could not be
    # attributed, so an identify without a known account is simply accepted.
    for m in todo:
        if m.kind == "identify" and statuses[m.index] == "unmatched":
            statuses[m.index] = "accepted"
    if counted:
        rollups_add(counted)
    if result.account_ids:
        hooks.accounts_changed(result.account_ids, reason="usage")


def _store_activity(
    actor: Actor,
    fresh: dict[str, Message],
    activity: dict[str, ActivityRow],
    statuses: dict[int, str],
    now: dt.datetime,
) -> None:
    """The contact activity of the messages stored now (a replayed message adds none)."""
    rows = [row for message_id, row in activity.items() if statuses.get(fresh[message_id].index) != "duplicate"]
    if rows:
        activities_store(actor=actor, rows=rows, now=now)
