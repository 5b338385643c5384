"""The health-score screens: profiles (list, editor, test on a record, preview, activation), the
record health card, the Customers column, alerts, the summary and the churn-signal rules.

Every refused or invalid write asserts that nothing changed; list screens assert a number of
queries that does not grow with the rows they show.
"""

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tend.core.policy import SYSTEM, Actor
from tend.core.web import VIEW_AS_SESSION_KEY
from tend.crm.models import ObjectType, Record
from tend.crm.services import record_create
from tend.directory.services import user_create
from tend.health import queries, services
from tend.health.models import ChurnSignalRule, HealthAlert, HealthScore, ProfileVersion, ScoreProfile

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}

# One group, one criterion on a number property: easy to compute by hand.
SIZE_DEFINITION = {
    "groups": [
        {
            "key": "size",
            "label": "Size",
            "max": 100,
            "criteria": [
                {
                    "key": "employees",
                    "label": "Employees",
                    "measure": {"kind": "property", "property": "employees"},
                    "bands": [
                        {"min": 100, "points": 100, "label": "large"},
                        {"min": 10, "points": 50, "label": "medium"},
                        {"min": None, "points": 0, "label": "small"},
                    ],
                }
            ],
        }
    ],
    "statuses": [
        {"key": "healthy", "label": "Healthy", "min": 70, "color": "success", "action": "Ask for a reference."},
        {"key": "neutral", "label": "Neutral", "min": 40, "color": "warning", "action": "Plan a check-in."},
        {"key": "at_risk", "label": "At risk", "min": 0, "color": "danger", "action": "Call them today."},
    ],
    "missing_data": "exclude",
}


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def csm_client(csm):
    return _client(csm)


@pytest.fixture
def viewer_client(viewer):
    return _client(viewer)


def company(name, **props) -> Record:
    return record_create(
        actor=SYSTEM,
        object_type=ObjectType.objects.get(name="companies"),
        properties={"name": name, **props},
        source="system",
    )


@pytest.fixture
def acme(csm):
    return company("Acme", employees=50, csm=csm.pk)


@pytest.fixture
def globex(csm):
    return company("Globex", employees=500, csm=csm.pk)


@pytest.fixture
def profile(csm):
    created = services.profile_create(actor=Actor(csm), name="Size", from_template=False)
    return services.profile_update_draft(actor=Actor(csm), profile=created, definition=SIZE_DEFINITION)


def post_draft(client, profile, body) -> object:
    return client.post(reverse("health-profile", args=[profile.pk]), json.dumps(body), content_type="application/json")


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --------------------------------------------------------------------------- profiles list


class TestProfilesList:
    def test_a_csm_creates_a_profile_from_the_template(self, csm_client):
        response = csm_client.post(reverse("health-profiles"), {"name": "Customer health", "start": "template"})

        profile = ScoreProfile.objects.get()
        assert response.status_code == 302 and response["Location"] == reverse("health-profile", args=[profile.pk])
        assert profile.name == "Customer health"
        assert [g["key"] for g in profile.draft["groups"]] == [
            "usage",
            "depth",
            "engagement",
            "support",
            "nps",
            "contract",
            "outcomes",
        ]
        assert profile.active_version is None

    def test_a_blank_profile_starts_without_groups(self, csm_client):
        csm_client.post(reverse("health-profiles"), {"name": "Blank", "start": "blank"})
        assert ScoreProfile.objects.get().draft["groups"] == []

    def test_without_a_seat_the_list_is_read_only_and_creating_changes_nothing(self, viewer_client, profile):
        page = viewer_client.get(reverse("health-profiles"))
        assert page.status_code == 200
        assert 'data-testid="health-read-only"' in text(page)
        assert "You need an assigned Service seat to create or edit health score profiles." in text(page)
        assert 'data-testid="new-profile"' not in text(page)

        response = viewer_client.post(reverse("health-profiles"), {"name": "Sneaky"})
        assert response.status_code == 302
        assert list(ScoreProfile.objects.values_list("name", flat=True)) == ["Size"]

    def test_view_as_is_read_only(self, admin, csm, profile):
        client = _client(admin)
        session = client.session
        session[VIEW_AS_SESSION_KEY] = csm.pk
        session.save()
        page = client.get(reverse("health-profiles"))
        assert "You are viewing Tend as Casey CSM" in text(page)

        client.post(reverse("health-profiles"), {"name": "As someone else"})
        assert ScoreProfile.objects.count() == 1

    def test_status_shows_draft_active_and_unpublished_changes(self, csm, csm_client, profile):
        page = text(csm_client.get(reverse("health-profiles")))
        assert re.search(r'data-testid="profile-status">Draft<', page)

        services.profile_activate(actor=Actor(csm), profile=profile)
        page = text(csm_client.get(reverse("health-profiles")))
        assert re.search(r'data-testid="profile-status">Active v1<', page)
        assert 'data-testid="profile-unpublished"' not in page

        changed = json.loads(json.dumps(SIZE_DEFINITION))
        changed["groups"][0]["criteria"][0]["bands"][1]["points"] = 60
        services.profile_update_draft(actor=Actor(csm), profile=profile, definition=changed)
        page = text(csm_client.get(reverse("health-profiles")))
        assert 'data-testid="profile-unpublished"' in page

    def test_the_list_uses_a_bounded_number_of_queries(self, csm, csm_client, profile, django_assert_max_num_queries):
        def count() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert csm_client.get(reverse("health-profiles")).status_code == 200
            return len(captured)

        count()
        few = count()
        for i in range(8):
            created = services.profile_create(actor=Actor(csm), name=f"P{i}", from_template=True)
            if i % 2:
                services.profile_activate(actor=Actor(csm), profile=created)
        assert count() == few
        with django_assert_max_num_queries(15):
            csm_client.get(reverse("health-profiles"))


