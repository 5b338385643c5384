"""Built-in texts of a definition: stored as message ids, read in the viewer's language while
unchanged; an admin's own text is kept as typed."""

import importlib

import pytest
from django.utils import translation

from tend.health.definitions.statuses import status_schemes
from tend.health.definitions.template import template
from tend.health.definitions.texts import keep_builtin, localized, text

pytestmark = pytest.mark.usefixtures("translated")


def test_the_template_is_stored_in_message_ids_with_their_marks():
    definition = template()
    usage = definition["groups"][0]
    assert (usage["label"], usage["builtin"]) == ("Usage", {"label": "Usage"})
    assert definition["statuses"][2] == {
        "key": "at_risk",
        "min": 0,
        "color": "danger",
        "label": "At risk",
        "action": "Call the customer and agree on a recovery plan.",
        "builtin": {"label": "At risk", "action": "Call the customer and agree on a recovery plan."},
    }


def test_a_built_in_text_reads_in_the_active_language_and_a_typed_one_as_typed():
    healthy = status_schemes()["three"][0]
    typed = {**healthy, "label": "Thriving"}
    with translation.override("ja"):
        assert (text(healthy), text(typed), text(typed, "action")) == (
            "良好",
            "Thriving",
            "アップセルの機会を探し、リファレンスを依頼しましょう。",
        )


def test_localized_translates_every_level_and_leaves_the_stored_definition_alone():
    definition = template()
    with translation.override("de"):
        shown = localized(definition)
    assert shown["groups"][5]["label"] == "Vertrag"
    assert shown["groups"][5]["criteria"][0]["bands"][0]["label"] == "6 Monate oder mehr"
    assert shown["statuses"][0]["label"] == "Gesund"
    assert definition == template()


@pytest.mark.parametrize(
    ("submitted", "stored"),
    [
        ("Gesund", {"label": "Healthy", "builtin": {"label": "Healthy"}}),  # as the editor showed it
        ("Healthy", {"label": "Healthy", "builtin": {"label": "Healthy"}}),  # as the API returned it
        ("Sehr gut", {"label": "Sehr gut"}),  # renamed: the admin's from now on
    ],
)
def test_saving_keeps_an_untouched_text_built_in(submitted, stored):
    with translation.override("de"):
        assert keep_builtin({"label": submitted, "builtin": {"label": "Healthy"}}, {"label": submitted}) == stored


def test_the_migration_marks_texts_stored_in_the_creators_language():
    migration = importlib.import_module("tend.health.migrations.0012_builtin_texts")
    text_map, name_map = migration._builtin_maps()
    definition = {
        "groups": [{"key": "usage", "label": "利用状況", "criteria": [{"key": "x", "label": "Mine", "bands": []}]}],
        "statuses": [{"key": "healthy", "label": "Gesund", "action": "Ruft an."}],
    }

    assert migration._mark_definition(definition, text_map) is True
    assert definition["groups"][0] == {
        "key": "usage",
        "label": "Usage",
        "builtin": {"label": "Usage"},
        "criteria": [{"key": "x", "label": "Mine", "bands": []}],
    }
    assert definition["statuses"][0] == {
        "key": "healthy",
        "label": "Healthy",
        "action": "Ruft an.",
        "builtin": {"label": "Healthy"},
    }
    assert name_map["Salute standard"] == "Standard health"
