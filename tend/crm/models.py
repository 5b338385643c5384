"""The record engine: object types, their properties, records, associations, pipelines, history,
follows.

Companies, contacts, deals, tickets, services and custom objects are all `Record`s of an
`ObjectType`. Hot fields are real columns; every other property value lives, typed and
validated, in the `properties` JSON column (see `values.py` for the canonical forms).
"""

import re

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KeyTextTransform, KeyTransform, KeyTransformFactory, compile_json_path
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class PropertyType(models.TextChoices):
    TEXT = "text", _("Single-line text")
    LONG_TEXT = "long_text", _("Multi-line text")
    NUMBER = "number", _("Number")
    CURRENCY = "currency", _("Currency")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes / no")
    ENUMERATION = "enumeration", _("Pick one")
    MULTI_ENUMERATION = "multi_enumeration", _("Pick several")
    USER = "user", _("User")


class ObjectType(models.Model):
    """A kind of record: a built-in (companies, contacts, deals, tickets, services) or custom."""

    name = models.SlugField(_("API name"), max_length=40, unique=True)
    label_singular = models.CharField(_("singular label"), max_length=80)
    label_plural = models.CharField(_("plural label"), max_length=80)
    primary_property = models.CharField(_("primary display property"), max_length=64, default="name")
    built_in = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("object type")
        verbose_name_plural = _("object types")

    def __str__(self) -> str:
        return str(self.label_plural)