# --------------------------------------------------------------------------- editor


class TestEditor:
    def test_the_editor_offers_measures_schemes_and_the_segment_builder(self, csm_client, profile):
        response = csm_client.get(reverse("health-profile", args=[profile.pk]))
        assert response.status_code == 200
        measures = {m["kind"]: m for m in response.context["measures"]}
        assert measures["event_rate"]["params"][0]["type"] == "list"
        employees = [o for o in measures["property"]["params"][0]["options"] if o["value"] == "employees"]
        assert employees == [{"value": "employees", "label": "Number of employees", "category": False}]
        assert [s["key"] for s in response.context["schemes"]] == ["three", "four"]
        body = text(response)
        assert 'id="filters-modal"' in body and 'id="builder-schema"' in body

    def test_saving_a_valid_draft(self, csm_client, profile):
        changed = json.loads(json.dumps(SIZE_DEFINITION))
        changed["groups"][0]["criteria"][0]["bands"][1]["points"] = 60
        segment = {"filterGroups": [{"filters": [{"propertyName": "industry", "operator": "EQ", "value": "software"}]}]}

        response = post_draft(
            csm_client,
            profile,
            {
                "name": "Size v2",
                "priority": "5",
                "description": "By head count",
                "segment": segment,
                "definition": changed,
            },
        )

        assert response.status_code == 200 and response.json()["saved"] is True
        profile.refresh_from_db()
        assert (profile.name, profile.priority, profile.description) == ("Size v2", 5, "By head count")
        assert profile.segment["filterGroups"][0]["filters"][0]["value"] == "software"
        assert profile.draft["groups"][0]["criteria"][0]["bands"][1]["points"] == 60

    def test_errors_name_the_field_and_nothing_is_saved(self, csm_client, profile):
        before = ScoreProfile.objects.values().get(pk=profile.pk)
        bad = json.loads(json.dumps(SIZE_DEFINITION))
        bad["groups"][0]["criteria"][0]["bands"][0]["points"] = -5
        bad["groups"][0]["max"] = 90

        response = post_draft(csm_client, profile, {"name": "Renamed", "definition": bad})

        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert "definition.groups[0].criteria[0].bands[0].points" in fields
        assert ScoreProfile.objects.values().get(pk=profile.pk) == before

    def test_a_priority_that_is_not_a_number_is_refused(self, csm_client, profile):
        response = post_draft(csm_client, profile, {"priority": "first"})
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"field": "priority", "message": "Enter a whole number.", "code": "invalid"}
        ]
        assert ScoreProfile.objects.get(pk=profile.pk).priority == profile.priority

    def test_a_body_that_is_not_json_is_refused(self, csm_client, profile):
        response = csm_client.post(
            reverse("health-profile", args=[profile.pk]), "nope", content_type="application/json"
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body"

    def test_without_a_seat_saving_is_refused_and_changes_nothing(self, viewer_client, profile):
        page = viewer_client.get(reverse("health-profile", args=[profile.pk]))
        assert page.status_code == 200 and 'data-testid="health-read-only"' in text(page)
        assert 'data-testid="save-draft"' not in text(page)

        response = post_draft(viewer_client, profile, {"name": "Hijacked"})
        assert response.status_code == 403
        assert ScoreProfile.objects.get(pk=profile.pk).name == "Size"

    def test_an_unknown_profile_is_a_404_page(self, csm_client):
        response = csm_client.get(reverse("health-profile", args=[999]))
        assert response.status_code == 404
        assert 'data-testid="health-not-found"' in text(response)


# --------------------------------------------------------------------------- test, preview, activate


class TestTryAndActivate:
    def test_testing_the_draft_on_a_record_shows_every_criterion(self, csm_client, profile, acme):
        response = csm_client.get(reverse("health-profile-test", args=[profile.pk]), {"record": acme.pk}, **HTMX)

        assert response.status_code == 200
        evaluation = response.context["evaluation"]
        assert (evaluation.score, evaluation.status["key"], evaluation.coverage) == (50, "neutral", 1)
        row = re.search(r'data-testid="criterion-employees">(.*?)</tr>', text(response)).group(1)
        assert "medium" in row and "50 / 100" in row
        assert 'data-testid="evaluation-status">Neutral<' in text(response)

    def test_a_record_without_data_is_marked_no_data(self, csm_client, profile):
        empty = company("Empty Inc")
        response = csm_client.get(reverse("health-profile-test", args=[profile.pk]), {"record": empty.pk}, **HTMX)
        assert response.context["evaluation"].score is None
        assert 'data-testid="no-data"' in text(response)

    def test_testing_without_a_record_says_so(self, csm_client, profile):
        response = csm_client.get(reverse("health-profile-test", args=[profile.pk]), {"record": "x"}, **HTMX)
        assert response.status_code == 422
        assert "Pick a customer to test the draft on." in text(response)

    def test_the_search_finds_customers_by_name(self, csm_client, profile, acme, globex):
        response = csm_client.get(reverse("health-profile-test-search", args=[profile.pk]), {"q": "glo"}, **HTMX)
        assert [r.name for r in response.context["results"]] == ["Globex"]

    def test_preview_counts_the_segment(self, csm_client, profile, acme, globex):
        company("Tiny", employees=3)
        company("Unknown")

        response = csm_client.get(reverse("health-profile-preview", args=[profile.pk]), **HTMX)

        assert response.status_code == 200
        preview = response.context["preview"]
        assert (preview["count"], preview["scored"], preview["no_data"]) == (4, 3, 1)
        assert preview["average"] == pytest.approx(50)
        assert {s["key"]: s["count"] for s in preview["by_status"]} == {"healthy": 1, "neutral": 1, "at_risk": 1}
        chart = json.loads(response.context["chart_json"])
        assert sum(chart["values"]) == 3 and len(chart["labels"]) == 10

    def test_activation_needs_the_confirmation(self, csm_client, profile):
        csm_client.post(reverse("health-profile-activate", args=[profile.pk]), {})
        assert ProfileVersion.objects.count() == 0

    def test_activation_makes_a_version_and_shows_it(self, csm_client, profile):
        response = csm_client.post(reverse("health-profile-activate", args=[profile.pk]), {"confirm": "on"})
        assert response.status_code == 302
        version = ProfileVersion.objects.get()
        assert (version.number, version.definition["groups"][0]["key"]) == (1, "size")

        page = csm_client.get(reverse("health-profile", args=[profile.pk]))
        assert "Version 1 is active; scores are being recomputed." in text(page)
        assert len(re.findall(r'data-testid="version"', text(page))) == 1
        assert 'data-testid="health-run"' in text(page)

    def test_a_viewer_cannot_activate(self, viewer_client, profile):
        viewer_client.post(reverse("health-profile-activate", args=[profile.pk]), {"confirm": "on"})
        assert ProfileVersion.objects.count() == 0

    def test_run_progress_polls_while_running(self, csm_client):
        from tend.health.models import RecomputeRun

        RecomputeRun.objects.create(kind="full", status="running", total=40, done=10, queued_at=NOW, started_at=NOW)
        response = csm_client.get(reverse("health-run"), **HTMX)
        body = text(response)
        assert 'hx-trigger="every 2s"' in body
        assert "10 of 40 accounts" in body
        RecomputeRun.objects.update(status="done", done=40, finished_at=NOW)
        assert 'hx-trigger="every 2s"' not in text(csm_client.get(reverse("health-run"), **HTMX))


# --------------------------------------------------------------------------- record card and Customers column


@pytest.fixture
def active(csm, profile):
    services.profile_activate(actor=Actor(csm), profile=profile)
    profile.refresh_from_db()
    return profile


class TestRecordCard:
    def test_the_record_page_loads_the_card(self, csm_client, acme):
        page = csm_client.get(reverse("record-detail", args=["companies", acme.pk]))
        assert reverse("health-record-card", args=[acme.pk]) in text(page)

    def test_the_card_shows_score_status_action_and_breakdown(self, csm, csm_client, active, acme):
        services.record_recompute(actor=Actor(csm), record=acme)

        response = csm_client.get(reverse("health-record-card", args=[acme.pk]), **HTMX)

        body = text(response)
        assert re.search(r'data-testid="health-score">50<', body)
        assert 'data-testid="health-status">Neutral<' in body
        assert "Plan a check-in." in body
        assert "Coverage 100%" in body
        row = re.search(r'data-testid="criterion-employees">(.*?)</tr>', body).group(1)
        assert "medium" in row and "50 / 100" in row
        assert 'data-testid="health-recompute"' in body

    def test_the_card_explains_why_it_changed_with_a_trend_and_alerts(self, csm, csm_client, clock, active, acme):
        from tend.crm.services import record_update

        services.record_recompute(actor=Actor(csm), record=acme)
        clock.move_to(NOW + dt.timedelta(days=2), tick=False)
        record_update(actor=SYSTEM, record=acme, properties={"employees": 500}, source="system")
        services.record_recompute(actor=Actor(csm), record=acme)
        contacts = [{"id": 7, "name": "Ann Lee"}]
        alert(acme, csm, kind="churn_signal", signal="key_contact_left", evidence={"contacts": contacts}, days_ago=-2)

        body = text(csm_client.get(reverse("health-record-card", args=[acme.pk]), **HTMX))

        assert re.search(r'data-testid="health-score">100<', body)
        change = re.search(r'data-testid="health-change">(.*?)</li>', body).group(1)
        assert re.sub(r"<[^>]+>", "", change).strip() == "Employees: 50 → 500 (50 → 100 pts)"
        assert 'data-testid="health-sparkline"' in body
        assert "Score over the last 90 days, between 50 and 100" in body
        assert "Key contact left" in body and "Ann Lee has left the company." in body

    def test_the_compact_card_in_the_preview_panel(self, csm, csm_client, active, acme):
        services.record_recompute(actor=Actor(csm), record=acme)
        response = csm_client.get(reverse("health-record-card", args=[acme.pk]), {"compact": "1"}, **HTMX)
        assert response.context["compact"] is True
        assert 'data-testid="health-score">50<' in text(response)

    def test_empty_state_links_to_health_scores_for_seat_holders(self, csm_client, viewer_client, acme):
        body = text(csm_client.get(reverse("health-record-card", args=[acme.pk]), **HTMX))
        assert "No health profile applies to this customer" in body
        assert f'href="{reverse("health-profiles")}"' in body

        body = text(viewer_client.get(reverse("health-record-card", args=[acme.pk]), **HTMX))
        assert "No health profile applies to this customer" in body
        assert f'href="{reverse("health-profiles")}"' not in body

    def test_records_of_other_types_have_no_card(self, csm_client, contacts):
        jo = record_create(actor=SYSTEM, object_type=contacts, properties={"name": "Jo"}, source="system")
        response = csm_client.get(reverse("health-record-card", args=[jo.pk]), **HTMX)
        assert response.status_code == 200 and response.content == b""

    def test_recompute_now(self, csm_client, active, acme):
        assert not HealthScore.objects.filter(record=acme).exists()
        response = csm_client.post(reverse("health-record-recompute", args=[acme.pk]), **HTMX)
        assert response.status_code == 200
        assert HealthScore.objects.get(record=acme).score == 50
        assert "Recomputed just now." in text(response)

    def test_recompute_needs_a_seat(self, viewer_client, active, acme):
        response = viewer_client.post(reverse("health-record-recompute", args=[acme.pk]), **HTMX)
        assert response.status_code == 403
        assert not HealthScore.objects.filter(record=acme).exists()

    def test_customers_tab_shows_the_status_badge_and_score(self, csm, csm_client, active, acme, globex):
        for record in (acme, globex):
            services.record_recompute(actor=Actor(csm), record=record)

        response = csm_client.get("/customers/", {"view": "owned", "columns": "name,health_status,health_score"})

        body = text(response)
        badges = re.findall(r'<span class="badge text-bg-(\w+)"[^>]*data-testid="health-status-cell">([^<]+)<', body)
        assert sorted(badges) == [("success", "Healthy"), ("warning", "Neutral")]
        cells = {row["record"].name: row["cells"] for row in response.context["screen"].rows}
        assert cells["Acme"][2].text == "50" and cells["Globex"][2].text == "100"


# --------------------------------------------------------------------------- alerts


STATUS_EVIDENCE = {
    "from_status": "neutral",
    "to_status": "at_risk",
    "from_score": 55.0,
    "to_score": 30.0,
    "worse": True,
}


def alert(
    record,
    user,
    *,
    title="Status changed to At risk",
    kind="status_change",
    days_ago=0,
    priority="high",
    signal="",
    evidence=None,
):
    raised = NOW - dt.timedelta(days=days_ago)
    return HealthAlert.objects.create(
        record=record,
        kind=kind,
        signal=signal,
        priority=priority,
        title=title,
        evidence=STATUS_EVIDENCE if evidence is None else evidence,
        user=user,
        raised_at=raised,
        expires_at=raised + dt.timedelta(days=14),
    )


class TestAlerts:
    def test_active_alerts_of_my_accounts(self, csm, csm_client, acme):
        other = user_create(email="other@example.com", full_name="Oz Other", has_service_seat=True)
        theirs = company("Theirs", csm=other.pk)
        alert(acme, csm, title="Acme went at risk")
        alert(acme, csm, title="Expired one", days_ago=15)
        alert(theirs, other, title="Not mine")

        response = csm_client.get(reverse("health-alerts"))

        assert [a.title for a in response.context["alerts"]] == ["Acme went at risk"]
        body = text(response)
        assert "Health changed from Neutral to At risk" in body and "The score fell from 55 to 30." in body

    def test_view_as_shows_the_other_users_alerts_and_cannot_dismiss(self, admin, csm, acme):
        item = alert(acme, csm, title="Acme went at risk")
        client = _client(admin)
        session = client.session
        session[VIEW_AS_SESSION_KEY] = csm.pk
        session.save()

        response = client.get(reverse("health-alerts"))
        assert [a.title for a in response.context["alerts"]] == ["Acme went at risk"]
        assert 'data-testid="dismiss-alert"' not in text(response)

        client.post(reverse("health-alert-dismiss", args=[item.pk]), **HTMX)
        assert HealthAlert.objects.get(pk=item.pk).dismissed_at is None

    def test_dismiss(self, csm, csm_client, acme):
        item = alert(acme, csm)
        response = csm_client.post(reverse("health-alert-dismiss", args=[item.pk]), **HTMX)
        assert response.status_code == 200 and response.content == b""
        item.refresh_from_db()
        assert item.dismissed_at == NOW
        assert list(csm_client.get(reverse("health-alerts")).context["alerts"]) == []

    def test_the_alerts_page_uses_a_bounded_number_of_queries(
        self, csm, csm_client, acme, django_assert_max_num_queries
    ):
        def count() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert csm_client.get(reverse("health-alerts")).status_code == 200
            return len(captured)

        alert(acme, csm)
        count()  # the first request of a session creates the workspace settings
        few = count()
        for i in range(12):
            alert(company(f"C{i}", csm=csm.pk), csm, kind="churn_signal", title=f"Signal {i}")
        assert count() == few
        with django_assert_max_num_queries(10):
            csm_client.get(reverse("health-alerts"))


# --------------------------------------------------------------------------- summary and signal rules


class TestSummary:
    def test_summary_counts_my_customers_by_status(self, csm, csm_client, active, acme, globex):
        for record in (acme, globex):
            services.record_recompute(actor=Actor(csm), record=record)

        response = csm_client.get(reverse("health-summary"))

        assert response.status_code == 200
        body = text(response)
        assert re.search(r'data-testid="health-summary-average">75<', body)
        assert 'data-testid="health-summary-status-healthy"' in body
        assert "health_status" in body  # the status links filter the Customers tab

    def test_the_htmx_card_alone(self, csm_client):
        response = csm_client.get(reverse("health-summary"), **HTMX)
        assert "<html" not in response.content.decode()
        assert 'data-testid="health-summary"' in text(response)


class TestSignalRules:
    def rule(self) -> ChurnSignalRule:
        return queries.signal_rules().first()

    def test_settings_managers_change_a_rule(self, admin):
        rule = self.rule()
        client = _client(admin)
        response = client.post(
            reverse("health-signal-rule", args=[rule.pk]),
            {"priority": "low", "params": json.dumps(rule.params)},
        )
        assert response.status_code == 302
        rule.refresh_from_db()
        assert (rule.enabled, rule.priority) == (False, "low")

    def test_bad_params_are_refused_and_change_nothing(self, admin):
        rule = self.rule()
        before = ChurnSignalRule.objects.values().get(pk=rule.pk)
        response = _client(admin).post(
            reverse("health-signal-rule", args=[rule.pk]), {"enabled": "on", "priority": "low", "params": "{nope"}
        )
        assert response.status_code == 422
        assert "Enter the parameters as a JSON object." in text(response)
        assert ChurnSignalRule.objects.values().get(pk=rule.pk) == before

    def test_others_see_the_rules_read_only(self, csm_client):
        rule = self.rule()
        before = ChurnSignalRule.objects.values().get(pk=rule.pk)
        page = csm_client.get(reverse("health-signal-rules"))
        assert 'data-testid="signals-read-only"' in text(page)
        csm_client.post(reverse("health-signal-rule", args=[rule.pk]), {"priority": "low", "params": "{}"})
        assert ChurnSignalRule.objects.values().get(pk=rule.pk) == before


# --------------------------------------------------------------------------- in the viewer's language


def _set_language(user, language: str, time_zone: str = "UTC") -> None:
    user.language, user.time_zone = language, time_zone
    user.save(update_fields=["language", "time_zone"])


@pytest.mark.usefixtures("translated")
class TestViewerLanguage:
    """What Tend wrote reads in the viewer's language, whoever created it; what an admin typed
    stays as typed."""

    @pytest.fixture
    def standard(self, csm):
        # created by an English-speaking admin, as the demo does
        profile = services.profile_create(actor=Actor(csm), builtin_name="Standard health", from_template=True)
        services.profile_activate(actor=Actor(csm), profile=profile)
        profile.refresh_from_db()
        return profile

    def test_a_japanese_viewer_reads_the_template_profile_in_japanese(self, csm, csm_client, standard, acme):
        services.record_recompute(actor=Actor(csm), record=acme)
        _set_language(csm, "ja", "Asia/Tokyo")

        body = text(csm_client.get(reverse("health-record-card", args=[acme.pk]), **HTMX))

        assert "標準ヘルス v1" in body and "Standard health" not in body
        for group in ("利用状況", "契約", "成果"):  # Usage, Contract, Outcomes
            assert f'<th scope="rowgroup" colspan="3">{group}</th>' in body
        assert "週あたりのログイン数" in body  # the criterion "Logins per week"
        assert "Logins per week" not in body and "Usage" not in body

    def test_a_german_viewer_reads_status_badges_and_actions_in_german(self, csm, csm_client, standard):
        acme = company("Acme", csm=csm.pk, renewal_date="2028-01-01")  # 10 of 10 points: healthy
        services.record_recompute(actor=Actor(csm), record=acme)
        score = HealthScore.objects.get(record=acme)
        _set_language(csm, "de", "Europe/Berlin")

        body = text(csm_client.get(reverse("health-record-card", args=[acme.pk]), **HTMX))
        summary = text(csm_client.get(reverse("health-summary")))

        assert score.status == "healthy"
        assert re.search(r'data-testid="health-status"[^>]*>Gesund<', body)
        assert ">Gesund<" in summary and ">Healthy<" not in summary
        assert "Suchen Sie nach Expansionsmöglichkeiten" in body and "Look for expansion" not in body

    def test_an_admin_typed_label_stays_as_typed(self, csm, csm_client, standard, acme):
        draft = json.loads(json.dumps(standard.draft))
        draft["statuses"][0]["label"] = "Thriving"
        draft["groups"][0]["label"] = "Nutzung (Produkt)"
        services.profile_update_draft(actor=Actor(csm), profile=standard, definition=draft, name="Unser Profil")
        services.profile_activate(actor=Actor(csm), profile=standard)
        services.record_recompute(actor=Actor(csm), record=acme)
        _set_language(csm, "ja")

        body = text(csm_client.get(reverse("health-record-card", args=[acme.pk]), **HTMX))
        stored = ScoreProfile.objects.get(pk=standard.pk)

        assert "Nutzung (Produkt)" in body and "Unser Profil v2" in body
        assert "契約" in body  # the untouched group still reads in Japanese
        assert stored.draft["statuses"][0] == {
            "key": "healthy",
            "label": "Thriving",
            "min": 70,
            "color": "success",
            "action": "Look for expansion and ask for a reference.",
            "builtin": {"action": "Look for expansion and ask for a reference."},
        }
        assert (stored.name, stored.builtin_name) == ("Unser Profil", "")

    def test_the_editor_shows_built_in_texts_translated_and_saving_them_keeps_them_built_in(
        self, csm, csm_client, standard
    ):
        _set_language(csm, "it")
        editor = csm_client.get(reverse("health-profile", args=[standard.pk])).context["editor"]
        assert editor["name"] == "Salute standard"
        assert editor["definition"]["statuses"][0]["label"] == "In salute"

        response = post_draft(csm_client, standard, {"name": editor["name"], "definition": editor["definition"]})

        assert response.status_code == 200
        stored = ScoreProfile.objects.get(pk=standard.pk)
        assert (stored.name, stored.builtin_name) == ("Standard health", "Standard health")
        assert stored.draft == standard.draft
        assert stored.draft["statuses"][0]["label"] == "Healthy"

    def test_alert_title_and_evidence_read_as_sentences_in_the_viewers_language(self, csm, csm_client, active, acme):
        services.record_recompute(actor=Actor(csm), record=acme)  # the card shows alerts of a scored record
        alert(acme, csm, kind="status_change", evidence=STATUS_EVIDENCE)
        alert(
            acme,
            csm,
            kind="churn_signal",
            signal="renewal_soon",
            priority="info",
            evidence={"days": 25, "renewal_date": "2026-12-18", "fact": "renewal:2026-12-18"},
        )
        _set_language(csm, "de", "Europe/Berlin")

        page = text(csm_client.get(reverse("health-alerts")))
        card = text(csm_client.get(reverse("health-record-card", args=[acme.pk]), **HTMX))

        for body in (page, card):
            assert "Health geändert von Neutral zu Gefährdet" in body
            assert "Der Score ist von 55 auf 30 gefallen." in body
            assert "Die Verlängerung ist in 25 Tagen, am 18.12.2026." in body
            assert "renewal_date" not in body and "from_status" not in body
        assert ">Hinweis</span>" in page  # the Info priority

    def test_alert_evidence_dates_follow_the_viewers_zone_and_locale(self, csm, csm_client, acme):
        evidence = {"from": 9, "to": 4, "from_at": "2026-05-31T23:30:00+00:00", "to_at": "2026-11-20T16:00:00+00:00"}
        alert(acme, csm, kind="churn_signal", signal="nps_drop", evidence=evidence)
        _set_language(csm, "ja", "Asia/Tokyo")

        body = text(csm_client.get(reverse("health-alerts")))

        # 23:30 UTC on 31 May is 1 June in Tokyo
        assert "最新の回答は 4（2026/11/21）で、前回の 9（2026/06/01）から低下しました。" in body
        assert "NPS の低下" in body
