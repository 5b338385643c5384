"""The record writes: validation, history, pipelines, archive/merge, associations.

Every failure path asserts that nothing changed: records, history rows, associations.
"""

import datetime as dt

import pytest

from tend.core.errors import Forbidden, ValidationFailed
from tend.core.policy import SYSTEM, Actor, Scope
from tend.crm import queries, schema, services
from tend.crm.models import (
    Association,
    ChangeSource,
    ObjectType,
    Pipeline,
    PropertyChange,
    Record,
    Stage,
)
from tend.engagement.kinds import KINDS
from tend.engagement.services import engagement_create
from tests.crm.helpers import LATER, NOW, fields, make, state

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def service_type(db):
    return ObjectType.objects.get(name="services")


def history(record: Record) -> list[tuple]:
    return list(
        PropertyChange.objects.filter(record=record)
        .order_by("property_name", "id")
        .values_list("property_name", "old_value", "new_value", "changed_by_id", "source")
    )


def stage(pipeline_label: str, stage_label: str) -> Stage:
    return Stage.objects.get(pipeline__label=pipeline_label, label=stage_label)


# --------------------------------------------------------------------------- create


class TestRecordCreate:
    def test_stores_canonical_values_and_writes_history(self, clock, companies, csm, csm_actor):
        record = services.record_create(
            actor=csm_actor,
            object_type=companies,
            properties={
                "name": "Acme",
                "owner": csm.pk,
                "domain": "acme.com",
                "mrr": "1200.50",
                "employees": "250",
                "renewal_date": "2027-03-01",
                "industry": "software",
                "csm": str(csm.pk),
            },
            source=ChangeSource.UI,
        )

        record.refresh_from_db()
        assert (record.name, record.owner_id, record.created_at, record.updated_at) == ("Acme", csm.pk, NOW, NOW)
        assert record.properties == {
            "domain": "acme.com",
            "mrr": 1200.5,
            "employees": 250,
            "renewal_date": "2027-03-01",
            "industry": "software",
            "csm": csm.pk,
        }
        assert history(record) == [
            ("csm", None, csm.pk, csm.pk, "ui"),
            ("domain", None, "acme.com", csm.pk, "ui"),
            ("employees", None, 250, csm.pk, "ui"),
            ("industry", None, "software", csm.pk, "ui"),
            ("mrr", None, 1200.5, csm.pk, "ui"),
            ("name", None, "Acme", csm.pk, "ui"),
            ("owner", None, csm.pk, csm.pk, "ui"),
            ("renewal_date", None, "2027-03-01", csm.pk, "ui"),
        ]
        assert set(PropertyChange.objects.values_list("changed_at", flat=True)) == {NOW}

    def test_empty_values_are_not_stored(self, companies):
        record = services.record_create(
            actor=SYSTEM, object_type=companies, properties={"name": "Acme", "city": "", "mrr": None}
        )

        assert record.properties == {}
        assert history(record) == [("name", None, "Acme", None, "api")]

    @pytest.mark.parametrize(
        ("prop", "raw", "message"),
        [
            ("mrr", "lots", "Enter a number."),
            ("mrr", True, "Enter a number."),
            ("employees", float("inf"), "Enter a finite number."),
            ("renewal_date", "03/01/2027", "Enter a date as YYYY-MM-DD."),
            ("renewal_date", "2027-02-30", "Enter a date as YYYY-MM-DD."),
            (
                "industry",
                "mining",
                "Choose one of: software, manufacturing, retail, healthcare, finance, education.",
            ),
            ("csm", 999_999, "No active user has id 999999."),
            ("csm", "casey", "Enter a user id."),
            ("city", 12, "Enter text."),
            ("city", "two\nlines", "Enter a single line of text."),
            ("owner", 999_999, "No active user has id 999999."),
        ],
    )
    def test_rejects_a_value_of_the_wrong_type(self, companies, prop, raw, message):
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme", prop: raw})

        assert [(e.field, e.message) for e in excinfo.value.errors] == [(f"properties.{prop}", message)]
        assert state() == before

    def test_rejects_a_naive_datetime(self):
        tickets = ObjectType.objects.get(name="tickets")

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(
                actor=SYSTEM, object_type=tickets, properties={"name": "T-1", "closed_at": "2026-03-01T10:00:00"}
            )

        assert fields(excinfo) == [("properties.closed_at", "invalid")]
        assert Record.objects.count() == 0

    def test_names_every_bad_field_at_once(self, companies):
        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(
                actor=SYSTEM,
                object_type=companies,
                properties={"nickname": "A", "mrr": "lots", "cs_stage": "sleepy"},
            )

        assert fields(excinfo) == [
            ("properties.nickname", "unknown_property"),
            ("properties.mrr", "invalid"),
            ("properties.cs_stage", "invalid"),
            ("properties.name", "required"),
        ]
        assert excinfo.value.errors[0].message == "Unknown property nickname."
        assert Record.objects.count() == 0
        assert PropertyChange.objects.count() == 0

    def test_properties_must_be_an_object(self, companies):
        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(actor=SYSTEM, object_type=companies, properties=["name", "Acme"])

        assert fields(excinfo)[0] == ("properties", "invalid")
        assert Record.objects.count() == 0

    def test_required_property_missing_or_empty(self, companies):
        schema.property_create(
            actor=SYSTEM, object_type=companies, name="segment", label="Segment", type="text", required=True
        )

        with pytest.raises(ValidationFailed) as missing:
            services.record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme"})
        with pytest.raises(ValidationFailed) as empty:
            services.record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme", "segment": ""})

        assert fields(missing) == [("properties.segment", "required")]
        assert missing.value.errors[0].message == "segment is required."
        assert fields(empty) == [("properties.segment", "required")]
        assert Record.objects.count() == 0
        record = services.record_create(
            actor=SYSTEM, object_type=companies, properties={"name": "Acme", "segment": "SMB"}
        )
        assert record.properties == {"segment": "SMB"}

    def test_name_is_required(self, companies):
        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(actor=SYSTEM, object_type=companies, properties={"name": "", "city": "Rome"})

        assert fields(excinfo) == [("properties.name", "required")]
        assert Record.objects.count() == 0

    def test_unique_value_is_checked_ignoring_case(self, companies):
        make("companies", "Acme", domain="acme.com")
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(actor=SYSTEM, object_type=companies, properties={"name": "B", "domain": "ACME.com"})

        assert fields(excinfo) == [("properties.domain", "unique")]
        assert excinfo.value.errors[0].message == "Another record already has this domain."
        assert state() == before

    def test_unique_number_property(self, companies):
        schema.property_create(
            actor=SYSTEM, object_type=companies, name="account_no", label="Account", type="number", unique=True
        )
        make("companies", "Acme", account_no=17)

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(actor=SYSTEM, object_type=companies, properties={"name": "B", "account_no": "17"})

        assert fields(excinfo) == [("properties.account_no", "unique")]
        assert Record.objects.count() == 1
        assert make("companies", "C", account_no=18).properties == {"account_no": 18}

    def test_archived_records_do_not_hold_unique_values(self, companies):
        old = make("companies", "Old Acme", domain="acme.com")
        services.record_archive(actor=SYSTEM, record=old)

        new = services.record_create(
            actor=SYSTEM, object_type=companies, properties={"name": "Acme", "domain": "acme.com"}
        )

        assert new.properties == {"domain": "acme.com"}

    def test_unique_within_a_batch(self, companies):
        with pytest.raises(ValidationFailed) as excinfo:
            services.records_write(
                actor=SYSTEM,
                object_type=companies,
                inputs=[
                    (None, {"name": "A", "domain": "acme.com"}),
                    (None, {"name": "B", "domain": "Acme.COM"}),
                ],
                prefix_inputs=True,
            )

        assert fields(excinfo) == [("inputs[1].properties.domain", "unique")]
        assert excinfo.value.errors[0].message == "Another input has the same domain."
        assert Record.objects.count() == 0

    @pytest.mark.parametrize("source", [ChangeSource.UI, ChangeSource.API, ChangeSource.IMPORT])
    def test_read_only_property_refused_from_people(self, companies, source):
        schema.property_create(
            actor=SYSTEM, object_type=companies, name="health", label="Health", type="number", read_only=True
        )

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(
                actor=SYSTEM, object_type=companies, properties={"name": "Acme", "health": 80}, source=source
            )

        assert fields(excinfo) == [("properties.health", "read_only")]
        assert Record.objects.count() == 0

    @pytest.mark.parametrize("source", [ChangeSource.AUTOMATION, ChangeSource.SYSTEM])
    def test_read_only_property_written_by_tend_itself(self, companies, source):
        schema.property_create(
            actor=SYSTEM, object_type=companies, name="health", label="Health", type="number", read_only=True
        )

        record = services.record_create(
            actor=SYSTEM, object_type=companies, properties={"name": "Acme", "health": 80}, source=source
        )

        assert record.properties == {"health": 80}
        assert ("health", None, 80, None, source.value) in history(record)

    @pytest.mark.parametrize("source", list(ChangeSource))
    @pytest.mark.parametrize("prop", ["created_at", "updated_at", "last_activity_at"])
    def test_timestamp_columns_are_read_only_for_every_source(self, clock, companies, prop, source):
        record = make("companies", "Acme")
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_update(
                actor=SYSTEM, record=record, properties={prop: "2020-01-01T00:00:00Z"}, source=source
            )

        assert fields(excinfo) == [(f"properties.{prop}", "read_only")]
        assert state() == before

    def test_refused_without_a_service_seat(self, companies, viewer, admin):
        no_seat_admin = Actor(admin)
        admin.has_service_seat = False
        admin.save()

        for actor in (Actor(viewer), viewer, no_seat_admin):
            with pytest.raises(Forbidden, match="Service seat"):
                services.record_create(actor=actor, object_type=companies, properties={"name": "Acme"})
        assert Record.objects.count() == 0

    def test_refused_with_a_read_only_token(self, companies, csm):
        with pytest.raises(Forbidden, match="read-only"):
            services.record_create(actor=Actor(csm, Scope.READ), object_type=companies, properties={"name": "Acme"})

        assert Record.objects.count() == 0


