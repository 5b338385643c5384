"""The record schema's writes: property definitions, pipelines and stages, object types.

Every failure path asserts that nothing changed: the schema, and records where a rule guards them.
"""

import pytest

from tend.core.errors import Forbidden, ValidationFailed
from tend.core.policy import SYSTEM, Actor
from tend.crm import queries, schema, services
from tend.crm.models import (
    ObjectType,
    Pipeline,
    PropertyChange,
    PropertyDefinition,
    Stage,
)
from tend.crm.registry import registry_for
from tests.crm.helpers import LATER, NOW, fields, make, state

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def settings_admin(db):
    """Manages CS settings (schema) but has no Service seat."""
    from tend.directory.services import user_create

    return Actor(user_create(email="settings@example.com", full_name="Sam Settings", manage_cs_settings=True))


def schema_state() -> dict:
    return {
        "types": list(ObjectType.objects.order_by("pk").values()),
        "properties": list(PropertyDefinition.objects.order_by("pk").values()),
        "pipelines": list(Pipeline.objects.order_by("pk").values()),
        "stages": list(Stage.objects.order_by("pk").values()),
    }


# --------------------------------------------------------------------------- properties (schema)


class TestPropertyCreate:
    def test_creates_a_property_after_the_last_one(self, companies, admin_actor):
        last = PropertyDefinition.objects.filter(object_type=companies).order_by("-display_order").first()

        definition = schema.property_create(
            actor=admin_actor,
            object_type=companies,
            name="tier",
            label=" Tier ",
            type="enumeration",
            options=["gold", {"value": "silver", "label": "Silver"}],
            group="customer_success",
        )

        definition.refresh_from_db()
        assert (definition.label, definition.type, definition.display_order, definition.built_in) == (
            "Tier",
            "enumeration",
            last.display_order + 1,
            False,
        )
        assert definition.options == [{"value": "gold", "label": "gold"}, {"value": "silver", "label": "Silver"}]
        assert registry_for(companies).get("tier").options == tuple(definition.options)

    @pytest.mark.parametrize(
        "name", ["Tier", "1tier", "has space", "double__under", "trailing_", "_lead", "tier-x", "", "x" * 65]
    )
    def test_name_format(self, companies, admin_actor, name):
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.property_create(actor=admin_actor, object_type=companies, name=name, label="L", type="text")

        assert fields(excinfo) == [("name", "invalid")]
        assert schema_state() == before

    @pytest.mark.parametrize(
        "name",
        ["id", "pk", "properties", "archived", "contains", "has_key", "isnull", "name", "owner", "stage", "created_at"],
    )
    def test_reserved_names(self, companies, admin_actor, name):
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.property_create(actor=admin_actor, object_type=companies, name=name, label="L", type="text")

        assert fields(excinfo) == [("name", "reserved")]
        assert schema_state() == before

    def test_duplicate_name_per_object_type(self, companies, contacts, admin_actor):
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.property_create(actor=admin_actor, object_type=companies, name="domain", label="D", type="text")

        assert fields(excinfo) == [("name", "unique")]
        assert schema_state() == before
        other = schema.property_create(actor=admin_actor, object_type=contacts, name="domain", label="D", type="text")
        assert other.object_type == contacts

    def test_archived_property_name_stays_taken(self, companies, admin_actor):
        definition = schema.property_create(
            actor=admin_actor, object_type=companies, name="tier", label="T", type="text"
        )
        schema.property_archive(actor=admin_actor, definition=definition)

        with pytest.raises(ValidationFailed) as excinfo:
            schema.property_create(actor=admin_actor, object_type=companies, name="tier", label="T", type="text")

        assert fields(excinfo) == [("name", "unique")]

    @pytest.mark.parametrize(
        ("prop_type", "options", "expected"),
        [
            ("enumeration", [], [("options", "required")]),
            ("enumeration", None, [("options", "required")]),
            ("multi_enumeration", "gold", [("options", "required")]),
            ("enumeration", [{"value": "has space"}], [("options[0].value", "invalid")]),
            ("enumeration", [{"label": "No value"}], [("options[0].value", "invalid")]),
            ("enumeration", [7], [("options[0].value", "invalid")]),
            ("enumeration", ["gold", "Gold"], [("options[1].value", "unique")]),
            ("enumeration", ["v" * 101], [("options[0].value", "invalid")]),
            ("text", ["gold"], [("options", "invalid")]),
        ],
    )
    def test_enumeration_options(self, companies, admin_actor, prop_type, options, expected):
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.property_create(
                actor=admin_actor, object_type=companies, name="tier", label="Tier", type=prop_type, options=options
            )

        assert fields(excinfo) == expected
        assert schema_state() == before

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"type": "color"}, [("type", "invalid")]),
            ({"label": " "}, [("label", "required")]),
            ({"label": "l" * 121}, [("label", "invalid")]),
            ({"group": "g" * 81}, [("group", "invalid")]),
            ({"type": "boolean", "unique": True}, [("unique", "invalid")]),
            ({"type": "enumeration", "options": ["a"], "unique": True}, [("unique", "invalid")]),
        ],
    )
    def test_other_field_rules(self, companies, admin_actor, kwargs, expected):
        before = schema_state()
        arguments = {"name": "tier", "label": "Tier", "type": "text", **kwargs}

        with pytest.raises(ValidationFailed) as excinfo:
            schema.property_create(actor=admin_actor, object_type=companies, **arguments)

        assert fields(excinfo) == expected
        assert schema_state() == before

    def test_needs_manage_cs_settings(self, companies, csm_actor, settings_admin):
        before = schema_state()

        with pytest.raises(Forbidden, match="Manage Customer Success settings"):
            schema.property_create(actor=csm_actor, object_type=companies, name="tier", label="T", type="text")

        assert schema_state() == before
        schema.property_create(actor=settings_admin, object_type=companies, name="tier", label="T", type="text")


