"""Custom reports: definitions validated against the source's properties, and the engine's exact
numbers — groups, breakdowns, date buckets in the viewer's zone, KPI numbers, dashboard filters,
drill filters that select exactly the counted records — in a bounded number of queries."""

import datetime as dt

import pytest

from tend.core.errors import ValidationFailed
from tend.core.policy import SYSTEM, Actor
from tend.crm.filters import compile_search
from tend.crm.models import ObjectType, Record, Stage
from tend.crm.registry import registry_for
from tend.crm.services import record_create
from tend.directory.services import user_create
from tend.engagement.kinds import KINDS
from tend.engagement.services import engagement_create
from tend.reports.definition import plan_for
from tend.reports.engine import RunContext, run
from tend.usage.models import SurveyResponse

NOW = dt.datetime(2026, 6, 15, 3, 0, tzinfo=dt.UTC)  # 12:00 in Tokyo


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def people(db):
    tokyo = user_create(
        email="yuki@example.com", full_name="Yuki Tanaka", has_service_seat=True, time_zone="Asia/Tokyo"
    )
    berlin = user_create(
        email="lena@example.com", full_name="Lena Fischer", has_service_seat=True, time_zone="Europe/Berlin"
    )
    return tokyo, berlin


@pytest.fixture
def book(frozen, people):
    """Five companies: three of Yuki's (two active, one at risk), two of Lena's (one active, one without a stage)."""
    yuki, lena = people
    companies = ObjectType.objects.get(name="companies")
    rows = [
        ("Acme", {"cs_stage": "active", "mrr": 1000, "csm": yuki.pk, "contract_start_date": "2026-01-31"}),
        ("Globex", {"cs_stage": "active", "mrr": 2500, "csm": yuki.pk, "contract_start_date": "2026-02-01"}),
        ("Initech", {"cs_stage": "at_risk", "mrr": 500, "csm": yuki.pk, "contract_start_date": "2026-02-14"}),
        ("Umbrella", {"cs_stage": "active", "mrr": 4000, "csm": lena.pk, "contract_start_date": "2026-04-02"}),
        ("Hooli", {"csm": lena.pk}),
    ]
    return {
        name: record_create(actor=SYSTEM, object_type=companies, properties={"name": name, **props})
        for name, props in rows
    }


def _run(user, source, definition, chart="bar", **ctx):
    plan = plan_for(source, definition, chart, user=user)
    from tend.core import clock

    return run(plan, RunContext(actor=Actor(user), user=user, tz=clock.user_zone(user), **ctx))


def _table(data):
    return [(c.label, *(s.values[i] for s in data.series)) for i, c in enumerate(data.categories)]


def _drilled_count(source_key, report_filters, drill, user):
    """How many records the tab would list for a drill: the report's filter AND the drill's."""
    registry = registry_for(ObjectType.objects.get(name=source_key))
    groups = (report_filters or {}).get("filterGroups") or [{"filters": []}]
    body = {"filterGroups": [{"filters": [*g["filters"], *drill]} for g in groups]}
    where = compile_search(body, registry, user=user).where
    return Record.objects.filter(object_type__name=source_key, archived_at__isnull=True).filter(where).count()


# --------------------------------------------------------------------------- validation


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("definition", "chart", "field", "code"),
    [
        (
            {"measure": {"type": "sum", "property": "name"}, "groupBy": "cs_stage"},
            "bar",
            "definition.measure.property",
            "invalid_property",
        ),
        ({"measure": {"type": "avg"}, "groupBy": "cs_stage"}, "bar", "definition.measure.property", "required"),
        ({"measure": {"type": "median", "property": "mrr"}}, "kpi", "definition.measure.type", "invalid_measure"),
        ({"groupBy": "no_such_thing"}, "bar", "definition.groupBy", "unknown_property"),
        ({"groupBy": "mrr"}, "bar", "definition.groupBy", "invalid_property"),
        (
            {"dateBucket": {"property": "cs_stage", "unit": "month"}},
            "line",
            "definition.dateBucket.property",
            "invalid_property",
        ),
        (
            {"dateBucket": {"property": "created_at", "unit": "fortnight"}},
            "line",
            "definition.dateBucket.unit",
            "invalid_unit",
        ),
        ({"groupBy": "cs_stage", "breakdown": "csm"}, "donut", "chart", "invalid"),
        ({"groupBy": "cs_stage"}, "line", "chart", "needs_date"),
        ({"groupBy": "cs_stage"}, "stacked_bar", "chart", "needs_breakdown"),
        ({"breakdown": "csm"}, "table", "definition.breakdown", "required"),
        (
            {"filters": {"filterGroups": [{"filters": [{"propertyName": "mrr", "operator": "GT", "value": "lots"}]}]}},
            "kpi",
            "definition.filters.filterGroups[0].filters[0].value",
            "invalid",
        ),
    ],
)
def test_a_definition_the_source_cannot_take_is_refused_by_field(people, definition, chart, field, code):
    with pytest.raises(ValidationFailed) as excinfo:
        plan_for("companies", definition, chart, user=people[0])
    assert (field, code) in [(e.field, e.code) for e in excinfo.value.errors]