# --------------------------------------------------------------------------- update


class TestRecordUpdate:
    @pytest.mark.parametrize(
        "source", [ChangeSource.UI, ChangeSource.API, ChangeSource.IMPORT, ChangeSource.AUTOMATION]
    )
    def test_history_old_to_new_with_who_and_source(self, clock, csm, csm_actor, source):
        record = make("companies", "Acme", mrr=100, city="Rome")
        clock.move_to(LATER)

        updated = services.record_update(
            actor=csm_actor, record=record, properties={"mrr": 250, "city": None, "name": "Acme Inc"}, source=source
        )

        updated.refresh_from_db()
        assert (updated.name, updated.properties, updated.updated_at, updated.created_at) == (
            "Acme Inc",
            {"mrr": 250},
            LATER,
            NOW,
        )
        changes = PropertyChange.objects.filter(record=record, changed_at=LATER).order_by("property_name")
        assert list(changes.values_list("property_name", "old_value", "new_value", "changed_by_id", "source")) == [
            ("city", "Rome", None, csm.pk, source.value),
            ("mrr", 100, 250, csm.pk, source.value),
            ("name", "Acme", "Acme Inc", csm.pk, source.value),
        ]

    def test_no_history_and_no_modification_when_nothing_changes(self, clock, csm_actor):
        record = make("companies", "Acme", mrr=100, renewal_date="2027-03-01")
        rows = PropertyChange.objects.count()
        clock.move_to(LATER)

        services.record_update(
            actor=csm_actor, record=record, properties={"name": "Acme", "mrr": "100.00", "renewal_date": "2027-03-01"}
        )

        record.refresh_from_db()
        assert PropertyChange.objects.count() == rows
        assert record.updated_at == NOW

    def test_only_changed_properties_get_history(self, clock, csm_actor):
        record = make("companies", "Acme", mrr=100, city="Rome")
        clock.move_to(LATER)

        services.record_update(actor=csm_actor, record=record, properties={"mrr": 100, "city": "Milan"})

        assert list(
            PropertyChange.objects.filter(changed_at=LATER).values_list("property_name", "old_value", "new_value")
        ) == [("city", "Rome", "Milan")]

    def test_invalid_update_changes_nothing(self, clock, csm_actor):
        record = make("companies", "Acme", mrr=100)
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_update(actor=csm_actor, record=record, properties={"city": "Milan", "mrr": "lots"})

        assert fields(excinfo) == [("properties.mrr", "invalid")]
        assert state() == before

    def test_cannot_clear_the_name(self, csm_actor):
        record = make("companies", "Acme")

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_update(actor=csm_actor, record=record, properties={"name": None})

        assert fields(excinfo) == [("properties.name", "required")]
        record.refresh_from_db()
        assert record.name == "Acme"

    def test_unique_value_of_another_record_refused_but_own_value_kept(self, csm_actor):
        make("companies", "Acme", domain="acme.com")
        other = make("companies", "Other", domain="other.com")

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_update(actor=csm_actor, record=other, properties={"domain": "ACME.COM"})
        kept = services.record_update(actor=csm_actor, record=other, properties={"domain": "OTHER.com"})

        assert fields(excinfo) == [("properties.domain", "unique")]
        assert kept.properties == {"domain": "OTHER.com"}

    def test_archived_record_cannot_be_updated(self, csm_actor):
        record = make("companies", "Acme", mrr=100)
        services.record_archive(actor=csm_actor, record=record)
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_update(actor=csm_actor, record=record, properties={"mrr": 5})

        assert fields(excinfo) == [("id", "archived")]
        assert state() == before

    def test_refused_without_a_service_seat(self, viewer):
        record = make("companies", "Acme", mrr=100)
        before = state()

        with pytest.raises(Forbidden):
            services.record_update(actor=Actor(viewer), record=record, properties={"mrr": 5})

        assert state() == before