class TestPropertyUpdate:
    @pytest.fixture
    def tier(self, companies):
        return schema.property_create(
            actor=SYSTEM,
            object_type=companies,
            name="tier",
            label="Tier",
            type="enumeration",
            options=["gold", "silver", "bronze"],
        )

    def test_removing_an_option_in_use_is_refused(self, tier, admin_actor):
        make("companies", "Acme", tier="silver")
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.property_update(actor=admin_actor, definition=tier, changes={"options": ["gold"]})

        assert [(e.field, e.message, e.code) for e in excinfo.value.errors] == [
            ("options", "Option silver is in use and cannot be removed.", "in_use")
        ]
        assert schema_state() == before

    def test_removing_an_unused_option_and_relabelling(self, tier, admin_actor):
        make("companies", "Acme", tier="silver")
        archived = make("companies", "Old", tier="bronze")
        services.record_archive(actor=SYSTEM, record=archived)

        schema.property_update(
            actor=admin_actor,
            definition=tier,
            changes={"options": [{"value": "gold", "label": "Gold"}, "silver"], "label": "Plan tier"},
        )

        tier.refresh_from_db()
        assert tier.label == "Plan tier"
        assert tier.options == [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "silver"}]

    def test_removing_a_multi_enumeration_option_in_use(self, companies, admin_actor):
        regions = schema.property_create(
            actor=SYSTEM,
            object_type=companies,
            name="regions",
            label="Regions",
            type="multi_enumeration",
            options=["eu", "us", "apac"],
        )
        record = make("companies", "Acme", regions=["us", "eu"])
        assert record.properties == {"regions": ["eu", "us"]}

        with pytest.raises(ValidationFailed) as excinfo:
            schema.property_update(actor=admin_actor, definition=regions, changes={"options": ["eu", "apac"]})
        schema.property_update(actor=admin_actor, definition=regions, changes={"options": ["eu", "us"]})

        assert fields(excinfo) == [("options", "in_use")]
        regions.refresh_from_db()
        assert [o["value"] for o in regions.options] == ["eu", "us"]

    def test_unique_refused_while_duplicates_exist(self, companies, admin_actor):
        city = PropertyDefinition.objects.get(object_type=companies, name="city")
        make("companies", "A", city="Rome")
        make("companies", "B", city="ROME")
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.property_update(actor=admin_actor, definition=city, changes={"unique": True})

        assert fields(excinfo) == [("unique", "duplicates")]
        assert schema_state() == before

    def test_unique_allowed_without_duplicates_then_enforced(self, companies, admin_actor):
        city = PropertyDefinition.objects.get(object_type=companies, name="city")
        make("companies", "A", city="Rome")
        make("companies", "B", city="Milan")

        schema.property_update(actor=admin_actor, definition=city, changes={"unique": True})

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(actor=SYSTEM, object_type=companies, properties={"name": "C", "city": "rome"})
        assert fields(excinfo) == [("properties.city", "unique")]

    @pytest.mark.parametrize(
        ("changes", "expected"),
        [
            ({"type": "text"}, [("type", "invalid")]),
            ({"name": "other"}, [("name", "invalid")]),
            ({"required": "yes"}, [("required", "invalid")]),
            ({"label": ""}, [("label", "required")]),
            ({"displayOrder": "first"}, [("displayOrder", "invalid")]),
            ({"options": []}, [("options", "required")]),
        ],
    )
    def test_invalid_changes_change_nothing(self, tier, admin_actor, changes, expected):
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.property_update(actor=admin_actor, definition=tier, changes=changes)

        assert fields(excinfo) == expected
        assert schema_state() == before

    def test_needs_manage_cs_settings(self, tier, csm_actor):
        before = schema_state()

        with pytest.raises(Forbidden):
            schema.property_update(actor=csm_actor, definition=tier, changes={"label": "X"})

        assert schema_state() == before


