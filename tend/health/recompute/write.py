"""Set-based writes of a recomputed chunk: one statement a table (COPY on PostgreSQL), in one
transaction."""

import datetime as dt
import json
from dataclasses import dataclass, field
from operator import itemgetter

from django.db import IntegrityError, connection, transaction

from tend.core import bulk
from tend.health import books
from tend.health.alert_notices import notify_alerts
from tend.health.models import HealthAlert, HealthScore, HealthScoreHistory, NewHealthAlert

from .plan import to_json

# A score row and a history point are plain tuples in these columns' order (a recompute makes one
# of each per account; a NamedTuple costs several times a tuple to build), unpacked by name.
SCORE_COLUMNS = ("record_id", "profile_id", "version_id", "score", "status", "coverage", "breakdown", "history_day")
POINT_COLUMNS = ("record_id", "profile_id", "version_id", "score", "status", "coverage", "changes", "reason")
# breakdown: compact JSON text (`plan.Plan`); history_day: `bulk.db_date` of the last point's day;
# changes: JSON text of the criteria that moved; reason: "daily", "status_change", "recompute", …
ScoreRow = tuple[int, int, int, float | None, str, float, str, object]
PointRow = tuple[int, int, int, float | None, str, float, str, str]
_record_id = itemgetter(0)


@dataclass
class ChunkWrites:
    now: dt.datetime
    remove: list[int]  # score rows
    inserts: list[ScoreRow]  # of (record, profile) pairs without a row
    upserts: list[ScoreRow]
    history: list[PointRow]
    alerts: list[NewHealthAlert]
    # user id → [sum of scores, count] of the chunk's accounts in the user's book (owner or CSM)
    books: dict[int, list] = field(default_factory=dict)
    # accounts whose score, status or profile changed: their `BookScore` rows are written again
    books_changed: list[int] = field(default_factory=list)
    notify: bool = False  # tell the alerts' book owners and CSMs (tend.health.alert_notices)


def write_chunk(writes: ChunkWrites) -> None:
    with bulk.write_turn(), transaction.atomic():
        moved = list(writes.books_changed)
        if writes.remove:
            moved += HealthScore.objects.filter(pk__in=writes.remove).values_list("record_id", flat=True)
            HealthScore.objects.filter(pk__in=writes.remove).delete()
        if bulk.is_postgres():
            _write_scores_and_history_staged(writes.inserts, writes.upserts, writes.history, writes.now)
        else:
            _write_scores(writes.inserts, writes.upserts, writes.now)
            _write_history(writes.history, writes.now)
        write_alerts(writes.alerts)
        if writes.notify:
            notify_alerts(writes.alerts, at=writes.now)
        if moved:
            books.copy_scores(moved)


def _write_scores(new: list[ScoreRow], changed: list[ScoreRow], now: dt.datetime) -> None:
    """SQLite: insert the `new` rows and upsert the `changed` ones; a row inserted meanwhile by
    another recompute (a record recomputed from its page during a full run) turns the insert into
    an upsert."""
    table = HealthScore._meta.db_table
    columns = (*SCORE_COLUMNS, "computed_at")
    stamp = bulk.db_datetime(now)
    if new:
        try:
            with transaction.atomic():
                bulk.copy_rows(table, columns, [(*row, stamp) for row in new])
        except IntegrityError:
            changed = new + changed
    if changed:
        bulk.upsert_rows(table, columns, [(*row, stamp) for row in changed], key=("record_id", "profile_id"))


def _write_scores_and_history_staged(
    inserts: list[ScoreRow], upserts: list[ScoreRow], history: list[PointRow], now: dt.datetime
) -> None:
    """PostgreSQL: the score rows and their history points go by one COPY into a staged table,
    from which the scores are inserted or updated in place and the points inserted (a point's
    values are sent once, with its score). A row deleted since it was read is inserted again."""
    points = {record_id: (changes, reason) for record_id, _p, _v, _s, _st, _c, changes, reason in history}
    unstaged = points.keys() - set(map(_record_id, inserts)) - set(map(_record_id, upserts))
    if unstaged:  # not expected (a point is written with its score); kept rather than lost
        _write_history([point for point in history if _record_id(point) in unstaged], now)
    if not inserts and not upserts:
        return
    columns = (*SCORE_COLUMNS, "computed_at")
    rows = _staged_text(inserts, upserts, points, now)
    qn = connection.ops.quote_name
    table = qn(HealthScore._meta.db_table)
    cols = ", ".join(qn(c) for c in columns)
    key = ("record_id", "profile_id")
    conflict = bulk.on_conflict_update(columns, key)
    point_columns = ("record_id", "profile_id", "version_id", "score", "status", "coverage")
    point_cols = ", ".join(qn(c) for c in point_columns)
    extra = (("changes", "json"), ("reason", "text"), ("new", "boolean"))
    with bulk.staged(HealthScore._meta.db_table, columns, rows, extra=extra) as (cursor, name):
        if inserts:
            cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name} WHERE new {conflict}")
        if upserts:
            sets = ", ".join(f"{qn(c)} = s.{qn(c)}" for c in columns if c not in key)
            cursor.execute(
                f"UPDATE {table} AS t SET {sets} FROM {name} AS s "
                "WHERE NOT s.new AND t.record_id = s.record_id AND t.profile_id = s.profile_id"
            )
            if cursor.rowcount < len(upserts):  # a row deleted since it was read
                cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name} WHERE NOT new {conflict}")
        if points:
            cursor.execute(
                f"INSERT INTO {qn(HealthScoreHistory._meta.db_table)} ({point_cols}, changes, reason, at) "
                f"SELECT {point_cols}, changes, reason, computed_at FROM {name} WHERE reason IS NOT NULL"
            )


