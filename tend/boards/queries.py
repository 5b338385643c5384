"""Reads of the Services and Revenue tabs: which board a tab shows, its records, its columns."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Aggregate, Count, F, FloatField, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Cast, RowNumber

from tend.core import clock
from tend.core.errors import NotFound
from tend.core.policy import Actor
from tend.crm.filters import compile_search
from tend.crm.models import ObjectType, Pipeline, PropertyKey, Record, Stage
from tend.crm.queries import records_for
from tend.crm.registry import Registry, registry_for
from tend.cs_settings.models import WorkspaceSettings
from tend.directory.models import User
from tend.workspace.queries import with_extra_filters

CARDS_PER_PAGE = 20
AMOUNT = "amount"


@dataclass
class BoardConfig:
    """What one tab works on: an object type, its CSM and renewal properties, its pipelines."""

    tab: str  # "services" or "revenue-<object type name>"; also the SavedView.tab
    kind: str  # "services" or "revenue"
    object_type: ObjectType
    csm_property: str
    renewal_property: str
    pipeline_ids: list[int]  # chosen in the settings; empty = all
    default_pipeline_id: int | None

    def pipelines(self) -> list[Pipeline]:
        pipelines = Pipeline.objects.filter(object_type=self.object_type, archived_at__isnull=True)
        if self.pipeline_ids:
            pipelines = pipelines.filter(pk__in=self.pipeline_ids)
        return list(pipelines.order_by("display_order", "id"))

    def pipeline(self, requested: str | int | None, pipelines: list[Pipeline] | None = None) -> Pipeline | None:
        """The pipeline asked for if it is one of this board's, else the default, else the first."""
        pipelines = self.pipelines() if pipelines is None else pipelines
        by_id = {p.pk: p for p in pipelines}
        try:
            wanted = int(requested) if requested is not None else None
        except ValueError:
            wanted = None
        chosen = by_id.get(wanted) if wanted is not None else None
        default = by_id.get(self.default_pipeline_id) if self.default_pipeline_id is not None else None
        return chosen or default or (pipelines[0] if pipelines else None)


def services_board(ws: WorkspaceSettings) -> BoardConfig | None:
    if ws.services_object_type is None:
        return None
    return BoardConfig(
        tab="services",
        kind="services",
        object_type=ws.services_object_type,
        csm_property=ws.services_csm_property,
        renewal_property=ws.services_renewal_property,
        pipeline_ids=[int(i) for i in ws.services_pipelines or []],
        default_pipeline_id=ws.services_default_pipeline_id,
    )


def revenue_boards(ws: WorkspaceSettings) -> list[BoardConfig]:
    """The revenue objects from the settings (at most two), in the order chosen there."""
    entries = [e for e in ws.revenue_objects or [] if isinstance(e, dict)][:2]
    types = {o.name: o for o in ObjectType.objects.filter(name__in=[e.get("objectType") for e in entries])}
    boards = []
    for entry in entries:
        name = entry.get("objectType")
        object_type = types.get(name) if isinstance(name, str) else None
        if object_type is None:
            continue
        boards.append(
            BoardConfig(
                tab=f"revenue-{object_type.name}",
                kind="revenue",
                object_type=object_type,
                csm_property=entry.get("csmProperty") or "",
                renewal_property=entry.get("renewalProperty") or "",
                pipeline_ids=[int(i) for i in entry.get("pipelines") or []],
                default_pipeline_id=entry.get("defaultPipeline"),
            )
        )
    return boards


def board_for_tab(ws: WorkspaceSettings, tab: str) -> BoardConfig:
    """The board behind a tab key, or NotFound (a stale URL after the settings changed)."""
    boards = [services_board(ws), *revenue_boards(ws)]
    for board in boards:
        if board is not None and board.tab == tab:
            return board
    raise NotFound("No such board.")


def board_records(
    *, actor: Actor, viewed_user: User, board: BoardConfig, pipeline: Pipeline, body: dict[str, Any], extra: list[dict[str, Any]]
) -> tuple[Registry, QuerySet[Record]]:
    """Records of the board's pipeline that match the filter body (the one filter language)."""
    registry = registry_for(board.object_type)
    compiled = compile_search(
        {**with_extra_filters(dict(body or {}), extra), "sorts": body.get("sorts", [])},
        registry,
        user=viewed_user,
        tz=clock.user_zone(viewed_user),
    )
    records = compiled.apply(records_for(actor, board.object_type)).filter(pipeline=pipeline)
    return registry, records


def has_amount(registry: Registry) -> bool:
    spec = registry.get(AMOUNT)
    return spec is not None and spec.type in ("number", "currency")


def stage_totals(records: QuerySet[Record], registry: Registry) -> dict[int, Mapping[str, Any]]:
    """Count and amount total per stage, in one grouped query."""
    aggregates: dict[str, Aggregate] = {"n": Count("pk")}
    if has_amount(registry):
        aggregates["total"] = Sum(Cast(PropertyKey(AMOUNT, "properties"), FloatField()))
    rows = records.order_by().values("stage_id").annotate(**aggregates)
    return {row["stage_id"]: row for row in rows}


CARD_ORDER = (F("stage_entered_at").asc(nulls_last=True), F("pk").asc())


def card_order(records: QuerySet[Record]) -> tuple[Any, ...]:
    """The order of cards in a column: the view's sort when it has one (`board_records` applies
    it, always ending with the id), else longest in the stage first."""
    order = tuple(records.query.order_by)
    if not order or order == ("id",):
        return CARD_ORDER
    return order


def stage_cards(
    records: QuerySet[Record], stage: Stage, *, offset: int, limit: int = CARDS_PER_PAGE
) -> tuple[list[Record], bool]:
    """One page of a column's cards, in `card_order`; whether more follow."""
    page = list(records.filter(stage=stage).order_by(*card_order(records))[offset : offset + limit + 1])
    return page[:limit], len(page) > limit


def first_pages(
    records: QuerySet[Record], stages: list[Stage], *, limit: int = CARDS_PER_PAGE
) -> dict[int, tuple[list[Record], bool]]:
    """The first page of every column in one query (a row number per stage), so that the number of
    queries depends neither on the records nor on the stages."""
    # Rank narrow rows (no JSON) first, then load only the chosen records.
    order = card_order(records)
    ranked = (
        records.filter(stage__in=stages)
        .order_by()
        .annotate(position=Window(RowNumber(), partition_by=[F("stage_id")], order_by=list(order)))
        .filter(position__lte=limit + 1)
        .values("pk")
    )
    chosen = Record.objects.filter(pk__in=Subquery(ranked)).order_by("stage_id", *order)
    pages: dict[int, list[Record]] = {s.pk: [] for s in stages}
    for record in chosen:
        if record.stage_id is not None:  # chosen among the stages
            pages[record.stage_id].append(record)
    return {pk: (page[:limit], len(page) > limit) for pk, page in pages.items()}