class TestPropertyArchive:
    def test_built_in_cannot_be_archived(self, companies, admin_actor):
        domain = PropertyDefinition.objects.get(object_type=companies, name="domain")
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.property_archive(actor=admin_actor, definition=domain)

        assert fields(excinfo) == [("name", "built_in")]
        assert schema_state() == before

    def test_archived_property_keeps_values_but_leaves_the_registry(self, clock, companies, admin_actor):
        tier = schema.property_create(actor=SYSTEM, object_type=companies, name="tier", label="T", type="text")
        record = make("companies", "Acme", tier="gold")

        schema.property_archive(actor=admin_actor, definition=tier)

        tier.refresh_from_db()
        record.refresh_from_db()
        assert tier.archived_at == NOW
        assert registry_for(companies).get("tier") is None
        assert record.properties == {"tier": "gold"}
        with pytest.raises(ValidationFailed) as excinfo:
            services.record_update(actor=SYSTEM, record=record, properties={"tier": "silver"})
        assert fields(excinfo) == [("properties.tier", "unknown_property")]

    def test_needs_manage_cs_settings(self, companies, csm_actor):
        tier = schema.property_create(actor=SYSTEM, object_type=companies, name="tier", label="T", type="text")

        with pytest.raises(Forbidden):
            schema.property_archive(actor=csm_actor, definition=tier)

        tier.refresh_from_db()
        assert tier.archived_at is None


# --------------------------------------------------------------------------- pipelines (schema)


