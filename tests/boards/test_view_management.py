"""Saved views on the Services and Revenue tabs are managed exactly as on the Customers tab."""

import pytest

from tend.core.policy import Actor
from tend.crm.models import ObjectType
from tend.directory.services import user_create
from tend.workspace import services
from tend.workspace.models import SavedView

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    return user_create(email="m@example.com", password="pw-123456789", has_service_seat=True, manage_cs_settings=True)


def board_view(actor, tab="services", object_type="services", **kw):
    return services.view_create(
        actor=actor, tab=tab, object_type=ObjectType.objects.get(name=object_type), name="Kickoffs", **kw
    )


def test_rename_and_share_a_services_view_returns_to_the_services_tab(client, manager):
    view = board_view(Actor(manager))
    client.force_login(manager)
    response = client.post(f"/customers/views/{view.pk}/", {"name": "Kickoffs this week", "visibility": "everyone"})
    assert response.status_code == 302
    assert response["Location"] == f"/services/?view={view.pk}"
    view.refresh_from_db()
    assert (view.name, view.visibility) == ("Kickoffs this week", "everyone")


def test_default_revenue_view_and_its_actions_on_the_board(client, manager):
    view = board_view(Actor(manager), tab="revenue-deals", object_type="deals", visibility="everyone")
    client.force_login(manager)
    response = client.post(f"/customers/views/{view.pk}/default/", {"is_default": "on", "description": "Big deals"})
    assert response["Location"] == f"/revenue/?object=deals&view={view.pk}"
    view.refresh_from_db()
    assert view.is_default
    page = client.get(f"/revenue/?object=deals&view={view.pk}").content.decode()
    assert 'data-testid="view-actions"' in page and 'id="default-modal"' in page


def test_invalid_filters_on_a_board_view_are_checked_against_that_object(client, manager):
    view = board_view(Actor(manager))
    client.force_login(manager)
    bad = '{"filterGroups": [{"filters": [{"propertyName": "mrr", "operator": "EQ", "value": 1}]}]}'
    response = client.post(
        f"/customers/views/{view.pk}/", {"name": "x", "filters": bad, "sorts": "[]"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422  # services have no mrr property
    assert SavedView.objects.get(pk=view.pk).filters == {}


def test_delete_a_board_view(client, manager):
    view = board_view(Actor(manager))
    client.force_login(manager)
    response = client.post(f"/customers/views/{view.pk}/delete/", {"confirm": "on"})
    assert response["Location"] == "/services/"
    assert not SavedView.objects.filter(pk=view.pk).exists()
