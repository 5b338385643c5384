"""The Customer Success settings: the defaults of a fresh workspace, the audit log and the
announcement every saved change makes (tend.core.hooks.settings_changed)."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType

from tend.core import hooks
from tend.core.errors import ValidationFailed
from tend.core.policy import Actor
from tend.cs_settings import services
from tend.cs_settings.models import SettingsChange, WorkspaceSettings
from tend.cs_settings.queries import settings_changes, workspace_settings

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def announced(monkeypatch):
    """What the settings announce, heard by a subscriber of this test only."""
    heard: list[tuple[str, object, object]] = []
    monkeypatch.setattr(hooks, "_settings", hooks.Announcement())
    hooks.on_settings_changed(lambda section, *, before, after: heard.append((section, before, after)))
    return heard


def test_a_fresh_workspace_gets_the_usual_defaults_once():
    first = workspace_settings()
    assert workspace_settings().pk == first.pk
    assert WorkspaceSettings.objects.count() == 1
    assert (first.customer_object_type.name, first.customer_csm_property, first.customer_renewal_property) == (
        "companies",
        "csm",
        "renewal_date",
    )
    assert first.services_object_type.name == "services"
    assert first.revenue_objects == [
        {
            "objectType": "deals",
            "csmProperty": "csm",
            "renewalProperty": "contract_end_date",
            "pipelines": [],
            "defaultPipeline": None,
        }
    ]


def test_a_saved_change_is_logged_and_announced(admin, announced, time_machine):
    time_machine.move_to(NOW, tick=False)
    services.settings_update_customers(
        actor=Actor(admin), object_type="companies", csm_property="csm", renewal_property=""
    )
    before = {"objectType": "companies", "csmProperty": "csm", "renewalProperty": "renewal_date"}
    after = {"objectType": "companies", "csmProperty": "csm", "renewalProperty": ""}
    assert announced == [("customers", before, after)]
    [change] = settings_changes("customers", limit=20)
    assert (change.old_value, change.new_value, change.changed_by, change.changed_at) == (before, after, admin, NOW)


def test_saving_the_same_values_logs_and_announces_nothing(admin, announced):
    services.settings_update_customers(
        actor=Actor(admin), object_type="companies", csm_property="csm", renewal_property="renewal_date"
    )
    assert announced == []
    assert SettingsChange.objects.count() == 0


def test_a_refused_change_logs_and_announces_nothing(admin, announced):
    workspace_settings()
    with pytest.raises(ValidationFailed):
        services.settings_update_customers(actor=Actor(admin), object_type="deals", csm_property="csm")
    assert announced == []
    assert SettingsChange.objects.count() == 0
    assert workspace_settings().customer_object_type.name == "companies"


def test_another_apps_section_is_logged_the_same_way(admin, announced, time_machine):
    time_machine.move_to(NOW, tick=False)
    change = services.settings_change_log(
        actor=Actor(admin), section="usage", old_value={"key": "domain"}, new_value={"key": "external_id"}
    )
    assert settings_changes("usage", limit=20) == [change]
    assert announced == [("usage", {"key": "domain"}, {"key": "external_id"})]
    assert services.settings_change_log(actor=Actor(admin), section="usage", old_value={}, new_value={}) is None
    assert SettingsChange.objects.count() == 1


def test_the_models_content_types_are_this_apps():
    labels = {ContentType.objects.get_for_model(model).app_label for model in (WorkspaceSettings, SettingsChange)}
    assert labels == {"cs_settings"}
    assert not ContentType.objects.filter(app_label="workspace", model__in=["workspacesettings", "settingschange"])