class TestPipelineSchema:
    def test_create_a_pipeline_with_its_stages(self, deals, admin_actor):
        existing = Pipeline.objects.filter(object_type=deals).count()

        pipeline = schema.pipeline_create(
            actor=admin_actor,
            object_type=deals,
            label=" Renewals ",
            stages=[
                {"label": "Upcoming"},
                {"label": "Quoted", "requiredProperties": ["amount", "owner"], "probability": 0.5, "targetDays": 14},
                {"label": "Renewed", "outcome": "won", "probability": 1},
            ],
        )

        assert pipeline.label == "Renewals"
        assert Pipeline.objects.filter(object_type=deals).count() == existing + 1
        assert list(
            pipeline.stages.order_by("display_order").values_list(
                "label", "display_order", "required_properties", "outcome", "probability", "target_days"
            )
        ) == [
            ("Upcoming", 0, [], "", None, None),
            ("Quoted", 1, ["amount", "owner"], "", 0.5, 14),
            ("Renewed", 2, [], "won", 1.0, None),
        ]

    @pytest.mark.parametrize(
        ("label", "stages", "expected"),
        [
            ("", [{"label": "S"}], [("label", "required")]),
            ("p" * 121, [{"label": "S"}], [("label", "invalid")]),
            ("P", [], [("stages", "required")]),
            ("P", [{"label": ""}], [("stages[0].label", "required")]),
            ("P", [{"label": "S", "requiredProperties": ["nope"]}], [("stages[0].requiredProperties[0]", "invalid")]),
            (
                "P",
                [{"label": "S", "requiredProperties": ["created_at"]}],
                [("stages[0].requiredProperties[0]", "invalid")],
            ),
            ("P", [{"label": "S", "outcome": "maybe"}], [("stages[0].outcome", "invalid")]),
            ("P", [{"label": "S", "probability": 1.5}], [("stages[0].probability", "invalid")]),
            ("P", [{"label": "S", "targetDays": -1}], [("stages[0].targetDays", "invalid")]),
        ],
    )
    def test_create_rules(self, deals, admin_actor, label, stages, expected):
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.pipeline_create(actor=admin_actor, object_type=deals, label=label, stages=stages)

        assert fields(excinfo) == expected
        assert schema_state() == before

    @pytest.mark.parametrize(
        ("changes", "expected"),
        [
            ({"label": ""}, [("label", "required")]),
            ({"label": 7}, [("label", "invalid")]),
            ({"displayOrder": "first"}, [("displayOrder", "invalid")]),
            ({"archived": "yes"}, [("archived", "invalid")]),
            ({"stages": []}, [("stages", "invalid")]),
        ],
    )
    def test_update_rules(self, deals, admin_actor, changes, expected):
        pipeline = Pipeline.objects.get(label="Sales pipeline")
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.pipeline_update(actor=admin_actor, pipeline=pipeline, changes=changes)

        assert fields(excinfo) == expected
        assert schema_state() == before

    def test_a_pipeline_in_use_cannot_be_archived(self, clock, deals, admin_actor):
        pipeline = Pipeline.objects.get(label="Sales pipeline")
        record = make("deals", "D", pipeline=pipeline.pk)
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.pipeline_update(actor=admin_actor, pipeline=pipeline, changes={"archived": True})
        assert fields(excinfo) == [("archived", "in_use")]
        assert schema_state() == before

        services.record_archive(actor=SYSTEM, record=record)
        schema.pipeline_update(actor=admin_actor, pipeline=pipeline, changes={"archived": True})
        pipeline.refresh_from_db()
        assert pipeline.archived_at == NOW

    def test_a_stage_in_use_cannot_be_deleted(self, deals, admin_actor):
        pipeline = schema.pipeline_create(
            actor=admin_actor, object_type=deals, label="Tiny", stages=[{"label": "One"}, {"label": "Two"}]
        )
        one = pipeline.stages.get(label="One")
        make("deals", "D", stage=one.pk)
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.stage_delete(actor=admin_actor, stage=one)

        assert fields(excinfo) == [("stage", "in_use")]
        assert schema_state() == before

    def test_a_pipeline_keeps_its_last_stage(self, deals, admin_actor):
        pipeline = schema.pipeline_create(
            actor=admin_actor, object_type=deals, label="Tiny", stages=[{"label": "One"}, {"label": "Two"}]
        )

        schema.stage_delete(actor=admin_actor, stage=pipeline.stages.get(label="Two"))
        before = schema_state()
        with pytest.raises(ValidationFailed) as excinfo:
            schema.stage_delete(actor=admin_actor, stage=pipeline.stages.get(label="One"))

        assert fields(excinfo) == [("stage", "last_stage")]
        assert schema_state() == before
        assert list(pipeline.stages.values_list("label", flat=True)) == ["One"]


# --------------------------------------------------------------------------- object types


