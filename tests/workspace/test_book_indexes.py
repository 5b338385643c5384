"""workspace.indexes: the indexes of a CSM's book follow the customer settings, and the
Customers tab's sorts read them in order (no sort step)."""

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from tend.core.policy import Actor
from tend.crm import schema
from tend.crm import services as crm
from tend.crm.filters import compile_search
from tend.crm.models import Record
from tend.cs_settings import services as settings_services
from tend.cs_settings.queries import workspace_settings
from tend.workspace import indexes, queries


def book_index_names() -> set[str]:
    return indexes.existing_book_indexes(connection)


def wanted_names(csm_property: str) -> set[str]:
    return {b.name for b in indexes.book_indexes(connection.vendor, csm_property, indexes.sorted_columns())}


@pytest.fixture
def account_manager(admin, companies):
    schema.property_create(actor=Actor(admin), object_type=companies, name="account_manager", label="AM", type="user")


@pytest.mark.django_db
def test_the_migrations_leave_the_indexes_of_the_default_csm_property():
    assert book_index_names() == wanted_names("csm")
    assert indexes.sync_book_indexes() == ([], [])


@pytest.mark.django_db
def test_one_index_for_the_book_in_id_order_and_two_for_each_stored_sortable_column():
    names = {b.name.rsplit("_", 1)[0] for b in indexes.book_indexes(connection.vendor, "csm", indexes.sorted_columns())}
    # csm is a constant within a book (the id index serves it), the health score is another table's
    assert names == {
        "wsbook_id",
        *(f"wsbook_{c}_{d}" for c in ("name", "cs_stage", "mrr", "renewal_date", "last_activity_at") for d in "ad"),
    }


@pytest.mark.django_db
def test_choosing_another_csm_property_queues_the_sync_which_moves_the_indexes_to_it(
    admin, account_manager, django_capture_on_commit_callbacks
):
    before = book_index_names()
    with django_capture_on_commit_callbacks(execute=True):
        settings_services.settings_update_customers(
            actor=Actor(admin), object_type="companies", csm_property="account_manager", renewal_property="renewal_date"
        )
    assert DBTaskResult.objects.filter(task_path="tend.workspace.tasks.sync_book_indexes_task").count() == 1
    assert book_index_names() == before  # built in the background, not in the request

    created, dropped = indexes.sync_book_indexes()
    assert set(created) == wanted_names("account_manager")
    assert set(dropped) == before
    assert book_index_names() == wanted_names("account_manager")


