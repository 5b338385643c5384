import pytest

from tend.directory.services import user_create
from tend.health.models import HealthAlert, ScoreProfile
from tend.health.queries import book_alerts
from tend.health.recompute.run import recompute

from .conftest import NOW, activate, make_company, nps

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_create_update_test_preview_and_activate_a_profile(api, at_now, django_capture_on_commit_callbacks):
    company = make_company("Acme")
    nps(company, 10, days_ago=1)

    created = api.post("/api/v1/health/profiles", {"name": "Standard"}, content_type=JSON)
    assert created.status_code == 201
    profile_id = created.json()["id"]
    assert [g["key"] for g in created.json()["draft"]["groups"]][0] == "usage"

    bad = api.patch(
        f"/api/v1/health/profiles/{profile_id}",
        {"definition": {**created.json()["draft"], "missing_data": "guess"}},
        content_type=JSON,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "definition.missing_data"

    tested = api.post(f"/api/v1/health/profiles/{profile_id}/test", {"recordId": company.pk}, content_type=JSON)
    assert tested.status_code == 200
    assert (tested.json()["score"], tested.json()["status"]["key"]) == (100.0, "healthy")
    assert tested.json()["coverage"] == 0.15

    preview = api.post(f"/api/v1/health/profiles/{profile_id}/preview")
    assert (preview.json()["count"], preview.json()["scored"]) == (1, 1)

    with django_capture_on_commit_callbacks(execute=False):
        activated = api.post(f"/api/v1/health/profiles/{profile_id}/activate")
    assert activated.status_code == 202
    assert activated.json()["version"]["number"] == 1
    assert activated.json()["run"]["status"] == "queued"


def test_test_needs_a_record_id(api):
    profile_id = api.post("/api/v1/health/profiles", {"name": "P"}, content_type=JSON).json()["id"]
    response = api.post(f"/api/v1/health/profiles/{profile_id}/test", {}, content_type=JSON)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "recordId"


def test_no_seat_no_profile_editing(viewer, api_client_for):
    client = api_client_for(viewer)
    response = client.post("/api/v1/health/profiles", {"name": "P"}, content_type=JSON)
    assert response.status_code == 403
    assert ScoreProfile.objects.count() == 0


def test_read_health_and_recompute_one_record(api, csm_actor, at_now, django_assert_max_num_queries):
    company = make_company("Acme")
    nps(company, 10, days_ago=1)
    activate(csm_actor)

    before = api.get(f"/api/v1/records/{company.pk}/health")
    assert before.json()["score"] is None

    recomputed = api.post(f"/api/v1/records/{company.pk}/health/recompute")
    assert recomputed.status_code == 200
    body = api.get(f"/api/v1/records/{company.pk}/health").json()
    assert (body["score"], body["status"]["key"], body["version"]) == (100.0, "healthy", 1)
    assert body["history"] == [{"day": "2026-06-15", "score": 100.0}]
    assert [g["key"] for g in body["breakdown"]] == [
        "usage",
        "depth",
        "engagement",
        "support",
        "nps",
        "contract",
        "outcomes",
    ]
    assert api.get("/api/v1/records/999999/health").status_code == 404


def test_list_alerts_filters_and_bounded_queries(api, csm, csm_actor, at_now, django_assert_max_num_queries):
    companies = [make_company(f"C{i}", csm=csm.pk, renewal_date="2026-07-01") for i in range(5)]
    activate(csm_actor)
    recompute()
    assert HealthAlert.objects.count() == 5

    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/health/alerts", {"user": csm.pk, "limit": 3})
    body = response.json()
    assert len(body["results"]) == 3
    assert body["results"][0]["signal"] == "renewal_soon"
    rest = api.get("/api/v1/health/alerts", {"user": csm.pk, "after": body["paging"]["next"]["after"]}).json()
    assert len(rest["results"]) == 2
    one = api.get("/api/v1/health/alerts", {"record": companies[0].pk}).json()["results"]
    assert [a["recordId"] for a in one] == [companies[0].pk]
    assert api.get("/api/v1/health/alerts", {"limit": 0}).json()["errors"][0]["field"] == "limit"


@pytest.fixture
def two_books(csm, csm_actor, at_now):
    """Two CSMs' books with a renewal alert on each account: Casey's two, Olga's one."""
    olga = user_create(email="olga@example.com", full_name="Olga Other", has_service_seat=True)
    mine = [make_company(f"Mine {i}", csm=csm.pk, renewal_date="2026-07-01") for i in range(2)]
    theirs = make_company("Theirs", csm=olga.pk, renewal_date="2026-07-01")
    activate(csm_actor)
    recompute()
    return olga, mine, theirs


def test_the_api_lists_the_alerts_the_alerts_page_shows(api, csm, two_books):
    olga, mine, theirs = two_books
    assert HealthAlert.objects.count() == 3

    listed = api.get("/api/v1/health/alerts").json()["results"]
    asked_for_olga = api.get("/api/v1/health/alerts", {"user": olga.pk}).json()["results"]
    asked_for_theirs = api.get("/api/v1/health/alerts", {"record": theirs.pk}).json()["results"]

    assert sorted(a["recordId"] for a in listed) == sorted(r.pk for r in mine)
    assert [a["recordId"] for a in listed] == [
        a.record_id for a in book_alerts(csm).order_by("-pk")
    ]  # the same query as the Alerts page
    assert (asked_for_olga, asked_for_theirs) == ([], [])


def test_dismissing_someone_elses_alert_is_not_found_and_changes_nothing(api, two_books):
    olga, mine, theirs = two_books
    alert = HealthAlert.objects.get(record=theirs)

    response = api.post(f"/api/v1/health/alerts/{alert.pk}/dismiss")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": f"No alert {alert.pk}.",
    }
    alert.refresh_from_db()
    assert (alert.dismissed_at, alert.dismissed_by_id) == (None, None)


