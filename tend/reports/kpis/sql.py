"""The few pieces of the KPIs' hand-written SQL that SQLite and PostgreSQL spell differently:
reading a JSON value as text or as a number, GREATEST/LEAST, datetime parameters, and the index
of the period an instant falls in. Every value reaches the SQL as a parameter."""

import datetime as dt
from collections.abc import Sequence

from django.db import connection, transaction


class Sql:
    """SQL snippets for the current connection's database."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"

    def text(self, column: str) -> str:
        """A JSON column holding one value (a history row's old or new value), as text."""
        return f"({column} #>> '{{}}')" if self.postgres else f"CAST(json_extract({column}, '$') AS TEXT)"

    def number(self, column: str) -> str:
        return f"CAST({column} #>> '{{}}' AS double precision)" if self.postgres else f"json_extract({column}, '$')"

    def property_text(self, column: str, name: str) -> tuple[str, list]:
        """One key of a record's `properties`, as text."""
        if self.postgres:
            return f"({column} ->> %s)", [name]
        return f"CAST(json_extract({column}, %s) AS TEXT)", [f"$.{name}"]

    def property_number(self, column: str, name: str) -> tuple[str, list]:
        if self.postgres:
            return f"CAST({column} ->> %s AS double precision)", [name]
        return f"json_extract({column}, %s)", [f"$.{name}"]

    def property_instant(self, column: str, name: str) -> tuple[str, list]:
        """One key of a record's `properties` holding an ISO datetime, as the database compares
        instants (SQLite: UTC text)."""
        if self.postgres:
            return f"CAST({column} ->> %s AS timestamptz)", [name]
        return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', json_extract({column}, %s))", [f"$.{name}"]

    def property_date(self, column: str, name: str) -> tuple[str, list]:
        """One key of a record's `properties` holding an ISO date, as a date."""
        if self.postgres:
            return f"CAST({column} ->> %s AS date)", [name]
        return f"date(json_extract({column}, %s))", [f"$.{name}"]

    def days_between(self, later: str, earlier: str) -> str:
        """Days from one date to another (a number)."""
        return f"({later} - {earlier})" if self.postgres else f"(julianday({later}) - julianday({earlier}))"

    def day(self, value: dt.date):
        """A date parameter as the database compares it."""
        return connection.ops.adapt_datefield_value(value)

    def index_of_day(self, expression: str, days: Sequence[dt.date]) -> tuple[str, list]:
        """index_of for a date expression and days as bounds."""
        whens = " ".join(f"WHEN {expression} < %s THEN {k - 1}" for k in range(len(days)))
        return f"(CASE {whens} ELSE {len(days) - 1} END)", [self.day(d) for d in days]

    def json_param(self) -> str:
        """A placeholder for a JSON value compared with a JSON column (the parameter: json.dumps)."""
        return "CAST(%s AS jsonb)" if self.postgres else "%s"

    def hours_between(self, later: str, earlier: str) -> str:
        if self.postgres:
            return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0)"
        return f"((julianday({later}) - julianday({earlier})) * 24.0)"

    def greatest(self, *expressions: str) -> str:
        if len(expressions) == 1:
            return expressions[0]
        return f"{'GREATEST' if self.postgres else 'MAX'}({', '.join(expressions)})"

    def least(self, *expressions: str) -> str:
        if len(expressions) == 1:
            return expressions[0]
        return f"{'LEAST' if self.postgres else 'MIN'}({', '.join(expressions)})"

    def instant(self, value: dt.datetime):
        """A datetime parameter as the database compares it (SQLite: UTC text)."""
        return connection.ops.adapt_datetimefield_value(value)

    def index_of(self, expression: str, bounds: Sequence[dt.datetime]) -> tuple[str, list]:
        """How many of `bounds` are at or before the (non-null) instant, minus one: -1 before the
        first bound, k inside period k, n at or after the last of the n + 1 bounds."""
        whens = " ".join(f"WHEN {expression} < %s THEN {k - 1}" for k in range(len(bounds)))
        return f"(CASE {whens} ELSE {len(bounds) - 1} END)", [self.instant(b) for b in bounds]


def fetch(query: str, params: list) -> list[tuple]:
    """Run one of the KPIs' queries. PostgreSQL runs it without JIT compilation (the estimates
    over common table expressions, which have no statistics, are high enough to trigger it, and
    compiling costs more than the query) and with room to sort and hash in memory."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
        cursor.execute(query, params)
        return cursor.fetchall()
