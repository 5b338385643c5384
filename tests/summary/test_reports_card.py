"""The Summary's Reports card: the viewed user's reports in their order, each loading its chart on
its own; add from a picker (five at most), remove, move up and down; read-only in View as; a bounded
number of queries however many reports it shows."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tend.core.policy import Actor
from tend.core.web import VIEW_AS_SESSION_KEY
from tend.directory.services import user_create
from tend.reports import services
from tend.reports.models import SummaryReport

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def yuki(db):
    return user_create(email="yuki@example.com", full_name="Yuki Tanaka", time_zone="Asia/Tokyo", has_service_seat=True)


@pytest.fixture
def morgan(db):
    return user_create(
        email="morgan@example.com", full_name="Morgan Lee", has_service_seat=True, manage_cs_settings=True
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def report(owner, name, **kw):
    return services.report_create(
        actor=Actor(owner), name=name, source="companies", definition={"groupBy": "cs_stage"}, chart="bar", **kw
    )


def card(client):
    response = client.get(reverse("summary-card", args=["reports"]), **HX)
    assert response.status_code == 200
    return response


def shown(response) -> list[int]:
    """The reports of the card, in its order."""
    return [
        int(pk) for pk in re.findall(r'data-report="(\d+)" data-testid="summary-report"', response.content.decode())
    ]


def chosen(user) -> list[int]:
    return list(SummaryReport.objects.filter(user=user).order_by("position", "id").values_list("report_id", flat=True))


def add(client, rep):
    return client.post(reverse("summary-report-add"), {"report": rep.pk}, **HX)


def test_an_empty_card_invites_to_add_reports(yuki):
    html = card(signed_in(yuki)).content.decode()
    assert 'data-testid="summary-reports-empty"' in html
    assert "Add up to five reports you follow (churn, renewals, onboarding…)" in html
    assert 'data-testid="summary-report-add"' in html


def test_added_reports_show_in_order_each_loading_its_own_chart(yuki):
    churn, renewals = report(yuki, "Churn"), report(yuki, "Renewals")
    client = signed_in(yuki)
    response = add(client, churn)
    assert response.status_code == 200
    assert shown(response) == [churn.pk]
    response = add(client, renewals)
    assert shown(response) == [churn.pk, renewals.pk]
    html = response.content.decode()
    assert re.findall(r'hx-get="(/reports/\d+/chart/)" hx-trigger="load"', html) == [
        f"/reports/{churn.pk}/chart/",
        f"/reports/{renewals.pk}/chart/",
    ]
    assert 'data-testid="summary-reports-count">2 of 5<' in html
    assert shown(card(client)) == [churn.pk, renewals.pk]


def test_a_tile_s_chart_is_the_report_s_chart_fragment(yuki):
    churn = report(yuki, "Churn")
    services.summary_report_add(actor=Actor(yuki), report=churn)
    client = signed_in(yuki)
    url = re.search(r'hx-get="(/reports/\d+/chart/)"', card(client).content.decode()).group(1)
    response = client.get(url, **HX)
    assert response.status_code == 200
    assert f'data-report-id="{churn.pk}"' in response.content.decode()


def test_a_sixth_report_is_refused_and_nothing_changes(yuki):
    reports = [report(yuki, f"R{i}") for i in range(6)]
    for r in reports[:5]:
        services.summary_report_add(actor=Actor(yuki), report=r)
    client = signed_in(yuki)
    assert 'data-testid="summary-report-add"' not in card(client).content.decode()  # no room: no button
    response = add(client, reports[5])
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="summary-reports-error">Your Summary shows at most 5 reports; remove one first.<' in html
    assert chosen(yuki) == [r.pk for r in reports[:5]]
    assert shown(response) == [r.pk for r in reports[:5]]


def test_the_same_report_twice_is_refused(yuki):
    churn = report(yuki, "Churn")
    client = signed_in(yuki)
    add(client, churn)
    response = add(client, churn)
    assert response.status_code == 422
    assert "This report is already on your Summary." in response.content.decode()
    assert chosen(yuki) == [churn.pk]


def test_removing_and_moving_reports(yuki):
    a, b, c = (report(yuki, name) for name in ("A", "B", "C"))
    for r in (a, b, c):
        services.summary_report_add(actor=Actor(yuki), report=r)
    client = signed_in(yuki)
    html = card(client).content.decode()
    # Each tile's buttons post the whole order with it moved one place.
    forms = re.findall(r'<form hx-post="/summary/reports/order/"[^>]*>(.*?)</form>', html, re.S)
    orders = [[int(v) for v in re.findall(r'name="report" value="(\d+)"', f)] for f in forms]
    assert orders == [[b.pk, a.pk, c.pk], [b.pk, a.pk, c.pk], [a.pk, c.pk, b.pk], [a.pk, c.pk, b.pk]]
    assert html.count('data-testid="summary-report-up"') == 2 and html.count('data-testid="summary-report-down"') == 2

    response = client.post(reverse("summary-reports-order"), {"report": [c.pk, a.pk, b.pk]}, **HX)
    assert shown(response) == [c.pk, a.pk, b.pk]
    assert chosen(yuki) == [c.pk, a.pk, b.pk]
    response = client.post(reverse("summary-reports-order"), {"report": [c.pk]}, **HX)
    assert response.status_code == 422
    assert chosen(yuki) == [c.pk, a.pk, b.pk]

    response = client.post(reverse("summary-report-remove", args=[a.pk]), **HX)
    assert shown(response) == [c.pk, b.pk]
    assert chosen(yuki) == [c.pk, b.pk]


def test_a_move_keeps_the_place_of_a_report_no_longer_shared(yuki, morgan):
    a = report(yuki, "A")
    shared = report(morgan, "Shared", access="everyone")
    b = report(yuki, "B")
    for r in (a, shared, b):
        services.summary_report_add(actor=Actor(yuki), report=r)
    services.report_update(actor=Actor(morgan), report=shared, changes={"access": "private"})
    client = signed_in(yuki)
    response = card(client)
    assert shown(response) == [a.pk, b.pk]
    up = re.search(r'<form hx-post="/summary/reports/order/"[^>]*>(.*?)</form>', response.content.decode(), re.S)
    order = [int(v) for v in re.findall(r'name="report" value="(\d+)"', up.group(1))]
    assert order == [b.pk, shared.pk, a.pk]
    assert client.post(reverse("summary-reports-order"), {"report": order}, **HX).status_code == 200
    assert chosen(yuki) == [b.pk, shared.pk, a.pk]


def test_the_picker_offers_the_reports_one_sees_that_are_not_on_the_summary(yuki, morgan):
    on, off = report(yuki, "Churn by month"), report(yuki, "Renewals due")
    report(morgan, "Morgan's private")
    report(morgan, "Onboarding time", access="everyone")
    services.summary_report_add(actor=Actor(yuki), report=on)
    client = signed_in(yuki)

    def names(response):
        html = response.content.decode()
        rows = re.findall(
            r'data-testid="summary-report-choice">\s*<span class="me-auto text-truncate" title="([^"]+)"', html
        )
        return [n for n in rows if n in {"Churn by month", "Renewals due", "Morgan&#x27;s private", "Onboarding time"}]

    response = client.get(reverse("summary-report-picker"), **HX)
    assert names(response) == ["Onboarding time", "Renewals due"]
    response = client.get(reverse("summary-report-picker"), {"q": "renew"}, **HX)
    assert names(response) == ["Renewals due"]
    assert f'"report": "{off.pk}"' in response.content.decode()
    response = client.get(reverse("summary-report-picker"), {"q": "zzz"}, **HX)
    assert "No report matches “zzz”." in response.content.decode()
    # One may not add a report one cannot see.
    hidden = report(morgan, "Hidden")
    assert add(client, hidden).status_code == 404
    assert chosen(yuki) == [on.pk]


def test_viewing_as_another_user_shows_their_reports_read_only(yuki, morgan):
    churn, other = report(yuki, "Churn"), report(yuki, "Other")
    services.summary_report_add(actor=Actor(yuki), report=churn)
    client = signed_in(morgan)
    session = client.session
    session[VIEW_AS_SESSION_KEY] = yuki.pk
    session.save()
    response = card(client)
    assert shown(response) == [churn.pk]
    html = response.content.decode()
    for testid in ("summary-report-add", "summary-report-remove", "summary-report-up", "summary-report-down"):
        assert f'data-testid="{testid}"' not in html
    assert add(client, other).status_code == 403
    assert client.post(reverse("summary-report-remove", args=[churn.pk]), **HX).status_code == 403
    assert client.post(reverse("summary-reports-order"), {"report": [churn.pk]}, **HX).status_code == 403
    assert chosen(yuki) == [churn.pk] and chosen(morgan) == []


def test_the_card_runs_a_bounded_number_of_queries(yuki, django_assert_max_num_queries):
    reports = [report(yuki, f"R{i}") for i in range(5)]
    services.summary_report_add(actor=Actor(yuki), report=reports[0])
    client = signed_in(yuki)
    card(client)
    with CaptureQueriesContext(connection) as few:
        card(client)
    for r in reports[1:]:
        services.summary_report_add(actor=Actor(yuki), report=r)
    with django_assert_max_num_queries(len(few)):
        assert len(shown(card(client))) == 5
    assert len(few) <= 8
