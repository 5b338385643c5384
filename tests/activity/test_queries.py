"""The reads the Feed and the API's batch lean on: contacts by email in one indexed query, and a
small book's page read company by company and merged (the same page as the plain query)."""

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.activity import queries
from tend.activity.models import Activity, ActivityDismissal
from tend.activity.write import ActivityRow, rows_insert
from tend.core.policy import SYSTEM
from tend.crm.services import record_create

from .conftest import contact_of

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)


def test_contacts_by_email_in_one_query_whatever_the_case(contacts, acme):
    jane = contact_of(contacts, acme, "Jane Doe", "Jane@Acme.example")
    bob = contact_of(contacts, acme, "Bob Roe", "bob@acme.example")
    with CaptureQueriesContext(connection) as captured:
        found = queries.contacts_by_email(["JANE@acme.example", "bob@ACME.example", " bob@acme.example ", "x@y.z"])
    assert found == {"jane@acme.example": jane.pk, "bob@acme.example": bob.pk}
    assert len([q for q in captured if "crm_record" in q["sql"]]) == 1


def test_contacts_by_email_uses_the_email_index(contacts, acme):
    contact_of(contacts, acme, "Jane Doe", "jane@acme.example")
    rows = (
        queries._contacts()
        .annotate(email_key=queries.Lower(queries.PropertyText("email", "properties")))
        .filter(email_key__in=["jane@acme.example"])
    )
    with connection.cursor() as cursor:
        sql, params = rows.values_list("pk").query.sql_with_params()
        if connection.vendor == "postgresql":  # a tiny table's plan is anyone's: the expressions match
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'record_email'")
            [(definition,)] = cursor.fetchall()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(str(r) for r in cursor.fetchall())
            assert "lower((properties ->> 'email'::text))" in definition
            assert "lower((properties ->> 'email'::text))" in plan
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            assert "record_email" in " ".join(str(r) for r in cursor.fetchall())


def _world(companies, contacts, n_companies=6, n_rows=400):
    rng = random.Random(19)
    firms = [
        record_create(actor=SYSTEM, object_type=companies, properties={"name": f"Co {i}"}) for i in range(n_companies)
    ]
    people = [contact_of(contacts, firm, f"P {i}", f"p{i}@x.example") for i, firm in enumerate(firms)]
    kinds = ("page_viewed", "form_submitted", "webinar")
    rows_insert(
        [
            ActivityRow(
                external_id=f"r{k}",
                type=kinds[k % 3],
                label="Webinar" if k % 3 == 2 else "",
                contact_id=people[k % n_companies].pk,
                company_id=firms[k % n_companies].pk,
                occurred_at=NOW - dt.timedelta(minutes=rng.randrange(60)),  # many equal times
                source="api",
            )
            for k in range(n_rows)
        ],
        NOW,
    )
    return firms


@pytest.mark.parametrize(
    "filters",
    [
        queries.FeedFilters(),
        queries.FeedFilters(types=("form_submitted", queries.CUSTOM)),
        queries.FeedFilters(search="P 3"),
    ],
)
def test_a_small_books_pages_are_the_plain_querys_pages(companies, contacts, csm, filters):
    firms = _world(companies, contacts)
    book = [f.pk for f in firms[:4]]
    for activity_id in Activity.objects.filter(company_id=book[0]).order_by("id").values_list("pk", flat=True)[:30]:
        ActivityDismissal.objects.create(user=csm, activity_id=activity_id, dismissed_at=NOW)
    expected = list(
        queries.filtered(Activity.objects.filter(company_id__in=book), filters)
        .exclude(pk__in=ActivityDismissal.objects.filter(user=csm).values("activity_id"))
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)
    )
    seen, cursor = [], None
    while True:
        page, cursor = queries.feed_page(
            companies=book, small_book=True, user_id=csm.pk, filters=filters, cursor=cursor, limit=25
        )
        seen += [a.pk for a in page]
        if cursor is None:
            break
    assert seen == expected and len(expected) > 25