def test_dismissing_an_alert_on_ones_own_book(api, csm, two_books):
    _olga, mine, _theirs = two_books
    alert = HealthAlert.objects.get(record=mine[0])

    response = api.post(f"/api/v1/health/alerts/{alert.pk}/dismiss")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["active"], response.json()["dismissedAt"]) == (
        alert.pk,
        False,
        "2026-06-15T12:00:00Z",
    )
    alert.refresh_from_db()
    assert (alert.dismissed_at, alert.dismissed_by_id) == (NOW, csm.pk)
    again = api.post(f"/api/v1/health/alerts/{alert.pk}/dismiss")  # dismissed, still the caller's
    assert (again.status_code, again.json()["dismissedAt"]) == (200, "2026-06-15T12:00:00Z")


def test_signal_rules_list_and_update(admin_api, api):
    rules = admin_api.get("/api/v1/health/signal-rules").json()["results"]
    assert [r["key"] for r in rules] == [
        "logins_drop",
        "tickets_spike",
        "nps_drop",
        "meetings_missed",
        "key_contact_left",
        "renewal_soon",
    ]
    bad = admin_api.patch("/api/v1/health/signal-rules/nps_drop", {"params": {"points": 0}}, content_type=JSON)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "params.points"
    ok = admin_api.patch("/api/v1/health/signal-rules/nps_drop", {"priority": "low"}, content_type=JSON)
    assert ok.json()["priority"] == "low"
    assert api.patch("/api/v1/health/signal-rules/nps_drop", {"enabled": False}, content_type=JSON).status_code == 403


def test_latest_run(api, csm_actor, at_now):
    from tend.health import jobs

    activate(csm_actor)
    run = jobs.run_full()
    body = api.get("/api/v1/health/runs/latest").json()["run"]
    assert (body["id"], body["status"], body["progress"]) == (run.pk, "done", 1.0)
    assert NOW.year == 2026
