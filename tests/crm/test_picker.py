"""The shared record picker: search across object types, already-chosen records left out."""

import pytest
from django.urls import reverse

from tend.crm.models import ObjectType
from tend.crm.picker import picker_search, records_by_ids
from tend.crm.services import record_archive, record_create


@pytest.fixture
def acme(csm_actor, companies):
    return record_create(actor=csm_actor, object_type=companies, properties={"name": "Acme Corp"})


def test_search_finds_records_of_several_types_names_starting_with_the_query_first(
    csm_actor, companies, contacts, acme
):
    # Given a company and a contact whose names contain "acme", and one that does not match
    deals = ObjectType.objects.get(name="deals")
    deal = record_create(actor=csm_actor, object_type=deals, properties={"name": "Big Acme renewal"})
    record_create(actor=csm_actor, object_type=companies, properties={"name": "Globex"})
    # When searching
    found = picker_search(csm_actor, "acme")
    # Then both types are found, the name starting with the query first
    assert [r.pk for r in found] == [acme.pk, deal.pk]


def test_search_leaves_out_archived_and_already_chosen_records(csm_actor, companies, acme):
    other = record_create(actor=csm_actor, object_type=companies, properties={"name": "Acme Labs"})
    gone = record_create(actor=csm_actor, object_type=companies, properties={"name": "Acme Old"})
    record_archive(actor=csm_actor, record=gone)
    assert [r.pk for r in picker_search(csm_actor, "acme", exclude={acme.pk})] == [other.pk]
    assert picker_search(csm_actor, "   ") is None


def test_records_by_ids_keeps_order_and_ignores_junk(csm_actor, companies, acme):
    other = record_create(actor=csm_actor, object_type=companies, properties={"name": "Initech"})
    assert records_by_ids(csm_actor, [str(other.pk), "x", acme.pk, other.pk, 999999]) == [other, acme]


def test_search_view_renders_results_without_chosen_ones(
    client, csm, companies, acme, csm_actor, django_assert_max_num_queries
):
    other = record_create(actor=csm_actor, object_type=companies, properties={"name": "Acme Labs"})
    client.force_login(csm)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("record-picker-search"), {"q": "acme", "records": [acme.pk]})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-id="{other.pk}"' in html
    assert f'data-id="{acme.pk}"' not in html
    empty = client.get(reverse("record-picker-search"), {"q": "zzz"}).content.decode()
    assert "Nothing matches" in empty


def test_search_view_needs_sign_in(client):
    response = client.get(reverse("record-picker-search"), {"q": "acme"})
    assert response.status_code == 302


def test_picker_template_renders_chosen_records_as_hidden_inputs(csm_actor, acme, rf):
    from django.template.loader import render_to_string

    html = render_to_string("crm/_record_picker.html", {"picker_name": "records", "picker_selected": [acme]})
    assert f"id: '{acme.pk}'" in html
    assert "name: 'Acme Corp'" in html
    assert 'name="records"' in html
