"""NPS trend: promoters minus detractors and the average answer per month, about customers only,
in the viewer's months, of a CSM's customers, bounded queries."""

import pytest

from tend.core.policy import SYSTEM
from tend.crm.services import record_archive
from tend.reports.kpis import nps
from tend.usage.models import SurveyResponse

from .conftest import TOKYO, at, create, customer, scope, update

pytestmark = pytest.mark.django_db
QUERIES = 2  # the settings row, the aggregate


def answer(account, value: int, when: str, survey: str = "nps") -> None:
    moment = at(when)
    SurveyResponse.objects.create(account=account, survey=survey, score=value, responded_at=moment, created_at=moment)


@pytest.fixture
def answers(csms):
    ann, ben = csms
    a, b = customer("A", csm=ann.pk), customer("B", csm=ben.pk)
    for value, day in ((10, "2026-01-05"), (9, "2026-01-06"), (7, "2026-01-07"), (3, "2026-01-08")):
        answer(a if value > 5 else b, value, day)
    for value, day in ((6, "2026-02-02"), (6, "2026-02-03"), (10, "2026-02-04")):
        answer(b, value, day)
    answer(a, 0, "2026-01-09", survey="csat")  # another survey
    answer(create("deals", at("2025-06-01"), name="Deal"), 0, "2026-01-10")  # not about a customer
    return a, b


def test_nps_and_average_per_month(answers, now):
    data = nps.compute(scope("2026-01-01", "2026-03-31"))

    # January: 2 promoters, 1 detractor of 4; February: 1 and 2 of 3; March: none.
    assert [s.key for s in data.series] == ["nps", "average"]
    assert data.series[0].values == [25.0, -33.3, None]
    assert data.series[1].values == [7.25, 7.33, None]
    assert data.extra == {"answers": [4, 3, 0]}
    assert (data.value, data.previous, data.chart) == (None, -33.3, "line")


def test_a_csms_customers_only(answers, csms, now):
    ann, _ben = csms

    data = nps.compute(scope("2026-01-01", "2026-02-28", csm_ids=(ann.pk,)))

    assert (data.series[0].values, data.series[1].values) == ([66.7, None], [8.67, None])


def test_a_reassigned_customers_answers_follow_its_current_csm(answers, csms, now):
    ann, ben = csms
    a, _b = answers
    update(a, at("2026-03-01"), csm=ben.pk)  # after its January answers

    anns = nps.compute(scope("2026-01-01", "2026-02-28", csm_ids=(ann.pk,)))
    bens = nps.compute(scope("2026-01-01", "2026-02-28", csm_ids=(ben.pk,)))

    assert anns.extra == {"answers": [0, 0]}
    assert (bens.extra, bens.series[0].values) == ({"answers": [4, 3]}, [25.0, -33.3])


def test_an_archived_customers_answers_are_not_counted(answers, now):
    _a, b = answers
    record_archive(actor=SYSTEM, record=b)

    data = nps.compute(scope("2026-01-01", "2026-02-28"))

    assert (data.extra, data.series[0].values) == ({"answers": [3, 0]}, [66.7, None])


def test_months_are_the_viewers(csms, now):
    ann, _ben = csms
    late = customer("Late", csm=ann.pk)
    answer(late, 10, "2026-01-31T20:00")  # 05:00 on 1 February in Tokyo

    assert nps.compute(scope("2026-01-01", "2026-02-28")).extra == {"answers": [1, 0]}
    assert nps.compute(scope("2026-01-01", "2026-02-28", tz=TOKYO)).extra == {"answers": [0, 1]}


def test_queries_do_not_grow_with_the_answers(csms, now, django_assert_max_num_queries):
    ann, _ben = csms
    for i in range(30):
        answer(customer(f"C{i}", csm=ann.pk), i % 11, f"2026-0{1 + i % 5}-1{i % 9}")

    with django_assert_max_num_queries(QUERIES):
        data = nps.compute(scope("2026-01-01", "2026-06-15"))

    assert sum(data.extra["answers"]) == 30
