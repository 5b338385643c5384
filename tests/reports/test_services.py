"""Writes of reports, dashboards, the Dashboards tab and the Summary's reports: what each allows,

what it refuses (by field, changing nothing), and the orders it keeps."""

import pytest

from tend.core.errors import Forbidden, ValidationFailed
from tend.core.policy import Actor
from tend.directory.models import Team
from tend.directory.services import user_create
from tend.reports import queries, services
from tend.reports.models import Dashboard, DashboardItem, Report, SummaryReport, TabDashboard

BY_STAGE = {"groupBy": "cs_stage"}
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_built_ins")]


@pytest.fixture
def people(db):
    manager = user_create(
        email="mia@example.com", full_name="Mia Manager", has_service_seat=True, manage_cs_settings=True
    )
    yuki = user_create(email="yuki@example.com", full_name="Yuki Tanaka", has_service_seat=True)
    outsider = user_create(email="otto@example.com", full_name="Otto Outside", has_service_seat=True)
    east = Team.objects.create(name="East")
    east.members.add(yuki)
    west = Team.objects.create(name="West")
    west.members.add(outsider)
    return manager, yuki, outsider, east, west


def _report(actor, name="Stages", **kw):
    return services.report_create(actor=actor, name=name, source="companies", definition=BY_STAGE, chart="bar", **kw)


def _tab(user):
    """The tab's dashboards for `user` besides the built-in KPI dashboard (installed for everyone)."""
    return [e.dashboard.name for e in queries.tab_dashboards(Actor(user), user) if not e.dashboard.built_in]


def _fields(excinfo):
    return [(e.field, e.code) for e in excinfo.value.errors]


def test_a_report_is_saved_with_its_normalised_definition(people):
    manager, *_ = people
    report = _report(Actor(manager), description="By stage")
    assert (report.name, report.source, report.chart, report.access, report.owner_id) == (
        "Stages",
        "companies",
        "bar",
        "private",
        manager.pk,
    )
    assert report.definition == {
        "filters": {},
        "measure": {"type": "count", "property": None},
        "groupBy": "cs_stage",
        "dateBucket": None,
        "breakdown": None,
    }


def test_a_bad_report_names_every_field_and_saves_nothing(people):
    manager, *_ = people
    before = Report.objects.count()
    with pytest.raises(ValidationFailed) as excinfo:
        services.report_create(
            actor=Actor(manager),
            name=" ",
            source="companies",
            definition={"measure": {"type": "sum", "property": "name"}, "groupBy": "nope"},
            chart="bar",
        )
    assert _fields(excinfo) == [
        ("name", "required"),
        ("definition.measure.property", "invalid_property"),
        ("definition.groupBy", "unknown_property"),
    ]
    assert Report.objects.count() == before


def test_sharing_needs_the_settings_permission_and_existing_teams(people):
    manager, yuki, _outsider, east, _west = people
    with pytest.raises(ValidationFailed) as excinfo:
        _report(Actor(yuki), access="everyone")
    assert _fields(excinfo) == [("access", "forbidden")]
    with pytest.raises(ValidationFailed) as excinfo:
        _report(Actor(manager), access="teams", team_ids=[east.pk, 999999])
    assert _fields(excinfo) == [("teams", "required")]
    shared = _report(Actor(manager), access="teams", team_ids=[east.pk])
    assert shared.team_ids == [east.pk]


def test_who_sees_a_report_shared_with_a_team(people):
    manager, yuki, outsider, east, _west = people
    shared = _report(Actor(manager), access="teams", team_ids=[east.pk])
    private = _report(Actor(manager), name="Mine only")
    for user, expected in ((manager, {shared.pk, private.pk}), (yuki, {shared.pk}), (outsider, set())):
        seen = set(queries.reports_for(Actor(user), user).filter(built_in=False).values_list("pk", flat=True))
        assert seen == expected, user.email


def test_only_its_owner_changes_a_private_report_and_shared_ones_need_settings(people):
    manager, yuki, *_ = people
    mine = _report(Actor(yuki))
    services.report_update(actor=Actor(yuki), report=mine, changes={"name": "Renamed", "chart": "donut"})
    mine.refresh_from_db()
    assert (mine.name, mine.chart) == ("Renamed", "donut")
    with pytest.raises(Forbidden):
        services.report_update(actor=Actor(manager), report=mine, changes={"name": "Taken"})
    shared = _report(Actor(manager), access="everyone")
    with pytest.raises(Forbidden):
        services.report_archive(actor=Actor(yuki), report=shared)
    services.report_archive(actor=Actor(manager), report=shared)
    assert not queries.reports_for(Actor(yuki), yuki).filter(pk=shared.pk).exists()


def test_a_refused_update_changes_nothing(people):
    _manager, yuki, *_ = people
    mine = _report(Actor(yuki))
    with pytest.raises(ValidationFailed) as excinfo:
        services.report_update(actor=Actor(yuki), report=mine, changes={"name": "New", "chart": "line"})
    assert _fields(excinfo) == [("chart", "needs_date")]
    mine.refresh_from_db()
    assert (mine.name, mine.chart) == ("Stages", "bar")