class TestObjectTypes:
    def test_create_a_custom_object_type_that_holds_records(self, clock, admin_actor, csm, csm_actor):
        projects = schema.object_type_create(
            actor=admin_actor, name="projects", label_singular=" Project ", label_plural="Projects"
        )

        assert (projects.name, projects.label_singular, projects.primary_property, projects.built_in) == (
            "projects",
            "Project",
            "name",
            False,
        )
        registry = registry_for(projects)
        assert [s.name for s in registry if s.is_column] == [
            "name",
            "owner",
            "pipeline",
            "stage",
            "created_at",
            "updated_at",
            "last_activity_at",
        ]
        schema.property_create(actor=admin_actor, object_type=projects, name="budget", label="Budget", type="currency")
        pipeline = schema.pipeline_create(
            actor=admin_actor, object_type=projects, label="Delivery", stages=[{"label": "Plan"}, {"label": "Build"}]
        )

        record = services.record_create(
            actor=csm_actor,
            object_type=projects,
            properties={"name": "Rollout", "owner": csm.pk, "budget": "999.999", "pipeline": pipeline.pk},
        )

        record.refresh_from_db()
        assert (record.object_type_id, record.name, record.owner_id, record.stage.label, record.properties) == (
            projects.pk,
            "Rollout",
            csm.pk,
            "Plan",
            {"budget": 1000},
        )
        assert queries.get_record_for_user(csm_actor, projects, record.pk) == record

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"name": "Projects"}, [("name", "invalid")]),
            ({"name": "my-projects"}, [("name", "invalid")]),
            ({"name": "p" * 41}, [("name", "invalid")]),
            ({"name": "companies"}, [("name", "unique")]),
            ({"label_singular": " "}, [("labelSingular", "required")]),
            ({"label_plural": "x" * 81}, [("labelPlural", "invalid")]),
            ({"primary_property": "title"}, [("primaryProperty", "invalid")]),
        ],
    )
    def test_create_rules(self, admin_actor, kwargs, expected):
        before = schema_state()
        arguments = {"name": "projects", "label_singular": "Project", "label_plural": "Projects", **kwargs}

        with pytest.raises(ValidationFailed) as excinfo:
            schema.object_type_create(actor=admin_actor, **arguments)

        assert fields(excinfo) == expected
        assert schema_state() == before

    def test_schema_writes_need_manage_cs_settings(self, companies, csm_actor):
        before = schema_state()

        with pytest.raises(Forbidden):
            schema.object_type_create(actor=csm_actor, name="projects", label_singular="P", label_plural="Ps")
        with pytest.raises(Forbidden):
            schema.object_type_update(actor=csm_actor, object_type=companies, changes={"labelSingular": "Account"})
        with pytest.raises(Forbidden):
            schema.pipeline_create(actor=csm_actor, object_type=companies, label="P", stages=[{"label": "S"}])

        assert schema_state() == before

    def test_primary_property_drives_the_record_name(self, clock, contacts, admin_actor, csm_actor):
        schema.object_type_update(actor=admin_actor, object_type=contacts, changes={"primaryProperty": "email"})
        contacts.refresh_from_db()

        record = services.record_create(actor=csm_actor, object_type=contacts, properties={"email": "pat@example.com"})
        assert record.name == "pat@example.com"
        clock.move_to(LATER)
        services.record_update(actor=csm_actor, record=record, properties={"email": "pat@acme.com"})

        record.refresh_from_db()
        assert (record.name, record.properties) == ("pat@acme.com", {"email": "pat@acme.com"})
        assert list(
            PropertyChange.objects.filter(changed_at=LATER)
            .order_by("property_name")
            .values_list("property_name", "old_value", "new_value")
        ) == [("email", "pat@example.com", "pat@acme.com"), ("name", "pat@example.com", "pat@acme.com")]

    def test_primary_property_cannot_be_cleared(self, contacts, admin_actor, csm_actor):
        schema.object_type_update(actor=admin_actor, object_type=contacts, changes={"primaryProperty": "email"})
        record = services.record_create(actor=csm_actor, object_type=contacts, properties={"email": "pat@example.com"})
        before = state()

        with pytest.raises(ValidationFailed) as create:
            services.record_create(actor=csm_actor, object_type=contacts, properties={"first_name": "Kim"})
        with pytest.raises(ValidationFailed) as update:
            services.record_update(actor=csm_actor, record=record, properties={"email": None})

        assert fields(create) == [("properties.email", "required")]
        assert fields(update) == [("properties.email", "required")]
        assert state() == before

    @pytest.mark.parametrize("primary", ["nps", "key_contact", "nope", "owner"])
    def test_primary_property_must_be_single_line_text(self, contacts, admin_actor, primary):
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.object_type_update(actor=admin_actor, object_type=contacts, changes={"primaryProperty": primary})

        assert fields(excinfo) == [("primaryProperty", "invalid")]
        assert schema_state() == before

    @pytest.mark.parametrize(
        ("changes", "expected"),
        [
            ({"name": "people"}, [("name", "invalid")]),
            ({"labelPlural": ""}, [("labelPlural", "required")]),
            ({"labelSingular": 5}, [("labelSingular", "invalid")]),
        ],
    )
    def test_update_rules(self, contacts, admin_actor, changes, expected):
        before = schema_state()

        with pytest.raises(ValidationFailed) as excinfo:
            schema.object_type_update(actor=admin_actor, object_type=contacts, changes=changes)

        assert fields(excinfo) == expected
        assert schema_state() == before

    def test_update_labels(self, contacts, admin_actor):
        schema.object_type_update(
            actor=admin_actor, object_type=contacts, changes={"labelSingular": " Person ", "labelPlural": "People"}
        )

        contacts.refresh_from_db()
        assert (contacts.label_singular, contacts.label_plural) == ("Person", "People")
