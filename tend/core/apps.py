from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _json_as_text(sender, connection, **kwargs) -> None:
    """PostgreSQL: `json` values come back as their text, as Django has jsonb's come back
    (`JSONTextField` decodes them; raw reads can compare the text)."""
    if connection.vendor == "postgresql":
        from psycopg.types.string import TextLoader  # only on PostgreSQL, as in bulk.cursor

        connection.connection.adapters.register_loader("json", TextLoader)


class CoreConfig(AppConfig):
    name = "tend.core"
    label = "core"

    def ready(self) -> None:
        connection_created.connect(_json_as_text, dispatch_uid="tend.core.json_as_text")