def test_a_dashboard_keeps_its_reports_in_order_and_size(people):
    manager, *_ = people
    actor = Actor(manager)
    board = services.dashboard_create(actor=actor, name="Team", filters={"dateRange": "last_6_months"})
    first, second, third = (_report(actor, name=n) for n in ("One", "Two", "Three"))
    items = [services.dashboard_add_report(actor=actor, dashboard=board, report=r) for r in (first, second, third)]
    services.dashboard_resize_item(actor=actor, item=items[1], width=12, height=2)
    services.dashboard_reorder(actor=actor, dashboard=board, item_ids=[items[2].pk, items[0].pk, items[1].pk])
    services.dashboard_remove_item(actor=actor, item=items[0])
    assert [(i.report.name, i.position, i.width, i.height) for i in queries.dashboard_items(board)] == [
        ("Three", 0, 6, 1),
        ("Two", 2, 12, 2),
    ]
    with pytest.raises(ValidationFailed) as excinfo:
        services.dashboard_resize_item(actor=actor, item=items[1], width=5, height=3)
    assert _fields(excinfo) == [("width", "invalid"), ("height", "invalid")]
    with pytest.raises(ValidationFailed):
        services.dashboard_reorder(actor=actor, dashboard=board, item_ids=[items[2].pk])
    with pytest.raises(ValidationFailed) as excinfo:
        services.dashboard_create(actor=actor, name="Bad", filters={"dateRange": "someday", "owner": 999999})
    assert _fields(excinfo) == [("filters.dateRange", "invalid"), ("filters.owner", "invalid")]


def test_the_tab_adds_a_dashboard_for_a_team_only_when_confirmed(people):
    manager, yuki, outsider, east, _west = people
    board = services.dashboard_create(actor=Actor(manager), name="East KPIs")
    with pytest.raises(ValidationFailed) as excinfo:
        services.tab_dashboard_add(actor=Actor(manager), dashboard=board, access="teams", team_ids=[east.pk])
    assert _fields(excinfo) == [("confirm", "required")]
    assert TabDashboard.objects.count() == 0
    with pytest.raises(Forbidden):
        services.tab_dashboard_add(actor=Actor(yuki), dashboard=board, access="everyone", confirmed=True)
    services.tab_dashboard_add(
        actor=Actor(manager), dashboard=board, access="teams", team_ids=[east.pk], confirmed=True
    )
    assert _tab(yuki) == ["East KPIs"]
    assert _tab(outsider) == []
    # On the tab for East: its members may open it though it is private to the manager.
    assert queries.get_dashboard_for_user(Actor(yuki), yuki, board.pk) == board
    with pytest.raises(Exception) as excinfo:
        queries.get_dashboard_for_user(Actor(outsider), outsider, board.pk)
    assert type(excinfo.value).__name__ == "NotFound"
    with pytest.raises(ValidationFailed) as excinfo:
        services.tab_dashboard_add(actor=Actor(manager), dashboard=board, access="everyone", confirmed=True)
    assert _fields(excinfo) == [("dashboard", "duplicate")]


def test_the_tab_order_and_removal(people):
    manager, *_ = people
    actor = Actor(manager)
    TabDashboard.objects.all().delete()  # without the built-in one, the order below is the whole tab
    entries = [
        services.tab_dashboard_add(
            actor=actor, dashboard=services.dashboard_create(actor=actor, name=n), access="everyone", confirmed=True
        )
        for n in ("A", "B", "C")
    ]
    services.tab_dashboards_reorder(actor=actor, entry_ids=[entries[2].pk, entries[0].pk, entries[1].pk])
    services.tab_dashboard_remove(actor=actor, entry=entries[0])
    assert _tab(manager) == ["C", "B"]
    assert Dashboard.objects.filter(name="A").exists()  # off the tab, not deleted


def test_the_summary_holds_five_reports_in_the_user_s_order(people):
    manager, yuki, *_ = people
    shared = [_report(Actor(manager), name=f"R{i}", access="everyone") for i in range(6)]
    for report in shared[:5]:
        services.summary_report_add(actor=Actor(yuki), report=report)
    with pytest.raises(ValidationFailed) as excinfo:
        services.summary_report_add(actor=Actor(yuki), report=shared[5])
    assert _fields(excinfo) == [("report", "too_many")]
    with pytest.raises(ValidationFailed) as excinfo:
        services.summary_report_add(actor=Actor(yuki), report=shared[0])
    assert _fields(excinfo) == [("report", "duplicate")]
    services.summary_reports_reorder(actor=Actor(yuki), report_ids=[r.pk for r in reversed(shared[:5])])
    services.summary_report_remove(actor=Actor(yuki), report=shared[2])
    assert [r.name for r in queries.summary_reports(yuki)] == ["R4", "R3", "R1", "R0"]
    private = _report(Actor(manager), name="Private")
    with pytest.raises(Forbidden):
        services.summary_report_add(actor=Actor(yuki), report=private)
    # A report that stops being shared leaves the Summary without an error.
    services.report_update(actor=Actor(manager), report=shared[4], changes={"access": "private"})
    assert [r.name for r in queries.summary_reports(yuki)] == ["R3", "R1", "R0"]
    assert SummaryReport.objects.filter(user=yuki).count() == 4
    assert DashboardItem.objects.count() == 0