@pytest.mark.django_db
def test_an_unknown_source_is_refused(people):
    with pytest.raises(ValidationFailed) as excinfo:
        plan_for("planets", {}, "kpi", user=people[0])
    assert [(e.field, e.code) for e in excinfo.value.errors] == [("source", "unknown_source")]


# --------------------------------------------------------------------------- numbers


@pytest.mark.django_db
def test_count_by_stage_in_the_options_order_with_no_value_last(book, people, django_assert_max_num_queries):
    # the object type, the workspace settings, the property definitions; then the one aggregate
    with django_assert_max_num_queries(4):
        data = _run(people[0], "companies", {"groupBy": "cs_stage"})
    assert _table(data) == [("Active", 3), ("At risk", 1), ("(No value)", 1)]
    assert data.value == 5
    for category, expected in zip(data.categories, (3, 1, 1), strict=True):
        assert _drilled_count("companies", {}, category.drill, people[0]) == expected


@pytest.mark.django_db
def test_sum_of_mrr_by_csm_broken_down_by_stage(book, people):
    data = _run(
        people[0],
        "companies",
        {"measure": {"type": "sum", "property": "mrr"}, "groupBy": "csm", "breakdown": "cs_stage"},
        "stacked_bar",
    )
    assert [c.label for c in data.categories] == ["Lena Fischer", "Yuki Tanaka"]
    assert [(s.label, s.values) for s in data.series] == [
        ("Active", [4000, 3500]),
        ("At risk", [0, 500]),
        ("(No value)", [0, 0]),
    ]
    assert data.series[0].format == "currency"


@pytest.mark.django_db
def test_average_min_max_and_distinct(book, people):
    user = people[0]
    assert _table(_run(user, "companies", {"measure": {"type": "avg", "property": "mrr"}, "groupBy": "csm"})) == [
        ("Lena Fischer", 4000),
        ("Yuki Tanaka", pytest.approx(4000 / 3)),
    ]
    assert _table(_run(user, "companies", {"measure": {"type": "min", "property": "mrr"}, "groupBy": "csm"}))[1] == (
        "Yuki Tanaka",
        500,
    )
    assert _table(_run(user, "companies", {"measure": {"type": "max", "property": "mrr"}, "groupBy": "csm"}))[1] == (
        "Yuki Tanaka",
        2500,
    )
    distinct = _run(user, "companies", {"measure": {"type": "distinct", "property": "cs_stage"}, "groupBy": "csm"})
    assert _table(distinct) == [("Lena Fischer", 1), ("Yuki Tanaka", 2)]


@pytest.mark.django_db
def test_a_date_bucket_fills_the_empty_months_and_drills_into_each(book, people):
    data = _run(people[0], "companies", {"dateBucket": {"property": "contract_start_date", "unit": "month"}}, "line")
    assert _table(data) == [("Jan 2026", 1), ("Feb 2026", 2), ("Mar 2026", 0), ("Apr 2026", 1), ("(No date)", 1)]
    assert [c.key for c in data.categories][:4] == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    assert [_drilled_count("companies", {}, c.drill, people[0]) for c in data.categories] == [1, 2, 0, 1, 1]


@pytest.mark.django_db
def test_datetime_buckets_are_the_viewer_s_days(people, time_machine):
    """A task due at 2026-03-31 20:00 UTC is due on 1 April in Tokyo and on 31 March in Berlin."""
    yuki, lena = people
    time_machine.move_to(NOW, tick=False)
    for due in ("2026-03-31T20:00:00Z", "2026-03-15T10:00:00Z"):
        engagement_create(actor=Actor(yuki), kind=KINDS["tasks"], properties={"subject": "Call", "due_at": due})
    definition = {"dateBucket": {"property": "due_at", "unit": "month"}}
    assert _table(_run(yuki, "tasks", definition)) == [("Mar 2026", 1), ("Apr 2026", 1)]
    assert _table(_run(lena, "tasks", definition)) == [("Mar 2026", 2)]