# --------------------------------------------------------------------------- batches


class TestRecordsWrite:
    def test_batch_is_all_or_nothing_with_indexed_errors(self, companies, csm_actor):
        existing = make("companies", "Acme", mrr=100)
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            services.records_write(
                actor=csm_actor,
                object_type=companies,
                inputs=[
                    (None, {"name": "Fine"}),
                    (existing, {"mrr": "lots"}),
                    (None, {"name": "C", "x": 1}),
                ],
                prefix_inputs=True,
            )

        assert fields(excinfo) == [
            ("inputs[1].properties.mrr", "invalid"),
            ("inputs[2].properties.x", "unknown_property"),
        ]
        assert state() == before

    def test_batch_creates_and_updates_in_order(self, clock, companies, csm, csm_actor):
        existing = make("companies", "Acme", mrr=100)

        saved = services.records_write(
            actor=csm_actor,
            object_type=companies,
            inputs=[(None, {"name": "Beta", "mrr": 5}), (existing, {"mrr": 150}), (None, {"name": "Gamma"})],
            source=ChangeSource.IMPORT,
        )

        assert [(r.name, r.properties) for r in saved] == [
            ("Beta", {"mrr": 5}),
            ("Acme", {"mrr": 150}),
            ("Gamma", {}),
        ]
        assert Record.objects.count() == 3
        assert list(
            PropertyChange.objects.filter(source="import")
            .order_by("record_id", "property_name")
            .values_list("record__name", "property_name", "old_value", "new_value", "changed_by_id")
        ) == [
            ("Acme", "mrr", 100, 150, csm.pk),
            ("Beta", "mrr", None, 5, csm.pk),
            ("Beta", "name", None, "Beta", csm.pk),
            ("Gamma", "name", None, "Gamma", csm.pk),
        ]

    def test_archived_record_in_a_batch_fails_the_batch(self, companies, csm_actor):
        archived = make("companies", "Old")
        services.record_archive(actor=SYSTEM, record=archived)
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            services.records_write(
                actor=csm_actor,
                object_type=companies,
                inputs=[(None, {"name": "New"}), (archived, {"city": "Rome"})],
                prefix_inputs=True,
            )

        assert fields(excinfo) == [("inputs[1].id", "archived")]
        assert state() == before


