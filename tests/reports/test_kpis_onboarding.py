"""Onboarding: completion within the pipeline's target by month of start, and days to complete by
month of completion — from the stage history, start dates or creation, open services not yet
counted, the viewer's zone, the service's own CSM, bounded queries."""

import pytest

from tend.core.policy import SYSTEM
from tend.crm.models import Stage
from tend.crm.services import record_archive
from tend.reports.kpis import onboarding

from .conftest import TOKYO, at, create, scope, stage, update

pytestmark = pytest.mark.django_db
QUERIES = 5  # the settings row, the pipelines and their stages, the services' aggregate (+ a reserve)


def service(name: str, *, created: str, csm, start_date: str | None = None, pipeline: str = "Onboarding"):
    first = stage(pipeline, "Kickoff prep" if pipeline == "Onboarding" else "Scheduled")
    extra = {"start_date": start_date} if start_date else {}
    return create("services", at(created), name=name, stage=first.pk, csm=csm.pk, **extra)


def complete(record, when: str) -> None:
    update(record, at(when), stage=stage("Onboarding", "Onboarding complete").pk, goal_status="achieved")


@pytest.fixture
def onboardings(csms):
    ann, ben = csms
    s1 = service("S1", created="2026-01-05", start_date="2026-01-10", csm=ann)
    complete(s1, "2026-02-20")  # 41 days: within the 59 of the stages before "complete"
    s2 = service("S2", created="2026-01-05", start_date="2026-01-20", csm=ben)
    complete(s2, "2026-04-10")  # 80 days: late
    service("S3", created="2026-01-05", start_date="2026-01-25", csm=ben)  # open, past its target
    s4 = service("S4", created="2026-02-03", csm=ben)  # no start date: created then
    complete(s4, "2026-03-05")  # 30 days
    service("S5", created="2026-04-20", start_date="2026-05-01", csm=ben)  # open, within its target
    s7 = service("S7", created="2026-03-01", start_date="2026-03-01", csm=ben)
    complete(s7, "2026-04-29")  # 59 days: on the last day
    service("Elsewhere", created="2026-01-05", start_date="2026-01-10", csm=ann, pipeline="Maintenance")


def test_completion_within_target_by_month_of_start(onboardings, now):
    data = onboarding.completion(scope("2026-01-01", "2026-06-15"))

    assert data.extra == {"in_time": [1, 1, 1, 0, 0, 0], "counted": [3, 1, 1, 0, 0, 0], "pending": 1, "target_days": 59}
    assert data.series[0].values == [1 / 3, 1.0, 1.0, None, None, None]
    assert (data.value, data.value_format, data.chart) == (0.6, "percent", "bar")
    assert data.notes == ["1 service still open within its target is not counted yet."]


def test_days_to_complete_by_month_of_completion(onboardings, now):
    data = onboarding.duration(scope("2026-01-01", "2026-06-15"))

    assert data.series[0].values == [None, 41.0, 30.0, 69.5, None, None]
    assert data.extra == {"completed": [0, 1, 1, 2, 0, 0]}
    assert (data.value, data.value_format) == (52.5, "days")


def test_a_services_own_csm_scopes_it(onboardings, csms, now):
    ann, _ben = csms

    data = onboarding.completion(scope("2026-01-01", "2026-06-15", csm_ids=(ann.pk,)))

    assert data.extra["counted"] == [1, 0, 0, 0, 0, 0]
    assert (data.value, data.notes) == (1.0, [])


def test_days_are_the_viewers(csms, now):
    ann, _ben = csms
    late = service("Late", created="2026-03-01", start_date="2026-03-01", csm=ann)
    complete(late, "2026-03-31T23:30")  # 1 April in Tokyo

    utc = onboarding.duration(scope("2026-03-01", "2026-04-30"))
    tokyo = onboarding.duration(scope("2026-03-01", "2026-04-30", tz=TOKYO))

    assert utc.series[0].values == [30.0, None]
    assert tokyo.series[0].values == [None, 31.0]


def test_start_days_are_the_viewers(csms, now):
    ann, _ben = csms
    service("Late", created="2026-03-31T23:30", csm=ann)  # no start date: created on 1 April in Tokyo

    utc = onboarding.completion(scope("2026-03-01", "2026-04-30"))
    tokyo = onboarding.completion(scope("2026-03-01", "2026-04-30", tz=TOKYO))

    # Still open 75 days (UTC) or 74 days (Tokyo) after its start: past the 59 days, not within them.
    assert (utc.extra["counted"], utc.series[0].values) == ([1, 0], [0.0, None])
    assert (tokyo.extra["counted"], tokyo.series[0].values) == ([0, 1], [None, 0.0])


def test_a_reassigned_service_counts_for_its_current_csm(csms, now):
    ann, ben = csms
    moved = service("Moved", created="2026-01-05", start_date="2026-01-10", csm=ann)
    complete(moved, "2026-02-20")
    update(moved, at("2026-03-01"), csm=ben.pk)

    anns = onboarding.completion(scope("2026-01-01", "2026-02-28", csm_ids=(ann.pk,)))
    bens = onboarding.completion(scope("2026-01-01", "2026-02-28", csm_ids=(ben.pk,)))
    bens_days = onboarding.duration(scope("2026-01-01", "2026-02-28", csm_ids=(ben.pk,)))

    assert (anns.extra["counted"], bens.extra["counted"]) == ([0, 0], [1, 0])
    assert bens_days.series[0].values == [None, 41.0]


def test_archived_services_are_not_counted(csms, now):
    ann, _ben = csms
    kept, gone = (service(n, created="2026-01-05", start_date="2026-01-10", csm=ann) for n in ("Kept", "Gone"))
    complete(kept, "2026-02-20")  # 41 days
    complete(gone, "2026-02-09")  # 30 days
    record_archive(actor=SYSTEM, record=gone)

    rates = onboarding.completion(scope("2026-01-01", "2026-02-28"))
    days = onboarding.duration(scope("2026-01-01", "2026-02-28"))

    assert (rates.extra["counted"], days.series[0].values) == ([1, 0], [None, 41.0])


def test_without_an_onboarding_pipeline_it_says_so(csms, now):
    Stage.objects.filter(pipeline__label="Onboarding", outcome="complete").update(outcome="")

    data = onboarding.completion(scope("2026-01-01", "2026-02-28"))

    assert (data.series[0].values, data.value) == ([None, None], None)
    assert data.notes == ["There is no services pipeline with a complete stage."]


def test_queries_do_not_grow_with_the_services(csms, now, django_assert_max_num_queries):
    ann, _ben = csms
    for i in range(20):
        record = service(f"S{i}", created=f"2026-0{1 + i % 4}-0{1 + i % 9}", csm=ann)
        if i % 2:
            complete(record, f"2026-0{2 + i % 4}-1{i % 9}")

    with django_assert_max_num_queries(QUERIES):
        rates = onboarding.completion(scope("2026-01-01", "2026-06-15"))
    with django_assert_max_num_queries(QUERIES):
        days = onboarding.duration(scope("2026-01-01", "2026-06-15"))

    assert (sum(rates.extra["counted"]), sum(days.extra["completed"])) == (20, 10)
