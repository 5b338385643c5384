"""Which account each message of a batch is about (groupId by the account key property, or the
account remembered for its user), and what the batch changes about its users."""

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection

from tend.core import bulk
from tend.crm.models import _SAFE_KEY, Record
from tend.cs_settings.queries import workspace_settings
from tend.usage.models import UsageIdentity
from tend.usage.settings import usage_settings

from .parse import Message, to_json

# key property → (customer object type id → {key value: record id}); verified against the record
# on every use, so a stale entry (key edited, record archived) is never trusted.
_account_keys: dict[tuple[str, int], dict[str, int]] = {}


_ACCOUNT_KEYS_MAX = 500_000


def _key_sql(key_property: str) -> str:
    if not _SAFE_KEY.match(key_property):
        raise ValueError(f"unsafe property name {key_property!r}")
    if connection.vendor == "postgresql":
        return f"(properties ->> '{key_property}')"
    return f"json_extract(properties, '$.{key_property}')"


def accounts_by_key(keys: Iterable[str]) -> dict[str, int]:
    """{value: record id} of the active customer records whose account key property has these
    values. Keys remembered by this process are checked by primary key; the others are looked up
    by value, which reads every customer's key, so once per key and process."""
    keys = {k for k in keys if k}
    if not keys:
        return {}
    key_property = usage_settings().account_key_property
    customer_type_id = workspace_settings().customer_object_type_id
    cache = _account_keys.setdefault((key_property, customer_type_id), {})
    key_sql = _key_sql(key_property)
    table = connection.ops.quote_name(Record._meta.db_table)
    found: dict[str, int] = {}
    remembered = {cache[k]: k for k in keys if k in cache}
    with bulk.cursor() as cursor:
        if remembered:
            where, params = bulk.in_list(list(remembered))
            # By primary key only (the other conditions checked here): with more conditions the
            # planner may prefer an index on the object type and read every customer.
            cursor.execute(
                f"SELECT id, {key_sql}, object_type_id, archived_at IS NULL FROM {table} WHERE id {where}", params
            )
            for pk, value, type_id, active in cursor.fetchall():
                if active and type_id == customer_type_id and value is not None and remembered.get(pk) == str(value):
                    found[str(value)] = pk
        missing = sorted(keys - set(found))
        if missing:
            where, params = bulk.in_list(missing)
            cursor.execute(
                f"SELECT id, {key_sql} FROM {table} "
                f"WHERE object_type_id = %s AND archived_at IS NULL AND {key_sql} {where}",
                [customer_type_id, *params],
            )
            for pk, value in cursor.fetchall():
                found[str(value)] = pk
    for key in keys:
        cache.pop(key, None)
    if len(cache) + len(found) > _ACCOUNT_KEYS_MAX:
        cache.clear()
    cache.update(found)
    return found


class IdentityEffect(NamedTuple):
    """What one message says about its user."""

    message_id: str
    user_key: str
    account_id: int | None  # the account the user moves to, if any
    traits: dict | None  # traits an identify call sets


@dataclass
class IdentityChanges:
    """What a batch's messages say about its users, in batch order. Written after the events, for
    the messages really stored only, so a replayed old group call never moves a user back."""

    effects: list[IdentityEffect] = field(default_factory=list)

    def write(self, stored_ids: set[str], now: dt.datetime) -> None:
        effects = [e for e in self.effects if e.message_id in stored_ids]
        if not effects:
            return
        # Read again inside the write transaction: another batch may have changed these users.
        table = connection.ops.quote_name(UsageIdentity._meta.db_table)
        with bulk.cursor() as cursor:
            where, params = bulk.in_list(sorted({e.user_key for e in effects}))
            cursor.execute(f"SELECT user_key, account_id, traits FROM {table} WHERE user_key {where}", params)
            rows = cursor.fetchall()
        remembered = {k: a for k, a, _t in rows}
        account_of = dict(remembered)
        traits = {k: (json.loads(t) if isinstance(t, str) else t) or {} for k, _a, t in rows}
        moved, identified = set(), set()
        for _message_id, user_key, account, new_traits in effects:
            if account is not None and account_of.get(user_key) != account:
                account_of[user_key] = account
                moved.add(user_key)
            if new_traits:
                traits[user_key] = {**traits.get(user_key, {}), **new_traits}
                identified.add(user_key)
        qn = connection.ops.quote_name
        columns = ("user_key", "account_id", "traits", "updated_at")
        types = ("text", "bigint", "jsonb", "timestamptz")
        at = bulk.db_datetime(now)
        update = f"ON CONFLICT ({qn('user_key')}) DO UPDATE SET {qn('account_id')} = excluded.{qn('account_id')}, "
        # Who is new or has new traits gets its whole row; who only moved keeps its traits.
        full = sorted(identified | (moved - set(remembered)))
        if full:
            bulk.insert_rows(
                UsageIdentity._meta.db_table,
                columns,
                [(k, account_of.get(k), to_json(traits.get(k, {})), at) for k in full],
                pg_types=types,
                on_conflict=update + f"{qn('traits')} = excluded.{qn('traits')}, "
                f"{qn('updated_at')} = excluded.{qn('updated_at')}",
            )
        only_moved = sorted((moved & set(remembered)) - identified)
        if only_moved:
            bulk.insert_rows(
                UsageIdentity._meta.db_table,
                columns,
                [(k, account_of[k], "{}", at) for k in only_moved],
                pg_types=types,
                on_conflict=update + f"{qn('updated_at')} = excluded.{qn('updated_at')}",
            )


def map_accounts(todo: list[Message]) -> IdentityChanges:
    """groupId (group calls, context.groupId, properties.groupId) → account by the key property;
    otherwise the account remembered for the userId. Group calls and matched group ids are
    remembered, in batch order, so a group call maps the same user's later messages."""
    by_key = accounts_by_key({m.group_key for m in todo if m.group_key})
    table = connection.ops.quote_name(UsageIdentity._meta.db_table)
    with bulk.cursor() as cursor:
        where, params = bulk.in_list(sorted({m.user_key for m in todo}))
        cursor.execute(f"SELECT user_key, account_id FROM {table} WHERE user_key {where}", params)
        remembered = dict(cursor.fetchall())
    changes = IdentityChanges()
    for m in todo:
        account = by_key.get(m.group_key) if m.group_key else None
        if account is None and not m.explicit_group:
            account = remembered.get(m.user_key)
        m.account_id = account
        moves = m.group_key and account is not None and m.kind != "identify" and remembered.get(m.user_key) != account
        if moves:
            remembered[m.user_key] = account
        identifies = m.kind == "identify" and m.traits
        if moves or identifies:
            changes.effects.append(
                IdentityEffect(m.message_id, m.user_key, account if moves else None, m.traits if identifies else None)
            )
    return changes