# --------------------------------------------------------------------------- pipelines and stages


class TestPipelineAndStage:
    def test_a_stage_implies_its_pipeline(self, clock, deals):
        qualified = stage("Sales pipeline", "Qualified to buy")

        record = services.record_create(
            actor=SYSTEM, object_type=deals, properties={"name": "D", "stage": qualified.pk}
        )

        assert (record.pipeline_id, record.stage_id, record.stage_entered_at) == (
            qualified.pipeline_id,
            qualified.pk,
            NOW,
        )
        assert ("pipeline", None, qualified.pipeline_id, None, "api") in history(record)
        assert ("stage", None, qualified.pk, None, "api") in history(record)

    def test_a_pipeline_alone_starts_at_its_first_stage(self, clock, deals):
        first = stage("Sales pipeline", "Appointment scheduled")

        record = services.record_create(
            actor=SYSTEM, object_type=deals, properties={"name": "D", "pipeline": str(first.pipeline_id)}
        )

        assert (record.pipeline_id, record.stage_id, record.stage_entered_at) == (first.pipeline_id, first.pk, NOW)

    def test_changing_pipeline_moves_to_the_new_pipelines_first_stage(self, clock, service_type):
        record = services.record_create(
            actor=SYSTEM,
            object_type=service_type,
            properties={"name": "S", "stage": stage("Onboarding", "Initial setup done").pk},
        )
        maintenance = Pipeline.objects.get(label="Maintenance")
        clock.move_to(LATER)

        services.record_update(actor=SYSTEM, record=record, properties={"pipeline": maintenance.pk})

        record.refresh_from_db()
        scheduled = stage("Maintenance", "Scheduled")
        assert (record.pipeline_id, record.stage_id, record.stage_entered_at) == (maintenance.pk, scheduled.pk, LATER)
        assert list(
            PropertyChange.objects.filter(changed_at=LATER)
            .order_by("property_name")
            .values_list("property_name", "old_value", "new_value")
        ) == [
            ("pipeline", Pipeline.objects.get(label="Onboarding").pk, maintenance.pk),
            ("stage", stage("Onboarding", "Initial setup done").pk, scheduled.pk),
        ]

    def test_same_pipeline_keeps_the_stage(self, clock, deals):
        qualified = stage("Sales pipeline", "Qualified to buy")
        record = services.record_create(
            actor=SYSTEM, object_type=deals, properties={"name": "D", "stage": qualified.pk}
        )
        clock.move_to(LATER)

        services.record_update(actor=SYSTEM, record=record, properties={"pipeline": qualified.pipeline_id})

        record.refresh_from_db()
        assert (record.stage_id, record.stage_entered_at) == (qualified.pk, NOW)

    def test_a_stage_of_another_pipeline_is_rejected(self, service_type):
        onboarding = Pipeline.objects.get(label="Onboarding")
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(
                actor=SYSTEM,
                object_type=service_type,
                properties={"name": "S", "pipeline": onboarding.pk, "stage": stage("Maintenance", "Done").pk},
            )

        assert fields(excinfo) == [("properties.stage", "invalid")]
        assert excinfo.value.errors[0].message == "This stage belongs to another pipeline."
        assert state() == before

    def test_a_stage_of_another_object_type_is_rejected(self, deals):
        ticket_stage = stage("Support pipeline", "New")

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(actor=SYSTEM, object_type=deals, properties={"name": "D", "stage": ticket_stage.pk})

        assert [(e.field, e.message) for e in excinfo.value.errors] == [
            ("properties.stage", f"No stage {ticket_stage.pk} for deals.")
        ]
        assert Record.objects.count() == 0

    def test_entering_a_stage_with_an_empty_required_property_is_rejected(self, clock, deals):
        record = services.record_create(
            actor=SYSTEM,
            object_type=deals,
            properties={"name": "D", "stage": stage("Sales pipeline", "Qualified to buy").pk},
        )
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_update(
                actor=SYSTEM, record=record, properties={"stage": stage("Sales pipeline", "Contract sent").pk}
            )

        assert [(e.field, e.message, e.code) for e in excinfo.value.errors] == [
            ("properties.amount", "amount is required to enter the stage Contract sent.", "required_for_stage")
        ]
        assert state() == before

    def test_every_missing_stage_requirement_is_named(self, deals):
        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(
                actor=SYSTEM,
                object_type=deals,
                properties={"name": "D", "stage": stage("Sales pipeline", "Closed won").pk},
            )

        assert fields(excinfo) == [
            ("properties.amount", "required_for_stage"),
            ("properties.close_date", "required_for_stage"),
        ]
        assert Record.objects.count() == 0

    def test_required_property_supplied_in_the_same_update(self, clock, deals):
        record = services.record_create(
            actor=SYSTEM,
            object_type=deals,
            properties={"name": "D", "stage": stage("Sales pipeline", "Qualified to buy").pk},
        )
        clock.move_to(LATER)
        contract_sent = stage("Sales pipeline", "Contract sent")

        services.record_update(actor=SYSTEM, record=record, properties={"stage": contract_sent.pk, "amount": "5000"})

        record.refresh_from_db()
        assert (record.stage_id, record.stage_entered_at, record.properties) == (
            contract_sent.pk,
            LATER,
            {"amount": 5000},
        )

    def test_required_property_already_on_the_record(self, deals):
        record = services.record_create(
            actor=SYSTEM,
            object_type=deals,
            properties={"name": "D", "amount": 10, "stage": stage("Sales pipeline", "Qualified to buy").pk},
        )

        services.record_update(
            actor=SYSTEM, record=record, properties={"stage": stage("Sales pipeline", "Contract sent").pk}
        )

        record.refresh_from_db()
        assert record.stage.label == "Contract sent"

    def test_a_new_pipeline_whose_first_stage_has_requirements(self, service_type):
        onboarding = Pipeline.objects.get(label="Onboarding")
        schema.stage_update(
            actor=SYSTEM, stage=stage("Onboarding", "Kickoff prep"), data={"requiredProperties": ["start_date"]}
        )

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(
                actor=SYSTEM, object_type=service_type, properties={"name": "S", "pipeline": onboarding.pk}
            )

        assert fields(excinfo) == [("properties.start_date", "required_for_stage")]
        assert Record.objects.count() == 0

    def test_a_record_in_a_pipeline_needs_a_stage(self, deals):
        record = services.record_create(
            actor=SYSTEM,
            object_type=deals,
            properties={"name": "D", "stage": stage("Sales pipeline", "Qualified to buy").pk},
        )

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_update(actor=SYSTEM, record=record, properties={"stage": None})

        assert fields(excinfo) == [("properties.stage", "required")]
        record.refresh_from_db()
        assert record.stage.label == "Qualified to buy"

    def test_clearing_the_pipeline_clears_the_stage(self, deals):
        record = services.record_create(
            actor=SYSTEM,
            object_type=deals,
            properties={"name": "D", "stage": stage("Sales pipeline", "Qualified to buy").pk},
        )

        services.record_update(actor=SYSTEM, record=record, properties={"pipeline": None})

        record.refresh_from_db()
        assert (record.pipeline_id, record.stage_id) == (None, None)

    @pytest.mark.parametrize("raw", ["abc", True, 1.5e300, "2.5", [1]])
    def test_a_stage_must_be_an_id(self, deals, raw):
        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(actor=SYSTEM, object_type=deals, properties={"name": "D", "stage": raw})

        assert fields(excinfo) == [("properties.stage", "invalid")]
        assert Record.objects.count() == 0

    def test_a_fractional_stage_id_is_not_rounded(self, deals):
        qualified = stage("Sales pipeline", "Qualified to buy")

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_create(
                actor=SYSTEM, object_type=deals, properties={"name": "D", "stage": qualified.pk + 0.5}
            )
        whole = services.record_create(
            actor=SYSTEM, object_type=deals, properties={"name": "D", "stage": float(qualified.pk)}
        )

        assert [(e.field, e.message) for e in excinfo.value.errors] == [("properties.stage", "Enter an id.")]
        assert whole.stage_id == qualified.pk


