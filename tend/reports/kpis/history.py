"""The value of a customer's property as of the instants that bound a KPI's periods, read from
the property history in the database (crm.PropertyChange) as SQL common table expressions.

A value as of instant T is the new_value of the record's last change before T; before its first
change, the old_value of that change; without any change, its current value. A KPI reads only
the changes from its first bound on (the history before it can be millions of rows): before a
record's first change since then, its value is that change's old_value — the value it replaced,
which `records_write` records in the same transaction as the change before it.

Each property becomes "boundary steps": per customer, rows (record_id, f, l, v, nxt, hit) saying
that the value was `v` at every bound f…l, that a change during period l (between bound l and
l + 1) left `nxt` (the value at bound l + 1), and whether one of that period's changes set the
property to the value watched (`hit`, e.g. "churned"). A period without a change does not split
a step, so a customer has a step per period in which the property changed, plus one."""

from dataclasses import dataclass, field

from .calendar import Periods
from .sql import Sql


@dataclass
class With:
    """A WITH clause under construction: common table expressions with their parameters, in order."""

    sql: Sql
    periods: Periods
    object_type_id: int
    parts: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)

    def add(self, name: str, body: str, params: list) -> None:
        self.parts.append(f"{name} AS ({body})")
        self.params.extend(params)

    def query(self, select: str, params: list | None = None) -> tuple[str, list]:
        return f"WITH {', '.join(self.parts)} {select}", [*self.params, *(params or [])]

    @property
    def n(self) -> int:
        return len(self.periods)


def customers(w: With, *, texts: dict[str, str], numbers: dict[str, str]) -> None:
    """`cust`: the customers (not archived) with `e`, the first bound at which the record existed,
    and the current value of each property (`cur_<alias>`; `texts` and `numbers` map alias → property)."""
    created, params = w.sql.index_of("r.created_at", w.periods.bounds)
    columns = [f"{created} + 1 AS e"]
    for alias, name in texts.items():
        expression, more = w.sql.property_text("r.properties", name)
        columns.append(f"{expression} AS cur_{alias}")
        params += more
    for alias, name in numbers.items():
        expression, more = w.sql.property_number("r.properties", name)
        columns.append(f"{expression} AS cur_{alias}")
        params += more
    body = f"SELECT r.id, {', '.join(columns)} FROM crm_record r WHERE r.object_type_id = %s AND r.archived_at IS NULL"
    w.add("cust", body, [*params, w.object_type_id])


def steps(w: With, alias: str, name: str, *, number: bool = False, hit: str | None = None) -> None:
    """`<alias>`: the boundary steps of property `name` of the customers of `cust` (which must
    carry `cur_<alias>`), text values unless `number`; `hit` is the value watched."""
    value = w.sql.number if number else w.sql.text
    index, params = w.sql.index_of("c.changed_at", w.periods.bounds)
    w.add(
        f"{alias}_w",
        f"SELECT c.record_id, c.changed_at, c.id, {index} AS k, {value('c.old_value')} AS ov, "
        f"{value('c.new_value')} AS nv FROM crm_propertychange c JOIN crm_record r ON r.id = c.record_id "
        "WHERE c.property_name = %s AND c.changed_at >= %s AND r.object_type_id = %s AND r.archived_at IS NULL",
        [*params, name, w.sql.instant(w.periods.bounds[0]), w.object_type_id],
    )
    # One pass over each record's changes in order: the bound before each change and the
    # period of the next change to the watched value (the step a change ends is watched when the
    # change, or one after it in the same period, sets that value).
    hit_sql, hit_params = (
        ("MIN(CASE WHEN nv = %s THEN k END) OVER (w ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)", [hit])
        if hit
        else ("CAST(NULL AS integer)", [])
    )
    first_hit = "CASE WHEN nv = %s THEN k ELSE next_hit END" if hit else "next_hit"
    w.add(
        f"{alias}_g",
        f"SELECT record_id, k, ov, nv, LAG(k) OVER w AS prev_k, LEAD(k) OVER w AS next_k, {hit_sql} AS next_hit "
        f"FROM {alias}_w WINDOW w AS (PARTITION BY record_id ORDER BY changed_at, id)",
        hit_params,
    )
    n = w.n
    w.add(
        alias,
        f"SELECT record_id, k + 1 AS f, COALESCE(next_k, {n}) AS l, nv AS v, "
        f"CASE WHEN next_hit = next_k THEN 1 ELSE 0 END AS hit FROM {alias}_g WHERE k < COALESCE(next_k, {n}) "
        f"UNION ALL SELECT record_id, 0, k, ov, CASE WHEN {first_hit} = k THEN 1 ELSE 0 END FROM {alias}_g "
        "WHERE prev_k IS NULL "
        f"UNION ALL SELECT id, 0, {n}, cur_{alias}, 0 FROM cust WHERE id NOT IN (SELECT record_id FROM {alias}_w)",
        [hit] if hit else [],
    )