def copy_json(text: str) -> str:
    """JSON text in COPY's text format: JSON writes control characters escaped, so only its
    backslashes need escaping (one scan instead of `bulk.copy_text`'s four)."""
    return text.replace("\\", "\\\\") if "\\" in text else text


def _staged_text(
    inserts: list[ScoreRow], upserts: list[ScoreRow], points: dict[int, tuple[str, str]], now: dt.datetime
) -> str:
    """The staged rows of `_write_scores_and_history_staged` in COPY's text format: the score row,
    its `computed_at`, its point's changes and reason (NULL without a point), and whether it is
    new."""
    stamp = now.isoformat()
    null = "\\N"
    no_point = f"{null}\t{null}"
    words: dict[str, str] = {}  # statuses and reasons: a few, each escaped once
    days: dict = {None: null}  # history days: one or a few
    lines = []
    for rows, new in ((inserts, "t"), (upserts, "f")):
        for record_id, profile_id, version_id, score, status, coverage, breakdown, day in rows:
            status_text = words.get(status)
            if status_text is None:
                status_text = words[status] = bulk.copy_text(status)
            day_text = days.get(day)
            if day_text is None:
                day_text = days[day] = day.isoformat()
            point = points.get(record_id)
            if point is None:
                point_text = no_point
            else:
                changes, why = point
                reason = words.get(why)
                if reason is None:
                    reason = words[why] = bulk.copy_text(why)
                point_text = f"{copy_json(changes)}\t{reason}"
            lines.append(
                f"{record_id}\t{profile_id}\t{version_id}\t{null if score is None else repr(score)}\t{status_text}\t"
                f"{coverage!r}\t{copy_json(breakdown)}\t{day_text}\t{stamp}\t{point_text}\t{new}"
            )
    lines.append("")
    return "\n".join(lines)


def _write_history(rows: list[PointRow], now: dt.datetime) -> None:
    stamp = bulk.db_datetime(now)
    bulk.copy_rows(HealthScoreHistory._meta.db_table, (*POINT_COLUMNS, "at"), [(*row, stamp) for row in rows])


_ALERT_COLUMNS = (
    "record_id",
    "profile_id",
    "kind",
    "signal",
    "priority",
    "title",
    "evidence",
    "user_id",
    "raised_at",
    "expires_at",
    "book_owner_id",
    "book_csm_id",
    "record_live",
)


def write_alerts(alerts: list[NewHealthAlert]) -> None:
    """Insert alerts as `bulk_create` would store them, without its per-row work (a first run
    raises many); on PostgreSQL as COPY text written for the columns."""
    if not alerts:
        return
    table = HealthAlert._meta.db_table
    if bulk.is_postgres():
        bulk.copy_rows(table, _ALERT_COLUMNS, _alerts_text(alerts))
        return
    dates: dict[dt.datetime, object] = {}
    for a in alerts:
        for value in (a.raised_at, a.expires_at):
            if value not in dates:
                dates[value] = bulk.db_datetime(value)
    rows = [
        (
            a.record_id,
            a.profile_id,
            str(a.kind),  # a TextChoices member: its value, not an enum for the driver
            a.signal,
            str(a.priority),
            str(a.title),
            json.dumps(a.evidence),  # the text JSONField stores on SQLite
            a.user_id,
            dates[a.raised_at],
            dates[a.expires_at],
            a.book_owner_id,
            a.book_csm_id,
            a.record_live,
        )
        for a in alerts
    ]
    bulk.copy_rows(table, _ALERT_COLUMNS, rows)


def _alerts_text(alerts: list[NewHealthAlert]) -> str:
    """PostgreSQL: the alerts' rows in COPY's text format (`_ALERT_COLUMNS`)."""
    null = "\\N"
    words: dict[object, str] = {None: null}  # kinds, signals, priorities, titles, ids and times repeat
    lines = []

    def word(value) -> str:
        text = words.get(value)
        if text is None:
            if value.__class__ is int:
                text = str(value)
            elif isinstance(value, dt.datetime):
                text = value.isoformat()
            else:
                text = bulk.copy_text(str(value))
            words[value] = text
        return text

    for a in alerts:
        lines.append(
            f"{a.record_id}\t{word(a.profile_id)}\t{word(a.kind)}\t{word(a.signal)}\t{word(a.priority)}\t"
            f"{word(a.title)}\t{copy_json(to_json(a.evidence))}\t{word(a.user_id)}\t{word(a.raised_at)}\t"
            f"{word(a.expires_at)}\t{word(a.book_owner_id)}\t{word(a.book_csm_id)}\t{'t' if a.record_live else 'f'}"
        )
    lines.append("")
    return "\n".join(lines)
