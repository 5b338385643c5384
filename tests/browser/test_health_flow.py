"""A CSM sets up health scores in a real Chromium: a profile from the template, tested on a
customer, the distribution previewed, activated — then the Customers tab's health column and the
record's health card show the scores."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tend.core.policy import SYSTEM
from tend.crm.models import ObjectType
from tend.crm.services import record_create
from tend.directory.services import user_create
from tend.health.models import HealthScore, ProfileVersion, ScoreProfile
from tend.usage.models import DailyUsage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(db):
    csm = user_create(email="csm@example.com", password="pw-123456789", full_name="Casey CSM", has_service_seat=True)
    companies = ObjectType.objects.get(name="companies")
    today = timezone.now().date()
    renewal = (today + dt.timedelta(days=300)).isoformat()
    records = {}
    for name, logins_per_day in (("Acme", 1), ("Globex", 0), ("Initech", 0)):
        records[name] = record_create(
            actor=SYSTEM,
            object_type=companies,
            properties={"name": name, "csm": csm.pk, "renewal_date": renewal},
            source="system",
        )
        if logins_per_day:
            DailyUsage.objects.bulk_create(
                DailyUsage(
                    account=records[name],
                    day=today - dt.timedelta(days=d),
                    event=event,
                    count=logins_per_day,
                    users=1,
                )
                for d in range(1, 28)
                for event in ("Logged In", "Report Created", "Export", "Invite Sent", "Dashboard Viewed")
            )
    return {"csm": csm, **records}


def text_lines(locator) -> int:
    """How many lines the element's text takes, as laid out."""
    return locator.evaluate(
        "el => { const r = document.createRange(); r.selectNodeContents(el);"
        " return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; }"
    )


def run_pending_recompute() -> None:
    """Run the recompute the activation queued, as the background worker would."""
    from tend.health.jobs import run_full
    from tend.health.models import RecomputeRun

    run = RecomputeRun.objects.get(kind=RecomputeRun.Kind.ACTIVATION, status=RecomputeRun.Status.QUEUED)
    assert run_full(run.pk).status == RecomputeRun.Status.DONE


def test_create_test_preview_activate_and_see_the_scores(new_page, data):
    page = new_page(data["csm"])

    # A profile from the template.
    page.goto("/health/profiles/")
    page.get_by_label("Name").fill("Customer health")
    page.get_by_test_id("new-profile").click()
    editor = page.get_by_test_id("profile-editor")
    expect(editor).to_be_visible()
    expect(page.get_by_test_id("groups-total")).to_contain_text("100 / 100")
    expect(page.get_by_test_id("group")).to_have_count(7)

    # The segment, with the Customers tab's advanced filter builder.
    expect(page.get_by_test_id("segment-text")).to_have_text("All customers")
    page.get_by_test_id("edit-segment").click()
    modal = page.locator("#filters-modal")
    modal.get_by_test_id("add-group").click()
    modal.get_by_test_id("filter-property").select_option("name")
    modal.get_by_test_id("filter-operator").select_option("HAS_PROPERTY")
    modal.get_by_test_id("apply-filters").click()
    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("segment-text")).to_have_text("Name is known")
    expect(page).to_have_url(re.compile(r"/health/profiles/\d+/$"))

    # A bad edit is refused next to its field, and nothing is saved.
    page.get_by_test_id("band-points").first.fill("-1")
    page.get_by_test_id("save-draft").click()
    expect(page.get_by_test_id("band-points-error").first).to_have_text("Enter points of at least 0.")
    profile = ScoreProfile.objects.get()
    assert profile.draft["groups"][0]["criteria"][0]["bands"][0]["points"] == 20
    page.get_by_test_id("band-points").first.fill("20")

    # Test on a record (saves the draft first).
    page.get_by_test_id("test-search").fill("Acm")
    page.get_by_test_id("test-pick").filter(has_text="Acme").click()
    result = page.get_by_test_id("evaluation")
    expect(result).to_contain_text("Acme")
    expect(result.get_by_test_id("criterion-logins")).to_contain_text("20 / 20")
    expect(result.get_by_test_id("criterion-nps").get_by_test_id("no-data")).to_be_visible()
    expect(page.get_by_test_id("save-message")).to_have_text("Draft saved.")
    profile.refresh_from_db()
    assert profile.segment == {"filterGroups": [{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}]}]}

    # Preview the distribution over the segment (every customer).
    page.get_by_test_id("run-preview").click()
    expect(page.get_by_test_id("preview-count")).to_have_text("3")
    expect(page.locator("[data-testid=preview-histogram][data-rendered=true]")).to_be_visible()

    # Activate.
    page.get_by_test_id("activate-confirm").check()
    page.get_by_test_id("activate").click()
    expect(page.get_by_role("alert").filter(has_text="Version 1 is active")).to_be_visible()
    expect(page.get_by_test_id("version")).to_have_count(1)
    assert ProfileVersion.objects.get().number == 1

    run_pending_recompute()
    acme_score = HealthScore.objects.get(record=data["Acme"])

    # The Customers tab's health column.
    page.goto("/customers/?view=owned&columns=name,health_status,health_score")
    row = page.get_by_test_id("records-table").locator("tr", has_text="Acme")
    expect(row.get_by_test_id("health-status-cell")).to_be_visible()
    expect(row).to_contain_text(re.sub(r"\.0$", "", str(acme_score.score)))

    # The record's health card.
    page.goto(f"/records/companies/{data['Acme'].pk}/")
    card = page.get_by_test_id("health-card")
    expect(card.get_by_test_id("health-score")).to_have_text(str(round(acme_score.score)))
    expect(card.get_by_test_id("health-status")).to_be_visible()
    expect(card.get_by_test_id("criterion-logins")).to_contain_text("20 / 20")
    # The breakdown's narrow column: the header and the points are not broken across lines.
    assert text_lines(card.get_by_test_id("points-header")) == 1
    assert text_lines(card.get_by_test_id("health-group-usage").get_by_test_id("group-points")) == 1

    # And compact, in the preview panel of the Customers tab.
    page.goto("/customers/")
    page.get_by_test_id("record-link").filter(has_text="Acme").click()
    panel = page.get_by_test_id("record-preview")
    expect(panel.get_by_test_id("health-score")).to_have_text(str(round(acme_score.score)))