@pytest.mark.django_db
def test_a_group_by_date_and_property_makes_one_series_per_value(book, people):
    data = _run(
        people[0],
        "companies",
        {"groupBy": "csm", "dateBucket": {"property": "contract_start_date", "unit": "quarter"}},
        "stacked_bar",
    )
    assert [c.label for c in data.categories] == ["Q1 2026", "Q2 2026", "(No date)"]
    assert [(s.label, s.values) for s in data.series] == [("Lena Fischer", [0, 1, 1]), ("Yuki Tanaka", [3, 0, 0])]


@pytest.mark.django_db
def test_the_report_filter_and_is_me_apply_for_the_viewer(book, people):
    yuki, lena = people
    mine = {
        "filters": {"filterGroups": [{"filters": [{"propertyName": "csm", "operator": "IS_ME"}]}]},
        "groupBy": "cs_stage",
    }
    assert _table(_run(yuki, "companies", mine)) == [("Active", 2), ("At risk", 1)]
    assert _table(_run(lena, "companies", mine)) == [("Active", 1), ("(No value)", 1)]


@pytest.mark.django_db
def test_dashboard_owner_and_date_range_filters(book, people):
    yuki, lena = people
    by_stage = {"groupBy": "cs_stage"}
    assert _table(_run(yuki, "companies", by_stage, owner_ids=(lena.pk,))) == [("Active", 1), ("(No value)", 1)]
    bucketed = {"dateBucket": {"property": "contract_start_date", "unit": "month"}}
    ranged = _run(yuki, "companies", bucketed, date_range=(dt.date(2026, 2, 1), dt.date(2026, 3, 31)))
    assert _table(ranged) == [("Feb 2026", 2), ("Mar 2026", 0)]


@pytest.mark.django_db
def test_a_kpi_number_compares_with_the_previous_period(people, time_machine):
    """This month so far against the whole previous month, by the date bucket's property."""
    yuki, _lena = people
    time_machine.move_to(NOW, tick=False)
    deals = ObjectType.objects.get(name="deals")
    won = Stage.objects.get(pipeline__object_type=deals, label="Closed won")
    for name, amount, close in (
        ("A", 1000, "2026-06-02"),
        ("B", 500, "2026-06-14"),
        ("C", 3000, "2026-05-20"),
        ("D", 9, "2026-04-30"),
    ):
        record_create(
            actor=SYSTEM,
            object_type=deals,
            properties={
                "name": name,
                "amount": amount,
                "close_date": close,
                "pipeline": won.pipeline_id,
                "stage": won.pk,
            },
        )
    data = _run(
        yuki,
        "deals",
        {"measure": {"type": "sum", "property": "amount"}, "dateBucket": {"property": "close_date", "unit": "month"}},
        "kpi",
    )
    assert (data.value, data.previous) == (1500, 3000)
    assert data.extra == {"period": ["2026-06-01", "2026-06-15"], "previousPeriod": ["2026-05-01", "2026-05-31"]}


@pytest.mark.django_db
def test_nps_answers_average_by_month(people, book, time_machine):
    yuki, _lena = people
    for score, when in ((10, "2026-05-03"), (6, "2026-05-20"), (9, "2026-06-01")):
        SurveyResponse.objects.create(
            account=book["Acme"],
            score=score,
            responded_at=dt.datetime.fromisoformat(when + "T01:00:00+00:00"),
            created_at=NOW,
        )
    data = _run(
        yuki,
        "nps",
        {"measure": {"type": "avg", "property": "score"}, "dateBucket": {"property": "responded_at", "unit": "month"}},
        "line",
    )
    assert _table(data) == [("May 2026", 8), ("Jun 2026", 9)]
    by_csm = _run(yuki, "nps", {"groupBy": "account_csm"})
    assert _table(by_csm) == [("Yuki Tanaka", 3)]


@pytest.mark.django_db
def test_labels_follow_the_viewer_s_language(book, people, translated):
    from django.utils import translation

    with translation.override("de"):
        data = _run(
            people[0],
            "companies",
            {"groupBy": "cs_stage", "dateBucket": {"property": "contract_start_date", "unit": "month"}},
            "stacked_bar",
        )
    assert [c.label for c in data.categories][:2] == ["Jan. 2026", "Feb. 2026"]
    assert [s.label for s in data.series] == ["Aktiv", "Gefährdet", "(Kein Wert)"]
