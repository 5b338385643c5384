"""The property registry: every property a filter, a view, the API or a form can name.

A `PropSpec` describes one property of one kind of thing — a record property (hot column or
JSON value) or an engagement field — so that validation (values.py) and the filter language
(filters.py) work the same everywhere.
"""

import re
from dataclasses import dataclass, field

from django.db.models import JSONField, Prefetch, prefetch_related_objects
from django.db.models.fields.json import KeyTransform
from django.utils.translation import gettext_lazy as _

from .models import ObjectType, Pipeline, PropertyDefinition, PropertyType, Record, Stage

PIPELINE = "pipeline"
STAGE = "stage"

PROPERTY_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# Names that Django would read as a lookup rather than a JSON key.
RESERVED_NAMES = (
    frozenset(JSONField.get_lookups())
    | frozenset(KeyTransform.get_lookups())
    | {
        "pk",
        "id",
        "properties",
        "archived",
    }
)


@dataclass(frozen=True)
class PropSpec:
    name: str
    label: str
    type: str
    options: tuple = ()
    required: bool = False
    unique: bool = False
    read_only: bool = False
    # ORM lookup path when stored in a column (or, for a derived property, a column of a related
    # table: "relation__field"); None → properties JSON
    column: str | None = None
    group: str = ""
    description: str = ""
    built_in: bool = True
    display_order: int = 0

    @property
    def is_column(self) -> bool:
        return self.column is not None

    @property
    def is_derived(self) -> bool:
        return self.column is not None and "__" in self.column

    def as_api(self) -> dict:
        return {
            "name": self.name,
            "label": str(self.label),
            "type": self.type,
            "options": list(self.options),
            "required": self.required,
            "unique": self.unique,
            "readOnly": self.read_only,
            "group": self.group,
            "description": str(self.description),
            "builtIn": self.built_in,
            "storage": "derived" if self.is_derived else ("column" if self.is_column else "value"),
            "displayOrder": self.display_order,
        }


RECORD_COLUMN_SPECS = (
    PropSpec("name", _("Name"), PropertyType.TEXT, column="name", group="basics"),
    PropSpec("owner", _("Owner"), PropertyType.USER, column="owner_id", group="basics"),
    PropSpec("pipeline", _("Pipeline"), PIPELINE, column="pipeline_id", group="basics"),
    PropSpec("stage", _("Stage"), STAGE, column="stage_id", group="basics"),
    PropSpec(
        "created_at", _("Create date"), PropertyType.DATETIME, column="created_at", read_only=True, group="basics"
    ),
    PropSpec(
        "updated_at",
        _("Last modified date"),
        PropertyType.DATETIME,
        column="updated_at",
        read_only=True,
        group="basics",
    ),
    PropSpec(
        "last_activity_at",
        _("Last activity date"),
        PropertyType.DATETIME,
        column="last_activity_at",
        read_only=True,
        group="basics",
    ),
)
COLUMN_NAMES = frozenset(s.name for s in RECORD_COLUMN_SPECS)

# Built-in properties that another app computes and keeps in a table of its own, read through a
# reverse relation of Record: the health engine's current score and status (at most one score row
# per record). Filters and sorts join that table; nothing writes them into `properties` — a full
# recompute would otherwise rewrite every customer row (and all of crm_record's indexes) each time.
DERIVED_COLUMNS = {"health_score": "health_scores__score", "health_status": "health_scores__status"}


def derived_value(record, column: str):
    """The value of a derived property: read from the prefetched related rows (see
    `Registry.prefetch`), else loaded with one query that the record's other derived properties
    share."""
    relation, field_name = column.split("__", 1)
    if relation not in getattr(record, "_prefetched_objects_cache", {}):
        prefetch_related_objects([record], relation)
    rows = getattr(record, relation).all()
    return getattr(rows[0], field_name) if rows else None


def spec_from_definition(definition: PropertyDefinition) -> PropSpec:
    return PropSpec(
        name=definition.name,
        label=definition.label,
        type=definition.type,
        options=tuple(definition.options or ()),
        required=definition.required,
        unique=definition.unique,
        read_only=definition.read_only,
        column=DERIVED_COLUMNS.get(definition.name) if definition.built_in else None,
        group=definition.group,
        description=definition.description,
        built_in=definition.built_in,
        display_order=definition.display_order,
    )


@dataclass
class Registry:
    """The properties of one object type (or engagement kind), by name."""

    specs: dict[str, PropSpec]
    search_fields: list[str] = field(default_factory=list)
    object_type: ObjectType | None = None
    _stage_ids: set[int] | None = None
    _pipeline_ids: set[int] | None = None

    def get(self, name: str) -> PropSpec | None:
        return self.specs.get(name)

    def __iter__(self):
        return iter(self.specs.values())

    def value_specs(self) -> list[PropSpec]:
        return [s for s in self.specs.values() if not s.is_column]

    def derived_specs(self) -> list[PropSpec]:
        return [s for s in self.specs.values() if s.is_derived]

    def prefetch(self, records):
        """`records` (a Record queryset) loading the derived properties' rows along, in one query
        per relation for a whole page."""
        fields: dict[str, set[str]] = {}
        for spec in self.derived_specs():
            relation, field_name = spec.column.split("__", 1)
            fields.setdefault(relation, set()).add(field_name)
        lookups = []
        for relation, names in fields.items():
            related = Record._meta.get_field(relation)
            lookups.append(
                Prefetch(relation, queryset=related.related_model.objects.only(related.field.name, *sorted(names)))
            )
        return records.prefetch_related(*lookups) if lookups else records

    def pipeline_ids(self) -> set[int]:
        if self._pipeline_ids is None:
            self._pipeline_ids = set(Pipeline.objects.filter(object_type=self.object_type).values_list("pk", flat=True))
        return self._pipeline_ids

    def stage_ids(self) -> set[int]:
        if self._stage_ids is None:
            self._stage_ids = set(
                Stage.objects.filter(pipeline__object_type=self.object_type).values_list("pk", flat=True)
            )
        return self._stage_ids


def registry_for(object_type: ObjectType) -> Registry:
    """Hot columns first, then the object type's live (not archived) property definitions."""
    specs = {s.name: s for s in RECORD_COLUMN_SPECS}
    definitions = PropertyDefinition.objects.filter(object_type=object_type, archived_at__isnull=True)
    for definition in definitions:
        specs[definition.name] = spec_from_definition(definition)
    search = ["name"] + [n for n, s in specs.items() if s.type == PropertyType.TEXT and not s.is_column]
    return Registry(specs=specs, search_fields=search, object_type=object_type)
