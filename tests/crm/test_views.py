"""The record UI: preview side panel, record page, inline edit, history, follow, merge, associations.

Every failure path asserts that nothing changed; the preview and the page assert a bounded
number of queries that does not grow with what they show.
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
from tend.crm import schema, services
from tend.crm.models import Association, ChangeSource, Follow, ObjectType, Pipeline, PropertyChange, Record
from tend.crm.views.timeline import TIMELINE_PAGE
from tend.engagement.kinds import KINDS
from tend.engagement.services import engagement_create

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}


# --------------------------------------------------------------------------- helpers


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
def acme(companies, csm):
    return services.record_create(
        actor=SYSTEM,
        object_type=companies,
        properties={
            "name": "Acme",
            "domain": "acme.example",
            "employees": 50,
            "industry": "software",
            "csm": csm.pk,
            "renewal_date": "2026-09-30",
        },
    )


@pytest.fixture
def jo(contacts):
    return services.record_create(
        actor=SYSTEM, object_type=contacts, properties={"name": "Jo Champion", "email": "jo@acme.example"}
    )


def _create(object_type, name, **properties) -> Record:
    return services.record_create(actor=SYSTEM, object_type=object_type, properties={"name": name, **properties})


def url(name, record, *args, query="") -> str:
    path = reverse(name, args=[record.object_type.name, record.pk, *args])
    return f"{path}?{query}" if query else path


def preview(client, record):
    return client.get(url("record-preview", record), **HTMX)


def text(response) -> str:
    return response.content.decode()


def edit(client, record, name, value, **extra):
    data = {"value": value}
    return client.post(url("record-property-edit", record, name), data, **HTMX, **extra)


def snapshot(record) -> tuple:
    fresh = Record.objects.get(pk=record.pk)
    return (
        fresh.name,
        fresh.owner_id,
        fresh.stage_id,
        fresh.properties,
        fresh.updated_at,
        PropertyChange.objects.filter(record=fresh).count(),
    )


# --------------------------------------------------------------------------- preview


def test_preview_renders_properties_activity_associations_and_actions(csm, csm_client, acme, jo):
    services.association_create(actor=SYSTEM, from_record=acme, to_record=jo, label="Champion")
    engagement_create(
        actor=Actor(csm), kind=KINDS["notes"], properties={"body": "Kickoff went well"}, associations=[acme.pk]
    )
    engagement_create(
        actor=Actor(csm), kind=KINDS["tasks"], properties={"subject": "Plan the QBR"}, associations=[acme.pk]
    )

    response = preview(csm_client, acme)

    assert response.status_code == 200
    body = text(response)
    assert 'data-testid="record-preview"' in body
    assert "Acme" in body
    assert "Company domain" in body and "acme.example" in body
    assert "Software" in body  # the option label, not the stored value
    assert "Casey CSM" in body  # the CSM user, by name
    assert "Kickoff went well" in body and "Plan the QBR" in body
    assert 'data-testid="association-group-contacts"' in body and "Jo Champion" in body and "Champion</span>" in body
    assert reverse("record-detail", args=["contacts", jo.pk]) in body
    assert 'data-testid="edit-employees"' in body  # editable
    assert 'data-testid="edit-created_at"' not in body and 'data-testid="value-created_at"' in body  # read-only
    assert 'data-testid="follow-button"' in body and 'data-testid="merge-button"' in body
    assert reverse("record-detail", args=["companies", acme.pk]) in body
    assert 'data-testid="read-only-hint"' not in body


def test_preview_empty_states_say_what_to_do(csm_client, acme):
    body = text(preview(csm_client, acme))

    assert "No activity yet — log a note, call, email, meeting or task for this company" in body
    assert "No associated records yet — open the record page to associate" in body


def test_preview_lists_the_newest_ten_engagements_newest_first(csm, csm_client, acme, clock):
    for i in range(12):
        clock.move_to(NOW + dt.timedelta(minutes=i), tick=False)
        engagement_create(
            actor=Actor(csm), kind=KINDS["notes"], properties={"body": f"note {i:02}"}, associations=[acme.pk]
        )

    body = text(preview(csm_client, acme))

    shown = re.findall(r"note (\d\d)", body)
    assert shown == [f"{i:02}" for i in range(11, 1, -1)]


def test_preview_without_htmx_redirects_to_the_record_page(csm_client, acme):
    response = csm_client.get(url("record-preview", acme))

    assert response.status_code == 302
    assert response["Location"] == url("record-detail", acme)


def test_unknown_records_answer_a_404_page(csm_client, acme):
    missing = csm_client.get(reverse("record-detail", args=["companies", 999999]))
    wrong_type = csm_client.get(reverse("record-detail", args=["contacts", acme.pk]))
    unknown_type = csm_client.get(reverse("record-detail", args=["planets", acme.pk]))
    fragment = csm_client.get(reverse("record-preview", args=["companies", 999999]), **HTMX)

    for response in (missing, wrong_type, unknown_type, fragment):
        assert response.status_code == 404
        assert "This record does not exist" in text(response)
    assert "<nav" in text(missing) and "<nav" not in text(fragment)


def test_signed_out_users_are_sent_to_sign_in(acme):
    response = Client().get(url("record-detail", acme))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --------------------------------------------------------------------------- inline edit


def test_edit_form_offers_an_input_suited_to_each_type(csm_client, acme, csm):
    def form(name):
        response = csm_client.get(url("record-property-edit", acme, name), **HTMX)
        assert response.status_code == 200
        return text(response)

    assert 'type="text"' in form("domain") and 'value="acme.example"' in form("domain")
    assert 'type="number"' in form("employees") and 'value="50"' in form("employees")
    assert 'type="number" step="0.01"' in form("mrr")
    assert 'type="date"' in form("renewal_date") and 'value="2026-09-30"' in form("renewal_date")
    industry = form("industry")
    assert '<option value="software" selected>Software</option>' in industry
    assert '<option value="retail">Retail</option>' in industry
    owner = form("csm")
    assert f'<option value="{csm.pk}" selected>Casey CSM</option>' in owner
    assert "hx-on::before-swap" in industry and "422" in industry  # errors swap in with htmx 2
    assert "keydown[key=='Escape'] from:closest form" in industry  # Escape cancels


def test_edit_saves_and_writes_history_with_source_ui(csm, csm_client, acme):
    response = edit(csm_client, acme, "employees", "120")

    assert response.status_code == 200
    assert "120" in text(response) and "<form" not in text(response)
    assert "tend:record-changed" in response["HX-Trigger"]
    acme.refresh_from_db()
    assert acme.properties["employees"] == 120
    change = PropertyChange.objects.get(record=acme, property_name="employees", source=ChangeSource.UI)
    assert (change.old_value, change.new_value, change.changed_by) == (50, 120, csm)


def test_invalid_edit_shows_the_error_at_the_field_and_changes_nothing(csm_client, acme):
    before = snapshot(acme)

    response = edit(csm_client, acme, "employees", "lots")

    assert response.status_code == 422
    body = text(response)
    assert 'class="form-control form-control-sm is-invalid"' in body
    assert re.search(r'class="invalid-feedback d-block"[^>]*>Enter a number\.<', body)
    assert 'value="lots"' in body  # what the user typed stays in the input
    assert snapshot(acme) == before


def test_edit_rejects_a_duplicate_unique_value_at_the_field(csm_client, acme, companies):
    other = _create(companies, "Other", domain="other.example")
    before = snapshot(other)

    response = edit(csm_client, other, "domain", "ACME.example")

    assert response.status_code == 422
    assert "Another record already has this domain." in text(response)
    assert snapshot(other) == before


def test_clearing_a_value_removes_it(csm_client, acme):
    response = edit(csm_client, acme, "domain", "")

    assert response.status_code == 200
    acme.refresh_from_db()
    assert "domain" not in acme.properties
    assert PropertyChange.objects.get(record=acme, property_name="domain", source=ChangeSource.UI).new_value is None


def test_renaming_updates_the_title_out_of_band(csm_client, acme):
    response = edit(csm_client, acme, "name", "Acme Corp")

    assert response.status_code == 200
    assert f'hx-swap-oob="innerHTML:.record-title-{acme.pk}">Acme Corp<' in text(response)
    acme.refresh_from_db()
    assert acme.name == "Acme Corp"


def test_datetime_input_is_read_in_the_users_time_zone(csm, csm_client):
    csm.time_zone = "Europe/Berlin"
    csm.save()
    tickets = ObjectType.objects.get(name="tickets")
    ticket = _create(tickets, "Login broken")

    response = edit(csm_client, ticket, "closed_at", "2026-03-02T10:00")

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.properties["closed_at"] == "2026-03-02T09:00:00Z"
    form = text(csm_client.get(url("record-property-edit", ticket, "closed_at"), **HTMX))
    assert 'type="datetime-local"' in form and 'value="2026-03-02T10:00"' in form


def test_boolean_multi_enumeration_and_user_edits(csm, csm_client, contacts, companies, acme):
    contact = _create(contacts, "Sam")
    schema.property_create(
        actor=SYSTEM,
        object_type=companies,
        name="modules",
        label="Modules",
        type="multi_enumeration",
        options=["billing", "reports", "api"],
    )

    assert edit(csm_client, contact, "key_contact", "true").status_code == 200
    response = csm_client.post(url("record-property-edit", acme, "modules"), {"value": ["api", "billing"]}, **HTMX)
    assert response.status_code == 200
    assert edit(csm_client, acme, "owner", str(csm.pk)).status_code == 200

    contact.refresh_from_db()
    acme.refresh_from_db()
    assert contact.properties["key_contact"] is True
    assert acme.properties["modules"] == ["billing", "api"]
    assert acme.owner_id == csm.pk
    form = text(csm_client.get(url("record-property-edit", acme, "modules"), **HTMX))
    assert "multiple" in form and '<option value="api" selected>' in form and '<option value="reports">' in form


def test_stage_select_groups_stages_by_pipeline_and_sets_the_pipeline(csm_client):
    deals = ObjectType.objects.get(name="deals")
    pipeline = Pipeline.objects.get(object_type=deals)
    first, second = pipeline.stages.order_by("display_order")[:2]
    deal = _create(deals, "Acme renewal")

    form = text(csm_client.get(url("record-property-edit", deal, "stage"), **HTMX))
    assert f'<optgroup label="{pipeline.label}">' in form and f'<option value="{second.pk}">' in form

    response = edit(csm_client, deal, "stage", str(second.pk))

    assert response.status_code == 200
    assert second.label in text(response) and pipeline.label in text(response)
    deal.refresh_from_db()
    assert (deal.pipeline_id, deal.stage_id) == (pipeline.pk, second.pk)
    assert first.pk != second.pk


def test_stage_requirements_are_shown_and_nothing_changes(csm_client):
    deals = ObjectType.objects.get(name="deals")
    won = Pipeline.objects.get(object_type=deals).stages.get(outcome="won")
    deal = _create(deals, "Acme renewal")
    before = snapshot(deal)

    response = edit(csm_client, deal, "stage", str(won.pk))

    assert response.status_code == 422
    assert "amount is required to enter the stage" in text(response)
    assert snapshot(deal) == before


def test_read_only_properties_cannot_be_edited(csm_client, acme):
    before = snapshot(acme)

    get = csm_client.get(url("record-property-edit", acme, "created_at"), **HTMX)
    post = edit(csm_client, acme, "updated_at", "2020-01-01T00:00")

    assert get.status_code == 404 and post.status_code == 404
    assert snapshot(acme) == before


def test_cancel_shows_the_value_again(csm_client, acme):
    response = csm_client.get(url("record-property", acme, "employees"), **HTMX)

    assert response.status_code == 200
    assert 'data-testid="edit-employees"' in text(response) and "50" in text(response)


# --------------------------------------------------------------------------- who may change what


def test_viewer_without_a_seat_reads_but_cannot_change(viewer, acme, jo):
    client = _client(viewer)
    before = snapshot(acme)

    body = text(preview(client, acme))
    page = text(client.get(url("record-detail", acme)))

    for html in (body, page):
        assert "Acme" in html and "acme.example" in html
        assert 'data-testid="edit-' not in html
        assert 'data-testid="merge-button"' not in html and 'data-testid="association-add-button"' not in html
        assert "you need an assigned Service seat" in html
    assert client.get(url("record-property-edit", acme, "employees"), **HTMX).status_code == 403
    refused = edit(client, acme, "employees", "999")
    assert refused.status_code == 403 and "Service seat" in text(refused)
    assert client.post(url("record-merge", acme), {"other": jo.pk}, **HTMX).status_code == 403
    added = client.post(url("record-associations", acme), {"type": "contacts", "to": jo.pk}, **HTMX)
    assert added.status_code == 403
    assert snapshot(acme) == before
    assert not Association.objects.exists()


def test_view_as_is_read_only(admin, csm, acme):
    client = _client(admin)
    session = client.session
    session[VIEW_AS_SESSION_KEY] = csm.pk
    session.save()
    before = snapshot(acme)

    body = text(preview(client, acme))

    assert "Acme" in body
    assert "You are viewing Tend as Casey CSM" in body
    assert 'data-testid="edit-' not in body
    assert 'data-testid="follow-button"' not in body and 'data-testid="merge-button"' not in body
    refused = edit(client, acme, "employees", "999")
    assert refused.status_code == 403 and "viewing Tend as Casey CSM" in text(refused)
    assert client.post(url("record-follow", acme), {"following": "1"}, **HTMX).status_code == 403
    assert snapshot(acme) == before
    assert not Follow.objects.exists()


def test_archived_records_are_read_only(csm_client, acme):
    services.record_archive(actor=SYSTEM, record=acme)

    body = text(preview(csm_client, acme))

    assert "This record is archived" in body and 'data-testid="edit-' not in body
    assert edit(csm_client, acme, "employees", "1").status_code == 403


# --------------------------------------------------------------------------- history


def test_property_history_lists_changes_with_who_when_and_how(csm_client, acme):
    edit(csm_client, acme, "industry", "retail")

    response = csm_client.get(url("record-property-history", acme, "industry"), **HTMX)

    body = text(response)
    assert response.status_code == 200
    assert "History of Industry" in body
    assert re.search(r"Software</span> → <strong>Retail</strong>", body)
    assert "Casey CSM" in body and "Tend UI" in body
    assert "03/02/2026" in body  # the moment, in the user's locale


def test_property_history_empty_state(csm_client, acme):
    body = text(csm_client.get(url("record-property-history", acme, "city"), **HTMX))

    assert "No changes yet" in body


def test_record_history_filters_by_property_in_the_panel_and_as_a_page(csm_client, acme):
    edit(csm_client, acme, "city", "Lyon")

    panel = text(csm_client.get(url("record-history", acme, query="property=city"), **HTMX))
    page = csm_client.get(url("record-history", acme))

    assert 'data-testid="record-history"' in panel and "Lyon" in panel and "acme.example" not in panel
    assert '<option value="city" selected>' in panel
    assert page.status_code == 200 and "<nav" in text(page)
    assert "Lyon" in text(page) and "acme.example" in text(page)


# --------------------------------------------------------------------------- follow


def test_follow_and_unfollow(csm, csm_client, acme):
    followed = csm_client.post(url("record-follow", acme), {"following": "1"}, **HTMX)

    assert followed.status_code == 200 and "Following" in text(followed)
    assert Follow.objects.filter(user=csm, record=acme).exists()
    assert 'aria-pressed="true"' in text(preview(csm_client, acme))

    unfollowed = csm_client.post(url("record-follow", acme), {"following": "0"}, **HTMX)

    assert unfollowed.status_code == 200 and 'name="following" value="1"' in text(unfollowed)
    assert not Follow.objects.filter(user=csm, record=acme).exists()


def test_viewer_without_a_seat_may_follow(viewer, acme):
    response = _client(viewer).post(url("record-follow", acme), {"following": "1"}, **HTMX)

    assert response.status_code == 200
    assert Follow.objects.filter(user=viewer, record=acme).exists()


# --------------------------------------------------------------------------- merge


def test_merge_via_the_ui(csm, csm_client, companies, acme):
    duplicate = _create(companies, "Acme Inc", city="Lyon")
    engagement_create(
        actor=Actor(csm), kind=KINDS["notes"], properties={"body": "From the duplicate"}, associations=[duplicate.pk]
    )

    panel = csm_client.get(url("record-merge", acme), **HTMX)
    results = csm_client.get(url("record-merge-search", acme, query="q=acme"), **HTMX)
    confirm = csm_client.get(url("record-merge", acme, query=f"with={duplicate.pk}"), **HTMX)
    merged = csm_client.post(url("record-merge", acme), {"other": duplicate.pk, "keep": "this"}, **HTMX)

    assert panel.status_code == 200 and 'data-testid="merge-search"' in text(panel)
    assert "Acme Inc" in text(results) and f"with={duplicate.pk}" in text(results)
    assert f"with={acme.pk}" not in text(results)  # not itself
    assert "Which record do you keep?" in text(confirm) and "Acme Inc" in text(confirm)
    assert merged.status_code == 200 and merged["HX-Redirect"] == url("record-detail", acme)
    duplicate.refresh_from_db()
    acme.refresh_from_db()
    assert (duplicate.merged_into_id, duplicate.archived_at) == (acme.pk, NOW)
    assert acme.properties["city"] == "Lyon"
    assert "From the duplicate" in text(preview(csm_client, acme))


def test_merge_can_keep_the_other_record(csm_client, companies, acme):
    duplicate = _create(companies, "Acme Inc")

    response = csm_client.post(url("record-merge", acme), {"other": duplicate.pk, "keep": "other"}, **HTMX)

    assert response["HX-Redirect"] == url("record-detail", duplicate)
    acme.refresh_from_db()
    assert acme.merged_into_id == duplicate.pk


def test_merge_search_empty_state(csm_client, acme):
    body = text(csm_client.get(url("record-merge-search", acme, query="q=zzz"), **HTMX))

    assert "No other companies match “zzz”" in body


def test_merged_ids_redirect_to_the_survivor(csm_client, companies, acme):
    duplicate = _create(companies, "Acme Inc")
    services.record_merge(actor=SYSTEM, primary=acme, secondary=duplicate)

    page = csm_client.get(url("record-detail", duplicate))
    panel = csm_client.get(url("record-preview", duplicate), **HTMX)

    assert page.status_code == 302 and page["Location"] == url("record-detail", acme)
    assert panel.status_code == 302 and panel["Location"] == url("record-preview", acme)


# --------------------------------------------------------------------------- associations


def test_associations_add_and_remove(csm_client, acme, jo):
    form = csm_client.get(url("record-associations", acme, query="add=1"), **HTMX)
    found = csm_client.get(url("record-association-search", acme, query="type=contacts&q=champ"), **HTMX)
    added = csm_client.post(
        url("record-associations", acme), {"type": "contacts", "to": jo.pk, "label": "Champion"}, **HTMX
    )

    assert 'data-testid="association-add"' in text(form)
    assert "Jo Champion" in text(found) and f"{jo.pk}" in text(found)
    assert (
        added.status_code == 200 and "Jo Champion" in text(added) and 'data-testid="association-remove"' in text(added)
    )
    assert set(Association.objects.values_list("from_record_id", "to_record_id", "label")) == {
        (acme.pk, jo.pk, "Champion"),
        (jo.pk, acme.pk, "Champion"),
    }

    removed = csm_client.post(
        url("record-association-remove", acme), {"type": "contacts", "to": jo.pk, "label": "Champion"}, **HTMX
    )

    assert removed.status_code == 200 and "No associated records yet" in text(removed)
    assert not Association.objects.exists()


def test_association_with_an_archived_record_is_refused_at_the_form(csm_client, acme, jo):
    services.record_archive(actor=SYSTEM, record=jo)

    response = csm_client.post(url("record-associations", acme), {"type": "contacts", "to": jo.pk}, **HTMX)

    assert response.status_code == 422
    assert 'data-testid="association-error"' in text(response)
    assert not Association.objects.exists()


def test_association_search_empty_state(csm_client, acme):
    body = text(csm_client.get(url("record-association-search", acme, query="type=deals&q=nothing"), **HTMX))

    assert "No Deals match “nothing”" in body


# --------------------------------------------------------------------------- the record page


def test_record_page_shows_properties_timeline_and_association_management(csm, csm_client, acme, jo):
    services.association_create(actor=SYSTEM, from_record=acme, to_record=jo)
    engagement_create(
        actor=Actor(csm), kind=KINDS["calls"], properties={"title": "Renewal call"}, associations=[acme.pk]
    )
    edit(csm_client, acme, "city", "Lyon")

    response = csm_client.get(url("record-detail", acme))

    body = text(response)
    assert response.status_code == 200
    assert "<title>Acme · Tend</title>" in body
    assert 'data-testid="timeline"' in body
    assert "Renewal call" in body and "Company created" in body
    assert "Changed a property" in body and "Lyon" in body
    assert 'data-testid="association-add-button"' in body and 'data-testid="association-remove"' in body
    assert 'data-testid="open-record-page"' not in body


def test_record_page_works_for_a_custom_object_type(csm_client):
    projects = schema.object_type_create(
        actor=SYSTEM, name="projects", label_singular="Project", label_plural="Projects"
    )
    schema.property_create(actor=SYSTEM, object_type=projects, name="budget", label="Budget", type="currency")
    project = _create(projects, "Rollout", budget=1200)

    page = csm_client.get(url("record-detail", project))
    panel = preview(csm_client, project)
    saved = edit(csm_client, project, "budget", "1500.5")

    assert page.status_code == 200 and "Rollout" in text(page) and "Budget" in text(page) and "1,200.00" in text(page)
    assert "Project created" in text(page)
    assert panel.status_code == 200 and "Rollout" in text(panel)
    assert saved.status_code == 200 and "1,500.50" in text(saved)
    project.refresh_from_db()
    assert project.properties["budget"] == 1500.5


def test_timeline_loads_older_entries_without_gaps_or_repeats(csm, csm_client, acme, clock):
    # Same-moment entries straddle the page boundary, to check the cursor's tie-breaking.
    for i in range(TIMELINE_PAGE + 5):
        clock.move_to(NOW + dt.timedelta(minutes=i // 2), tick=False)
        engagement_create(
            actor=Actor(csm), kind=KINDS["notes"], properties={"body": f"note {i:02}"}, associations=[acme.pk]
        )

    first = text(csm_client.get(url("record-detail", acme)))
    cursor = re.search(r"before=([^\"&]+)", first).group(1)
    older = text(csm_client.get(url("record-timeline", acme) + f"?before={cursor}", **HTMX))

    seen = re.findall(r"note (\d\d)", first) + re.findall(r"note (\d\d)", older)
    assert sorted(seen) == [f"{i:02}" for i in range(TIMELINE_PAGE + 5)]
    assert len(re.findall(r"note (\d\d)", first)) == TIMELINE_PAGE
    assert "Company created" in older and 'data-testid="load-older"' not in older


def test_timeline_marks_upcoming_tasks_and_ignores_a_malformed_cursor(csm, csm_client, acme):
    later = (NOW + dt.timedelta(days=3)).isoformat()
    engagement_create(
        actor=Actor(csm),
        kind=KINDS["tasks"],
        properties={"subject": "Renewal prep", "due_at": later},
        associations=[acme.pk],
    )

    page = text(csm_client.get(url("record-detail", acme)))
    garbage = csm_client.get(url("record-timeline", acme, query="before=not-a-cursor"), **HTMX)

    assert re.search(r'data-testid="upcoming">Upcoming<', page) and "Renewal prep" in page
    assert garbage.status_code == 200 and "Renewal prep" in text(garbage)


# --------------------------------------------------------------------------- query counts


def _grow(csm, record, companies, contacts, n: int) -> None:
    """Give `record` n more custom properties, associations and engagements of every kind."""
    start = companies.property_definitions.count()
    for i in range(start, start + n):
        schema.property_create(actor=SYSTEM, object_type=companies, name=f"extra_{i}", label=f"Extra {i}", type="text")
        contact = _create(contacts, f"Contact {i}")
        services.association_create(actor=SYSTEM, from_record=record, to_record=contact)
        for kind, props in (
            ("notes", {"body": f"note {i}"}),
            ("tasks", {"subject": f"task {i}"}),
            ("meetings", {"title": f"meeting {i}", "start_at": NOW.isoformat(), "end_at": NOW.isoformat()}),
            ("calls", {"title": f"call {i}"}),
            ("emails", {"subject": f"email {i}"}),
        ):
            engagement_create(actor=Actor(csm), kind=KINDS[kind], properties=props, associations=[record.pk])
        services.record_update(actor=SYSTEM, record=record, properties={f"extra_{i}": "x", "city": f"City {i}"})


def _count(client, path, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    assert response.status_code == 200
    return len(queries)


def test_preview_and_page_use_a_bounded_number_of_queries(
    csm, csm_client, companies, contacts, acme, django_assert_max_num_queries
):
    _grow(csm, acme, companies, contacts, 1)
    small_preview = _count(csm_client, url("record-preview", acme), **HTMX)
    small_page = _count(csm_client, url("record-detail", acme))

    _grow(csm, acme, companies, contacts, 15)

    assert _count(csm_client, url("record-preview", acme), **HTMX) == small_preview
    assert _count(csm_client, url("record-detail", acme)) == small_page
    with django_assert_max_num_queries(21):  # one of them reads the health score row
        preview(csm_client, acme)
    with django_assert_max_num_queries(23):
        csm_client.get(url("record-detail", acme))


def test_hx_trigger_header_is_valid_json(csm_client, acme):
    response = edit(csm_client, acme, "employees", "51")

    assert json.loads(response["HX-Trigger"]) == {"tend:record-changed": {"id": acme.pk}}