# --------------------------------------------------------------------------- archive and restore


class TestArchiveRestore:
    def test_archive_and_restore(self, clock, csm_actor):
        record = make("companies", "Acme", domain="acme.com")

        services.record_archive(actor=csm_actor, record=record)
        record.refresh_from_db()
        assert record.archived_at == NOW

        services.record_restore(actor=csm_actor, record=record)
        record.refresh_from_db()
        assert record.archived_at is None
        assert record.properties == {"domain": "acme.com"}

    def test_archiving_twice_keeps_the_first_date(self, clock, csm_actor):
        record = make("companies", "Acme")
        services.record_archive(actor=csm_actor, record=record)
        clock.move_to(LATER)

        services.record_archive(actor=csm_actor, record=record)

        record.refresh_from_db()
        assert record.archived_at == NOW

    def test_records_archive_counts_only_active_records(self, clock, csm_actor):
        a, b, c = make("companies", "A"), make("companies", "B"), make("companies", "C")
        services.record_archive(actor=SYSTEM, record=c)

        assert services.records_archive(actor=csm_actor, records=[a, b, c]) == 2
        assert Record.objects.active().count() == 0

    def test_restore_refused_when_a_unique_value_is_now_taken(self, csm_actor):
        record = make("companies", "Acme", domain="acme.com")
        services.record_archive(actor=csm_actor, record=record)
        make("companies", "New Acme", domain="ACME.com")
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_restore(actor=csm_actor, record=record)

        assert fields(excinfo) == [("properties.domain", "unique")]
        assert state() == before

    def test_archive_and_restore_need_a_service_seat(self, clock, viewer):
        record = make("companies", "Acme")
        before = state()

        with pytest.raises(Forbidden):
            services.record_archive(actor=Actor(viewer), record=record)
        services.record_archive(actor=SYSTEM, record=record)
        with pytest.raises(Forbidden):
            services.record_restore(actor=Actor(viewer), record=record)

        record.refresh_from_db()
        assert record.archived_at == NOW
        assert state()["history"] == before["history"]


