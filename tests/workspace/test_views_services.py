"""Saved views: sharing rules, validation, the six-default limit, deletion confirmation."""

import pytest

from tend.core.errors import Forbidden, ValidationFailed
from tend.core.policy import SYSTEM, Actor
from tend.cs_settings.queries import workspace_settings
from tend.directory.services import user_create
from tend.workspace import queries, services
from tend.workspace.models import SavedView

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    return user_create(
        email="manager@example.com",
        password="pw-123456789",
        full_name="Mia Manager",
        has_service_seat=True,
        manage_cs_settings=True,
    )


def make_view(actor, name="Mine", visibility="private", **kw):
    return services.view_create(
        actor=actor,
        tab="customers",
        object_type=workspace_settings().customer_object_type,
        name=name,
        visibility=visibility,
        **kw,
    )


class TestCreate:
    def test_tend_itself_keeps_no_saved_views(self):
        with pytest.raises(Forbidden, match="A saved view belongs to a person."):
            make_view(SYSTEM)
        assert not SavedView.objects.exists()

    def test_csm_creates_a_private_view_with_filters_columns_sorts(self, csm):
        filters = {"filterGroups": [{"filters": [{"propertyName": "cs_stage", "operator": "EQ", "value": "at_risk"}]}]}
        view = make_view(
            Actor(csm),
            filters=filters,
            columns=["name", "mrr"],
            sorts=[{"propertyName": "mrr", "direction": "DESCENDING"}],
        )
        assert (view.owner, view.visibility, view.filters, view.columns) == (csm, "private", filters, ["name", "mrr"])

    def test_default_columns_when_none_chosen(self, csm):
        assert make_view(Actor(csm)).columns == [
            "name",
            "csm",
            "cs_stage",
            "health_score",
            "mrr",
            "renewal_date",
            "last_activity_at",
        ]

    def test_sharing_with_everyone_needs_settings_permission(self, csm, manager):
        with pytest.raises(ValidationFailed) as failed:
            make_view(Actor(csm), visibility="everyone")
        assert failed.value.errors[0].field == "visibility"
        assert SavedView.objects.count() == 0
        assert make_view(Actor(manager), visibility="everyone").visibility == "everyone"

    def test_invalid_filters_and_columns_are_named_and_nothing_is_saved(self, csm):
        filters = {"filterGroups": [{"filters": [{"propertyName": "mrr", "operator": "CONTAINS_TOKEN", "value": "x"}]}]}
        with pytest.raises(ValidationFailed) as failed:
            make_view(Actor(csm), name="", filters=filters, columns=["name", "bogus"])
        assert {e.field for e in failed.value.errors} == {"name", "filterGroups[0].filters[0].operator", "columns[1]"}
        assert SavedView.objects.count() == 0


class TestVisibilityAndEditing:
    def test_private_views_of_others_are_invisible(self, csm, manager):
        mine = make_view(Actor(csm), name="Mine")
        shared = make_view(Actor(manager), name="Shared", visibility="everyone")
        make_view(Actor(manager), name="Manager private")
        assert set(queries.views_for(Actor(csm), "customers")) == {mine, shared}
        from tend.core.errors import NotFound

        with pytest.raises(NotFound):
            queries.get_view_for_user(Actor(csm), "customers", SavedView.objects.get(name="Manager private").pk)

    def test_only_owner_edits_private_and_only_managers_edit_shared(self, csm, viewer, manager):
        object_type = workspace_settings().customer_object_type
        mine = make_view(Actor(csm))
        with pytest.raises(Forbidden):
            services.view_update(actor=Actor(viewer), view=mine, object_type=object_type, name="Hijack")
        shared = make_view(Actor(manager), name="Team", visibility="everyone")
        with pytest.raises(Forbidden):
            services.view_update(actor=Actor(csm), view=shared, object_type=object_type, name="Mine now")
        services.view_update(actor=Actor(manager), view=shared, object_type=object_type, name="Team view")
        shared.refresh_from_db()
        assert shared.name == "Team view"
        mine.refresh_from_db()
        assert mine.name == "Mine"

    def test_delete_needs_confirmation(self, csm):
        view = make_view(Actor(csm))
        with pytest.raises(ValidationFailed) as failed:
            services.view_delete(actor=Actor(csm), view=view, confirmed=False)
        assert failed.value.errors[0].field == "confirm"
        assert SavedView.objects.filter(pk=view.pk).exists()
        services.view_delete(actor=Actor(csm), view=view, confirmed=True)
        assert not SavedView.objects.filter(pk=view.pk).exists()


class TestDefaults:
    def test_at_most_six_defaults_and_unsetting_keeps_the_view(self, manager):
        actor = Actor(manager)
        views = [make_view(actor, name=f"V{i}", visibility="everyone") for i in range(7)]
        for view in views[:6]:
            services.view_set_default(actor=actor, view=view, is_default=True, description=f"about {view.name}")
        with pytest.raises(ValidationFailed) as failed:
            services.view_set_default(actor=actor, view=views[6], is_default=True)
        assert failed.value.errors[0].code == "too_many_defaults"
        views[6].refresh_from_db()
        assert views[6].is_default is False
        assert [v.name for v in queries.default_views(actor, "customers")] == ["V0", "V1", "V2", "V3", "V4", "V5"]

        services.view_set_default(actor=actor, view=views[0], is_default=False)
        assert SavedView.objects.filter(pk=views[0].pk, is_default=False).exists()
        services.view_set_default(actor=actor, view=views[6], is_default=True)
        assert [v.name for v in queries.default_views(actor, "customers")][-1] == "V6"

    def test_default_needs_manager_and_everyone_visibility(self, csm, manager):
        private = make_view(Actor(manager), name="Private")
        with pytest.raises(ValidationFailed):
            services.view_set_default(actor=Actor(manager), view=private, is_default=True)
        shared = make_view(Actor(manager), name="Shared", visibility="everyone")
        with pytest.raises(Forbidden):
            services.view_set_default(actor=Actor(csm), view=shared, is_default=True)
        assert not SavedView.objects.filter(is_default=True).exists()

    def test_default_view_cannot_become_private(self, manager):
        actor = Actor(manager)
        view = make_view(actor, visibility="everyone")
        services.view_set_default(actor=actor, view=view, is_default=True)
        with pytest.raises(ValidationFailed):
            services.view_update(actor=actor, view=view, object_type=view_object_type(), visibility="private")
        view.refresh_from_db()
        assert view.visibility == "everyone"

    def test_reorder(self, manager):
        actor = Actor(manager)
        a, b, c = (make_view(actor, name=n, visibility="everyone") for n in "ABC")
        for v in (a, b, c):
            services.view_set_default(actor=actor, view=v, is_default=True)
        services.views_reorder_defaults(actor=actor, tab="customers", view_ids=[c.pk, a.pk, b.pk])
        assert [v.name for v in queries.default_views(actor, "customers")] == ["C", "A", "B"]
        with pytest.raises(ValidationFailed):
            services.views_reorder_defaults(actor=actor, tab="customers", view_ids=[c.pk])
        assert [v.name for v in queries.default_views(actor, "customers")] == ["C", "A", "B"]


def view_object_type():
    return workspace_settings().customer_object_type
