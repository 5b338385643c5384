"""Model fields shared by the apps."""

from django.db import models


class JSONTextField(models.JSONField):
    """A JSONField for documents the application writes and reads whole and never queries inside
    (a health breakdown, a history point's changes): on PostgreSQL the `json` type — the text as
    written, validated — instead of `jsonb`. A nightly recompute writes and reads one per account:
    jsonb parses each into its binary form on the way in and prints it back on the way out, about
    half the cost of writing the row, for operators and indexes these documents never use. The
    text also reads back exactly as written, so an unchanged document is recognised by its text.
    Other databases store JSON as text already: nothing changes there.

    The driver returns `json` values as text (`core.apps` registers the loader), and the field
    decodes them, as Django does for jsonb."""

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        adapted = super().get_db_prep_value(value, connection, prepared)
        if connection.vendor == "postgresql":
            from psycopg.types.json import Json, Jsonb  # only on PostgreSQL, as in bulk.cursor

            if isinstance(adapted, Jsonb):  # sent as json: a jsonb parameter would be parsed, then printed
                return Json(adapted.obj, dumps=adapted.dumps)
        return adapted