# --------------------------------------------------------------------------- merge


class TestMerge:
    def test_merge_fills_moves_and_archives(self, clock, companies, contacts, csm, csm_actor):
        primary = make("companies", "Acme", domain="acme.com", mrr=100)
        secondary = make("companies", "Acme Inc", owner=csm.pk, external_id="X-1", mrr=200, city="Berlin")
        both_contact = make("contacts", "Pat")
        their_contact = make("contacts", "Kim")
        services.association_create(actor=SYSTEM, from_record=primary, to_record=both_contact)
        services.association_create(actor=SYSTEM, from_record=secondary, to_record=both_contact)
        services.association_create(actor=SYSTEM, from_record=secondary, to_record=their_contact, label="billing")
        shared_task = engagement_create(
            actor=csm_actor,
            kind=KINDS["tasks"],
            properties={"subject": "Both"},
            associations=[primary.pk, secondary.pk],
        )
        note = engagement_create(
            actor=csm_actor, kind=KINDS["notes"], properties={"body": "Call went well"}, associations=[secondary.pk]
        )
        secondary_history = PropertyChange.objects.filter(record=secondary).count()
        primary_history = PropertyChange.objects.filter(record=primary).count()
        clock.move_to(LATER)

        merged = services.record_merge(actor=csm_actor, primary=primary, secondary=secondary)

        primary.refresh_from_db()
        secondary.refresh_from_db()
        assert merged.pk == primary.pk
        assert (primary.name, primary.owner_id, primary.updated_at) == ("Acme", csm.pk, LATER)
        assert primary.properties == {"domain": "acme.com", "mrr": 100, "external_id": "X-1", "city": "Berlin"}
        assert (secondary.archived_at, secondary.merged_into_id) == (LATER, primary.pk)
        # Associations: the secondary's move to the primary (both directions), none is left on it.
        assert sorted(Association.objects.values_list("from_record_id", "to_record_id", "label")) == sorted(
            [
                (primary.pk, both_contact.pk, ""),
                (both_contact.pk, primary.pk, ""),
                (primary.pk, their_contact.pk, "billing"),
                (their_contact.pk, primary.pk, "billing"),
            ]
        )
        # Engagement links move; a task linked to both stays linked once.
        assert list(shared_task.records.values_list("pk", flat=True)) == [primary.pk]
        assert list(note.records.values_list("pk", flat=True)) == [primary.pk]
        # History: the secondary's rows now belong to the primary, plus the merge's own rows.
        assert PropertyChange.objects.filter(record=secondary).count() == 0
        merge_rows = PropertyChange.objects.filter(record=primary, source="merge").order_by("property_name")
        assert list(merge_rows.values_list("property_name", "old_value", "new_value", "changed_by_id")) == [
            ("city", None, "Berlin", csm.pk),
            ("external_id", None, "X-1", csm.pk),
            ("owner", None, csm.pk, csm.pk),
        ]
        assert PropertyChange.objects.filter(record=primary).count() == primary_history + secondary_history + 3
        # The secondary's id answers with the primary.
        assert queries.get_record_for_user(csm_actor, companies, secondary.pk).pk == primary.pk
        assert queries.get_record_for_user(csm_actor, companies, str(secondary.pk)).pk == primary.pk

    def test_merge_keeps_the_latest_activity(self, clock, csm_actor):
        primary, secondary = make("companies", "A"), make("companies", "B")
        services.record_touch_activity(record_ids=[primary.pk], at=NOW - dt.timedelta(days=3))
        services.record_touch_activity(record_ids=[secondary.pk], at=NOW - dt.timedelta(days=1))
        primary.refresh_from_db()
        secondary.refresh_from_db()

        services.record_merge(actor=csm_actor, primary=primary, secondary=secondary)

        primary.refresh_from_db()
        assert primary.last_activity_at == NOW - dt.timedelta(days=1)

    def test_unique_values_move_to_the_primary(self, csm_actor):
        primary = make("companies", "Acme")
        secondary = make("companies", "Acme Inc", domain="acme.com")

        services.record_merge(actor=csm_actor, primary=primary, secondary=secondary)

        primary.refresh_from_db()
        assert primary.properties == {"domain": "acme.com"}

    def test_pipeline_and_stage_fill_an_empty_primary(self, deals, csm_actor):
        primary = make("deals", "D1")
        secondary = make("deals", "D2", stage=stage("Sales pipeline", "Qualified to buy").pk)

        services.record_merge(actor=csm_actor, primary=primary, secondary=secondary)

        primary.refresh_from_db()
        assert (primary.pipeline_id, primary.stage_id) == (secondary.pipeline_id, secondary.stage_id)

    def test_an_association_between_the_two_disappears(self, csm_actor):
        primary, secondary = make("companies", "A"), make("companies", "B")
        services.association_create(actor=SYSTEM, from_record=primary, to_record=secondary, label="parent")

        services.record_merge(actor=csm_actor, primary=primary, secondary=secondary)

        assert Association.objects.count() == 0

    def test_chains_of_merges_resolve(self, companies, csm_actor):
        a, b, c = make("companies", "A"), make("companies", "B"), make("companies", "C")

        services.record_merge(actor=csm_actor, primary=b, secondary=a)
        b.refresh_from_db()
        services.record_merge(actor=csm_actor, primary=c, secondary=b)

        a.refresh_from_db()
        assert a.merged_into_id == c.pk
        assert queries.get_record_for_user(csm_actor, companies, a.pk).pk == c.pk
        assert queries.get_record_for_user(csm_actor, companies, b.pk).pk == c.pk

    def test_merged_record_cannot_be_restored(self, csm_actor):
        primary, secondary = make("companies", "A"), make("companies", "B")
        services.record_merge(actor=csm_actor, primary=primary, secondary=secondary)
        secondary.refresh_from_db()
        before = state()

        with pytest.raises(ValidationFailed) as excinfo:
            services.record_restore(actor=csm_actor, record=secondary)

        assert fields(excinfo) == [("id", "merged")]
        assert state() == before

    def test_rejections_change_nothing(self, csm_actor):
        a, b = make("companies", "A"), make("companies", "B")
        contact = make("contacts", "Pat")
        archived = make("companies", "Old")
        services.record_archive(actor=SYSTEM, record=archived)
        before = state()

        cases = [
            ((a, a), [("objectIdToMerge", "invalid")]),
            ((a, contact), [("objectIdToMerge", "invalid")]),
            ((a, archived), [("objectIdToMerge", "archived")]),
            ((archived, b), [("primaryObjectId", "archived")]),
        ]
        for (primary, secondary), expected in cases:
            with pytest.raises(ValidationFailed) as excinfo:
                services.record_merge(actor=csm_actor, primary=primary, secondary=secondary)
            assert fields(excinfo) == expected
        assert state() == before

    def test_merge_needs_a_service_seat(self, viewer):
        a, b = make("companies", "A"), make("companies", "B")
        before = state()

        with pytest.raises(Forbidden):
            services.record_merge(actor=Actor(viewer), primary=a, secondary=b)

        assert state() == before