class PropertyDefinition(models.Model):
    """A typed property of an object type, stored in `Record.properties[name]`."""

    object_type = models.ForeignKey(ObjectType, on_delete=models.CASCADE, related_name="property_definitions")
    name = models.CharField(_("API name"), max_length=64)
    label = models.CharField(_("label"), max_length=120)
    type = models.CharField(_("type"), max_length=24, choices=PropertyType.choices)
    # Ordered options for enumerations: [{"value": "gold", "label": "Gold"}, …]
    options = models.JSONField(_("options"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    unique = models.BooleanField(_("unique"), default=False)
    read_only = models.BooleanField(_("read-only"), default=False)
    group = models.CharField(_("group"), max_length=80, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    built_in = models.BooleanField(default=False)
    display_order = models.IntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["object_type_id", "display_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["object_type", "name"], name="property_unique_name"),
        ]
        verbose_name = _("property")
        verbose_name_plural = _("properties")

    def __str__(self) -> str:
        return f"{self.object_type.name}.{self.name}"


class Pipeline(models.Model):
    """An ordered set of stages that records of one object type move through."""

    object_type = models.ForeignKey(ObjectType, on_delete=models.CASCADE, related_name="pipelines")
    label = models.CharField(_("label"), max_length=120)
    display_order = models.IntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["object_type_id", "display_order", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        return self.label


class Stage(models.Model):
    """A pipeline stage. Entering it may require properties; it may close the record."""

    class Outcome(models.TextChoices):
        OPEN = "", _("Open")
        WON = "won", _("Closed won")
        LOST = "lost", _("Closed lost")
        COMPLETE = "complete", _("Complete")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    label = models.CharField(_("label"), max_length=120)
    display_order = models.IntegerField(default=0)
    required_properties = models.JSONField(_("properties required to enter"), default=list, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True, default="")
    probability = models.FloatField(_("win probability"), null=True, blank=True)
    target_days = models.PositiveIntegerField(_("target days in stage"), null=True, blank=True)

    class Meta:
        ordering = ["pipeline_id", "display_order", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    def __str__(self) -> str:
        return self.label

    @property
    def is_closed(self) -> bool:
        return bool(self.outcome)


_SAFE_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


class PropertyKey(KeyTransform):
    """One property's value in `Record.properties`.

    Django binds the JSON path as a parameter on SQLite, which keeps SQLite from matching any
    expression index. Property names are validated identifiers, so here the path is written into
    the SQL (and the type list sorted, so the text is the same in every process): filters and
    sorts then use the indexes declared on Record. Other databases compile as usual.
    """

    def as_sqlite(self, compiler, connection):
        lhs, params, key_transforms = self.preprocess_lhs(compiler, connection)
        if params or not all(_SAFE_KEY.match(str(k)) for k in key_transforms):
            return super().as_sqlite(compiler, connection)
        path = f"'{compile_json_path(key_transforms)}'"
        datatypes = ",".join(repr(d) for d in sorted(connection.ops.jsonfield_datatype_values))
        sql = (
            f"(CASE WHEN JSON_TYPE({lhs}, {path}) IN ({datatypes}) "
            f"THEN JSON_TYPE({lhs}, {path}) ELSE JSON_EXTRACT({lhs}, {path}) END)"
        )
        return sql, ()


class PropertyText(KeyTextTransform):
    """One property's value as text (`->>` on PostgreSQL), for expression indexes and lookups on
    text, such as the contacts' lower-case email. On SQLite the path is written into the SQL, as
    for `PropertyKey`, so that the query matches the index."""

    def as_sqlite(self, compiler, connection):
        lhs, params, key_transforms = self.preprocess_lhs(compiler, connection)
        if params or not all(_SAFE_KEY.match(str(k)) for k in key_transforms):
            return super().as_sqlite(compiler, connection)
        return f"JSON_EXTRACT({lhs}, '{compile_json_path(key_transforms)}')", ()


class PropertyKeyFactory:
    def __init__(self, key_name: str):
        self.key_name = key_name

    def __call__(self, *args, **kwargs):
        return PropertyKey(self.key_name, *args, **kwargs)


class PropertiesField(models.JSONField):
    """The JSON column of property values; its keys compile to `PropertyKey`."""

    def get_transform(self, name):
        transform = super().get_transform(name)
        if isinstance(transform, KeyTransformFactory):
            return PropertyKeyFactory(name)
        return transform


class RecordQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False, merged_into__isnull=True)

    def of_type(self, object_type: "ObjectType"):
        return self.filter(object_type=object_type)

    def owned_by(self, user):
        return self.filter(owner=user)


class Record(models.Model):
    """One company, contact, deal, ticket, service or custom object."""

    # Not indexed alone: every composite index below starts with it.
    object_type = models.ForeignKey(ObjectType, on_delete=models.PROTECT, related_name="records", db_index=False)
    name = models.CharField(_("name"), max_length=255, default="", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_records"
    )
    pipeline = models.ForeignKey(Pipeline, null=True, blank=True, on_delete=models.PROTECT, related_name="records")
    stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="records")
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    last_activity_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_records", db_index=False
    )
    properties = PropertiesField(default=dict, blank=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["object_type", "owner", "id"], name="record_type_owner"),
            models.Index(fields=["object_type", "name"], name="record_type_name"),
            models.Index(fields=["object_type", "stage"], name="record_type_stage"),
            models.Index(fields=["object_type", "last_activity_at"], name="record_type_activity"),
            models.Index(fields=["object_type", "updated_at"], name="record_type_updated"),
            # A CSM's book of business by renewal date: "mine, renewing soon, soonest first".
            models.Index(
                F("object_type"),
                F("owner"),
                PropertyKey("renewal_date", "properties"),
                F("id"),
                name="record_owner_renewal",
                condition=Q(archived_at__isnull=True),
            ),
            models.Index(
                F("object_type"),
                PropertyKey("csm", "properties"),
                PropertyKey("renewal_date", "properties"),
                F("id"),
                name="record_csm_renewal",
                condition=Q(archived_at__isnull=True),
            ),
            # A board: a pipeline's columns in card order (counts and first cards read from the index,
            # archived_at too, so that SQLite reads no row for them); its table, newest first.
            models.Index(
                fields=["object_type", "pipeline", "stage", "stage_entered_at", "id", "archived_at"],
                name="record_board_cards",
                condition=Q(archived_at__isnull=True),
            ),
            models.Index(
                fields=["object_type", "pipeline", "created_at", "id"],
                name="record_pipeline_created",
                condition=Q(archived_at__isnull=True),
            ),
            # Contacts by email, compared case-insensitively (contact activity from the API and
            # Segment). The email alone: led by object_type, SQLite would take it for every list of
            # a type. Not partial: PostgreSQL keeps statistics of a whole index's expression only.
            models.Index(Lower(PropertyText("email", "properties")), name="record_email"),
        ]
        verbose_name = _("record")
        verbose_name_plural = _("records")

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class Association(models.Model):
    """A directed link between two records, stored once per direction, with an optional label."""

    from_record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="associations_from")
    to_record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="associations_to")
    label = models.CharField(_("label"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_record", "to_record", "label"], name="association_unique"),
            models.CheckConstraint(condition=~Q(from_record=models.F("to_record")), name="association_not_self"),
        ]
        indexes = [models.Index(fields=["to_record"], name="association_to")]

    def __str__(self) -> str:
        return f"{self.from_record_id} → {self.to_record_id} {self.label}".strip()


class ChangeSource(models.TextChoices):
    UI = "ui", _("Tend UI")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    AUTOMATION = "automation", _("Automation")
    MERGE = "merge", _("Merge")
    SYSTEM = "system", _("System")


class PropertyChange(models.Model):
    """One change of one property of one record: the property history."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="property_changes")
    property_name = models.CharField(max_length=64)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=ChangeSource.choices)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["record", "property_name", "changed_at"], name="change_record_prop")]

    def __str__(self) -> str:
        return f"{self.record_id}.{self.property_name}: {self.old_value!r} → {self.new_value!r}"


class Follow(models.Model):
    """A user follows a record (to get its activity later on the Feed)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "workspace_follow"  # moved from the workspace app with its rows (crm 0004)
        constraints = [models.UniqueConstraint(fields=["user", "record"], name="follow_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.record_id}"
