"""The Feed tab: whose activity it shows (owner, CSM, a manager's team; an outsider nothing),
filters, search, keyset paging without duplicates or gaps at equal times, dismiss and undo, View
as read-only, follow-up links, and a bounded number of queries."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tend.activity.models import Activity, ActivityDismissal
from tend.activity.write import ActivityRow, rows_insert
from tend.core.web import VIEW_AS_SESSION_KEY
from tend.crm.models import ObjectType, Record
from tend.directory.services import user_create

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def person(email, name, *, manager=None, **extra):
    user = user_create(email=email, full_name=name, time_zone="Europe/Berlin", has_service_seat=True, **extra)
    if manager is not None:
        user.manager = manager
        user.save(update_fields=["manager"])
    return user


def record(type_name, name, **extra):
    return Record.objects.create(
        object_type=ObjectType.objects.get(name=type_name), name=name, created_at=NOW, updated_at=NOW, **extra
    )


def company(name, *, csm=None, owner=None):
    return record("companies", name, owner=owner, properties={"csm": csm.pk} if csm else {})


def activity(contact, company, n, *, kind="page_viewed", minutes=0, asset="Pricing", **extra):
    rows_insert(
        [
            ActivityRow(
                external_id=f"x{n}",
                type=kind,
                contact_id=contact.pk,
                company_id=company.pk if company else None,
                occurred_at=NOW - dt.timedelta(minutes=minutes),
                source="api",
                asset_name=asset,
                asset_url=f"https://example.com/{n}",
                **extra,
            )
        ],
        NOW,
    )
    return Activity.objects.get(external_id=f"x{n}")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shown(response) -> list[int]:
    assert response.status_code == 200, response.content[:400]
    return [int(i) for i in re.findall(r'data-activity="(\d+)"', response.content.decode())]


def next_url(response) -> str | None:
    match = re.search(
        r'data-testid="feed-load-older"[^>]*|href="([^"]+)"[^>]*data-testid="feed-load-older"',
        response.content.decode(),
    )
    if match is None or match.group(1) is None:
        return None
    return match.group(1).replace("&amp;", "&")


@pytest.fixture
def world(db):
    morgan = person("morgan@example.com", "Morgan Lee")
    yuki = person("yuki@example.com", "Yuki Tanaka", manager=morgan)
    sam = person("sam@example.com", "Sam Park", manager=morgan)
    outsider = person("out@example.com", "Olga Out")
    acme = company("Acme", csm=yuki)
    globex = company("Globex", owner=yuki)
    initech = company("Initech", csm=sam)
    other = company("Umbrella", csm=outsider)
    jane = record("contacts", "Jane Doe")
    bob = record("contacts", "Bob Roe")
    ivy = record("contacts", "Ivy Ng")
    olaf = record("contacts", "Olaf Other")
    rows = {
        "jane": activity(jane, acme, 1, minutes=1),
        "bob": activity(bob, globex, 2, minutes=2, kind="form_submitted", asset="Trial form"),
        "ivy": activity(ivy, initech, 3, minutes=3, kind="email_opened", asset="Renewal offer"),
        "olaf": activity(olaf, other, 4, minutes=4),
    }
    return {"morgan": morgan, "yuki": yuki, "sam": sam, "outsider": outsider, "rows": rows,
            "jane": jane, "acme": acme}  # fmt: skip


def ids(world, *names):
    return [world["rows"][n].pk for n in names]


def test_a_csm_sees_owned_and_csm_books_newest_first_a_manager_the_team_an_outsider_only_theirs(world):
    assert shown(signed_in(world["yuki"]).get("/feed/")) == ids(world, "jane", "bob")
    assert shown(signed_in(world["sam"]).get("/feed/")) == ids(world, "ivy")
    manager = signed_in(world["morgan"])
    assert shown(manager.get("/feed/")) == ids(world, "jane", "bob", "ivy")
    assert shown(manager.get("/feed/", {"scope": "team", "person": world["sam"].pk})) == ids(world, "ivy")
    assert shown(manager.get("/feed/", {"scope": "me"})) == []
    nobody = person("new@example.com", "New Person")
    page = signed_in(nobody).get("/feed/")
    assert shown(page) == []
    assert 'data-testid="feed-empty"' in page.content.decode()
    assert "POST /api/v1/activities" in page.content.decode()


def test_links_open_the_contact_the_company_and_the_asset(world):
    page = signed_in(world["yuki"]).get("/feed/").content.decode()
    assert f'href="/records/contacts/{world["jane"].pk}/" data-testid="feed-contact"' in page
    assert f'href="/records/companies/{world["acme"].pk}/" data-testid="feed-company"' in page
    assert 'href="https://example.com/1" target="_blank"' in page
    assert f"/records/contacts/{world['jane'].pk}/?action=call" in page
    assert f"/records/contacts/{world['jane'].pk}/?action=note" in page
    assert f"/tasks/new/?records={world['jane'].pk}&records={world['acme'].pk}" in page


def test_filters_by_type_date_sequence_and_search(world):
    client = signed_in(world["morgan"])
    assert shown(client.get("/feed/", {"type": ["form_submitted", "email_opened"]})) == ids(world, "bob", "ivy")
    assert shown(client.get("/feed/", {"q": "acme"})) == ids(world, "jane")  # the company
    assert shown(client.get("/feed/", {"q": "bob"})) == ids(world, "bob")  # the contact
    assert shown(client.get("/feed/", {"q": "renewal"})) == ids(world, "ivy")  # the asset
    assert shown(client.get("/feed/", {"from": "2026-03-13"})) == []
    assert shown(client.get("/feed/", {"from": "2026-03-12", "to": "2026-03-12"})) == ids(world, "jane", "bob", "ivy")
    jane = world["jane"]
    enrolled = activity(jane, world["acme"], 10, kind="sequence_enrolled", minutes=30)
    assert shown(client.get("/feed/", {"sequence": "enrolled"})) == [world["rows"]["jane"].pk, enrolled.pk]
    assert shown(client.get("/feed/", {"sequence": "not_enrolled"})) == ids(world, "bob", "ivy")
    activity(jane, world["acme"], 11, kind="sequence_finished", minutes=20)
    assert shown(client.get("/feed/", {"sequence": "enrolled"})) == []
    empty = client.get("/feed/", {"q": "zzz"}).content.decode()
    assert "No activity matches these filters." in empty


def test_load_older_pages_by_cursor_without_duplicates_or_gaps_at_equal_times(world, django_assert_max_num_queries):
    yuki, acme, jane = world["yuki"], world["acme"], world["jane"]
    extra = [activity(jane, acme, 100 + i, minutes=60 + (i // 10)) for i in range(60)]  # ten rows at each time
    client = signed_in(yuki)
    first = client.get("/feed/")
    seen = shown(first)
    assert len(seen) == 25
    url = next_url(first)
    while url:
        with django_assert_max_num_queries(8):
            response = client.get("/feed/" + url, **HX)
        seen += shown(response)
        url = next_url(response)
    expected = list(
        Activity.objects.filter(company__in=[acme, world["rows"]["bob"].company_id])
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)
    )
    assert seen == expected and len(seen) == len(set(seen)) == 62
    assert len(extra) == 60


def test_queries_do_not_grow_with_the_page(world):
    client = signed_in(world["yuki"])
    client.get("/feed/")
    with CaptureQueriesContext(connection) as few:
        client.get("/feed/")
    for i in range(40):
        activity(world["jane"], world["acme"], 200 + i, minutes=5 + i)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/feed/")
    assert len(shown(response)) == 25
    assert len(many) == len(few) <= 8


def test_dismiss_is_per_user_and_undone(world):
    yuki, morgan = world["yuki"], world["morgan"]
    jane_row = world["rows"]["jane"]
    client = signed_in(yuki)
    response = client.post(reverse("feed-dismiss", args=[jane_row.pk]), **HX)
    assert 'data-testid="feed-undo"' in response.content.decode()
    assert shown(client.get("/feed/")) == ids(world, "bob")
    assert jane_row.pk in shown(signed_in(morgan).get("/feed/"))  # only Yuki's Feed
    client.post(reverse("feed-dismiss", args=[jane_row.pk]), **HX)  # twice is once
    assert ActivityDismissal.objects.count() == 1
    undone = client.post(reverse("feed-undo", args=[jane_row.pk]), **HX)
    assert 'data-testid="feed-dismiss"' in undone.content.decode()
    assert shown(client.get("/feed/")) == ids(world, "jane", "bob")
    assert client.post(reverse("feed-dismiss", args=[999999]), **HX).status_code == 404


def test_view_as_shows_their_feed_read_only(world):
    admin = person("admin@example.com", "Ada Admin", manage_cs_settings=True)
    client = signed_in(admin)
    session = client.session
    session[VIEW_AS_SESSION_KEY] = world["yuki"].pk
    session.save()
    page = client.get("/feed/")
    assert shown(page) == ids(world, "jane", "bob")
    html = page.content.decode()
    assert 'data-testid="view-as-note"' in html and "feed-dismiss" not in html and "follow-task" not in html
    response = client.post(reverse("feed-dismiss", args=[world["rows"]["jane"].pk]), **HX)
    assert response.status_code == 403
    assert ActivityDismissal.objects.count() == 0


def test_the_tab_is_in_the_nav_after_schedule(world):
    html = signed_in(world["yuki"]).get("/feed/").content.decode()
    assert html.index(">Schedule</a>") < html.index('href="/feed/"')