# --------------------------------------------------------------------------- associations


class TestAssociations:
    def test_created_both_ways_with_labels_and_idempotent(self, csm_actor):
        company, contact = make("companies", "Acme"), make("contacts", "Pat")

        services.association_create(actor=csm_actor, from_record=company, to_record=contact, label=" primary ")
        services.association_create(actor=csm_actor, from_record=contact, to_record=company, label="primary")
        services.association_create(actor=csm_actor, from_record=company, to_record=contact, label="billing")

        assert sorted(Association.objects.values_list("from_record_id", "to_record_id", "label")) == sorted(
            [
                (company.pk, contact.pk, "primary"),
                (contact.pk, company.pk, "primary"),
                (company.pk, contact.pk, "billing"),
                (contact.pk, company.pk, "billing"),
            ]
        )

    def test_deleted_both_ways_by_label_or_all(self, csm_actor):
        company, contact = make("companies", "Acme"), make("contacts", "Pat")
        services.association_create(actor=csm_actor, from_record=company, to_record=contact, label="primary")
        services.association_create(actor=csm_actor, from_record=company, to_record=contact, label="billing")

        deleted = services.association_delete(actor=csm_actor, from_record=contact, to_record=company, label="billing")

        assert deleted == 2
        assert sorted(Association.objects.values_list("from_record_id", "to_record_id", "label")) == sorted(
            [(company.pk, contact.pk, "primary"), (contact.pk, company.pk, "primary")]
        )
        assert services.association_delete(actor=csm_actor, from_record=company, to_record=contact) == 2
        assert Association.objects.count() == 0

    def test_invalid_associations_change_nothing(self, csm_actor, viewer):
        company, contact = make("companies", "Acme"), make("contacts", "Pat")
        archived = make("contacts", "Old")
        services.record_archive(actor=SYSTEM, record=archived)
        before = state()

        cases = [
            ((company, company, ""), [("toId", "invalid")]),
            ((company, contact, "x" * 65), [("label", "invalid")]),
            ((company, archived, ""), [("toId", "archived")]),
        ]
        for (from_record, to_record, label), expected in cases:
            with pytest.raises(ValidationFailed) as excinfo:
                services.association_create(actor=csm_actor, from_record=from_record, to_record=to_record, label=label)
            assert fields(excinfo) == expected
        with pytest.raises(Forbidden):
            services.association_create(actor=Actor(viewer), from_record=company, to_record=contact)
        assert state() == before

    def test_create_with_associations_is_atomic(self, companies, csm_actor):
        archived = make("contacts", "Old")
        services.record_archive(actor=SYSTEM, record=archived)
        before = state()

        with pytest.raises(ValidationFailed):
            services.record_create_with_associations(
                actor=csm_actor, object_type=companies, properties={"name": "Acme"}, associations=[(archived, "")]
            )

        assert state() == before