@pytest.mark.django_db
def test_saving_the_same_csm_property_queues_nothing(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        settings_services.settings_update_customers(
            actor=Actor(admin), object_type="companies", csm_property="csm", renewal_property="renewal_date"
        )
    assert not DBTaskResult.objects.exists()


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.parametrize("column", ["name", "csm", "cs_stage", "mrr", "renewal_date", "last_activity_at"])
@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
def test_owned_by_me_sorted_by_a_default_column_reads_a_book_index_in_order(csm, column, direction):
    ws = workspace_settings()
    table = queries.TableSpec(sorts=[{"propertyName": column, "direction": direction}], builtin="owned")
    _registry, records = queries.customer_records(
        actor=Actor(csm), viewed_user=csm, ws=ws, table=table, extra_filters=[]
    )
    text = plan(records[:25])
    assert "wsbook_" in text
    assert "TEMP B-TREE" not in text and "Sort" not in text, text


@pytest.mark.django_db
def test_the_filter_language_still_sorts_nulls_last_both_ways(csm, companies):
    """What the descending indexes are declared for: a record without the value comes last."""
    for name, mrr in (("a", 10), ("b", None), ("c", 30)):
        properties = {"csm": csm.pk} if mrr is None else {"csm": csm.pk, "mrr": mrr}
        crm.record_create(actor=Actor(csm), object_type=companies, properties={"name": name, **properties})
    from tend.crm.registry import registry_for

    registry = registry_for(companies)
    for direction, expected in (("ASCENDING", ["a", "c", "b"]), ("DESCENDING", ["c", "a", "b"])):
        compiled = compile_search({"sorts": [{"propertyName": "mrr", "direction": direction}]}, registry, user=csm)
        assert [r.name for r in compiled.apply(Record.objects.filter(object_type=companies))] == expected


# ---- the default views' indexes -----------------------------------------------------------------

ONBOARDING = {"filterGroups": [{"filters": [{"propertyName": "cs_stage", "operator": "EQ", "value": "onboarding"}]}]}
BY_RENEWAL = [{"propertyName": "renewal_date", "direction": "ASCENDING"}]


def view_index_names() -> set[str]:
    return indexes.existing_view_indexes(connection)


def shape(filters, sorts) -> str | None:
    from tend.crm.registry import registry_for

    registry = registry_for(workspace_settings().customer_object_type)
    index = indexes.view_index(connection.vendor, "csm", registry, filters, sorts)
    return index.name.rsplit("_", 1)[0] if index else None


@pytest.mark.django_db
def test_a_view_of_everyone_is_indexed_by_its_equalities_then_its_first_sort():
    me = {"propertyName": "csm", "operator": "IS_ME"}
    enterprise = {"propertyName": "contract_plan", "operator": "EQ", "value": "enterprise"}
    stage = ONBOARDING["filterGroups"][0]["filters"][0]
    mrr_desc = [{"propertyName": "mrr", "direction": "DESCENDING"}]
    assert shape(ONBOARDING, BY_RENEWAL) == "wsview_cs_stage_renewal_date_a"
    assert (
        shape({"filterGroups": [{"filters": [stage, enterprise]}]}, mrr_desc) == "wsview_cs_stage_contract_plan_mrr_d"
    )
    assert shape(ONBOARDING, []) == "wsview_cs_stage"
    # a range is read within the sort's index; a derived property (the score) is another table's
    renewing = {
        "filterGroups": [{"filters": [{"propertyName": "renewal_date", "operator": "IN_NEXT_DAYS", "value": 90}]}]
    }
    assert shape(renewing, BY_RENEWAL) == "wsview_renewal_date_a"
    at_risk = {"filterGroups": [{"filters": [{"propertyName": "health_status", "operator": "EQ", "value": "at_risk"}]}]}
    assert shape(at_risk, [{"propertyName": "health_score", "direction": "ASCENDING"}]) is None
    # a book is the book indexes' (IS_ME), two OR-groups would need two indexes
    assert shape({"filterGroups": [{"filters": [me, stage]}]}, mrr_desc) is None
    assert shape({"filterGroups": [{"filters": [stage]}, {"filters": [enterprise]}]}, mrr_desc) is None


@pytest.mark.django_db
def test_a_default_view_gets_its_index_in_the_background_and_loses_it_when_no_longer_default(
    admin, csm, django_capture_on_commit_callbacks
):
    from tend.workspace import services

    # given a view of everyone's onboarding accounts by renewal date, shared
    actor = Actor(admin)
    ws = workspace_settings()
    view = services.view_create(
        actor=actor,
        tab="customers",
        object_type=ws.customer_object_type,
        name="Onboarding",
        filters=ONBOARDING,
        sorts=BY_RENEWAL,
        visibility="everyone",
    )
    assert view_index_names() == set()

    # when it is made a default, then the sync is queued and builds its index
    with django_capture_on_commit_callbacks(execute=True):
        services.view_set_default(actor=actor, view=view, is_default=True)
    assert DBTaskResult.objects.filter(task_path="tend.workspace.tasks.sync_view_indexes_task").count() == 1
    created, dropped = indexes.sync_view_indexes()
    assert ([n.rsplit("_", 1)[0] for n in created], dropped) == (["wsview_cs_stage_renewal_date_a"], [])
    assert indexes.sync_view_indexes() == ([], [])

    # and the view's first rows are read from it in order, its count from it alone
    table = queries.TableSpec(filters=view.filters, sorts=view.sorts)
    _registry, records = queries.customer_records(
        actor=Actor(csm), viewed_user=csm, ws=ws, table=table, extra_filters=[]
    )
    text = plan(records[:5])
    assert "wsview_cs_stage_renewal_date_a" in text
    assert "TEMP B-TREE" not in text and "Sort" not in text, text

    # when its sort changes, the index follows; when it is no longer a default, it goes
    with django_capture_on_commit_callbacks(execute=True):
        services.view_update(actor=actor, view=view, object_type=ws.customer_object_type, sorts=[])
    assert [n.rsplit("_", 1)[0] for n in indexes.sync_view_indexes()[0]] == ["wsview_cs_stage"]
    with django_capture_on_commit_callbacks(execute=True):
        services.view_set_default(actor=actor, view=view, is_default=False)
    assert DBTaskResult.objects.filter(task_path="tend.workspace.tasks.sync_view_indexes_task").count() == 3
    assert indexes.sync_view_indexes()[0] == [] and view_index_names() == set()


@pytest.mark.django_db
def test_renaming_a_default_view_queues_no_sync(admin, django_capture_on_commit_callbacks):
    from tend.workspace import services

    actor = Actor(admin)
    ws = workspace_settings()
    view = services.view_create(
        actor=actor,
        tab="customers",
        object_type=ws.customer_object_type,
        name="Onboarding",
        filters=ONBOARDING,
        sorts=BY_RENEWAL,
        visibility="everyone",
    )
    services.view_set_default(actor=actor, view=view, is_default=True)
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.view_update(actor=actor, view=view, object_type=ws.customer_object_type, name="Onboarding accounts")
    assert not DBTaskResult.objects.exists()
