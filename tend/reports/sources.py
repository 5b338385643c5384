"""What a report can be about: every object type of the record engine, tasks, meetings and NPS
answers. Each source gives its properties (one registry, so the one filter language applies), the
rows an actor may see, the user property that dashboards' owner / team filters narrow, and the
date property a dashboard's date range applies to when the report buckets by none."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tend.core import policy
from tend.core.errors import ValidationFailed
from tend.core.policy import Actor
from tend.crm.models import ObjectType
from tend.crm.models import PropertyType as T
from tend.crm.queries import records_for
from tend.crm.registry import PropSpec, Registry, registry_for
from tend.cs_settings.models import WorkspaceSettings
from tend.cs_settings.queries import workspace_settings
from tend.engagement.kinds import KINDS
from tend.engagement.models import Meeting, Task
from tend.usage.models import SurveyResponse

NPS = "nps"
ENGAGEMENT_SOURCES = ("tasks", "meetings")


@dataclass(frozen=True)
class Source:
    key: str
    label: str | Promise
    registry: Registry
    rows: Callable[[Actor], QuerySet]
    owner_property: str  # the user property a dashboard's owner / team filter applies to
    date_property: str  # what a dashboard's date range applies to by default
    object_type: ObjectType | None = None


def _nps_registry(csm_property: str) -> Registry:
    specs = (
        PropSpec("score", _("Score"), T.NUMBER, column="score"),
        PropSpec("survey", _("Survey"), T.TEXT, column="survey"),
        PropSpec("comment", _("Comment"), T.LONG_TEXT, column="comment"),
        PropSpec("responded_at", _("Answered"), T.DATETIME, column="responded_at"),
        # The account's CSM, read through the answer's account.
        PropSpec("account_csm", _("Account CSM"), T.USER, column=f"account__properties__{csm_property}"),
    )
    return Registry(specs={s.name: s for s in specs}, search_fields=["comment"])


def _csm_property(ws: WorkspaceSettings, object_type: ObjectType) -> str | None:
    if object_type.pk == ws.customer_object_type_id:
        return ws.customer_csm_property
    if object_type.pk == ws.services_object_type_id:
        return ws.services_csm_property or None
    for revenue in ws.revenue_objects or []:
        if revenue.get("objectType") == object_type.name:
            return revenue.get("csmProperty") or None
    return None


def _engagements(model) -> Callable[[Actor], QuerySet]:
    def rows(actor: Actor) -> QuerySet:
        policy.require(actor, policy.Action.USE_WORKSPACE)
        return model.objects.filter(archived_at__isnull=True)

    return rows


def _nps_rows(actor: Actor) -> QuerySet:
    policy.require(actor, policy.Action.USE_WORKSPACE)
    return SurveyResponse.objects.all()


def _record_rows(object_type: ObjectType) -> Callable[[Actor], QuerySet]:
    return lambda actor: records_for(actor, object_type)


def record_source(object_type: ObjectType, ws: WorkspaceSettings | None = None) -> Source:
    registry = registry_for(object_type)
    csm = _csm_property(ws or workspace_settings(), object_type)
    owner = csm if csm and registry.get(csm) is not None else "owner"
    return Source(
        key=object_type.name,
        label=object_type.label_plural,
        registry=registry,
        rows=_record_rows(object_type),
        owner_property=owner,
        date_property="created_at",
        object_type=object_type,
    )


def get_source(key: str) -> Source:
    """The source named `key`; ValidationFailed on `source` for an unknown one."""
    if key in ENGAGEMENT_SOURCES:
        kind = KINDS[key]
        model = {"tasks": Task, "meetings": Meeting}[key]
        return Source(
            key=key,
            label=_("Tasks") if key == "tasks" else _("Meetings"),
            registry=kind.registry(),
            rows=_engagements(model),
            owner_property=kind.owner_property,
            date_property=kind.time_property,
        )
    if key == NPS:
        return Source(
            key=NPS,
            label=_("NPS responses"),
            registry=_nps_registry(workspace_settings().customer_csm_property),
            rows=_nps_rows,
            owner_property="account_csm",
            date_property="responded_at",
        )
    object_type = ObjectType.objects.filter(name=key).first() if isinstance(key, str) else None
    if object_type is None:
        raise ValidationFailed.single("source", _("Unknown data source %(name)s.") % {"name": key}, "unknown_source")
    return record_source(object_type)


def source_choices() -> list[tuple[str, str]]:
    """(key, label) of every source, customers' object first as the builder lists them."""
    ws = workspace_settings()
    types = sorted(ObjectType.objects.all(), key=lambda t: (t.pk != ws.customer_object_type_id, t.pk))
    return [
        *((t.name, str(_(t.label_plural))) for t in types),
        ("tasks", str(_("Tasks"))),
        ("meetings", str(_("Meetings"))),
        (NPS, str(_("NPS responses"))),
    ]
