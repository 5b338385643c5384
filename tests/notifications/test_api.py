"""GET /api/v1/notifications and POST /api/v1/notifications/read: the caller's own."""

import pytest

from tend.core.policy import SYSTEM
from tend.notifications import services
from tend.notifications.models import Notification

pytestmark = pytest.mark.django_db


def tell(user, n, acme):
    for i in range(n):
        services.notify(
            actor=SYSTEM, kind="custom", user_ids=[user.pk], event=f"e{i}", params={"text": f"#{i}"}, record_id=acme.pk
        )


def test_list_page_and_mark_read(clock, yuki, jonas, acme, api_client_for, django_assert_max_num_queries):
    tell(yuki, 3, acme)
    tell(jonas, 1, acme)
    client = api_client_for(yuki, write=True)
    with django_assert_max_num_queries(6):
        first = client.get("/api/v1/notifications?limit=2").json()
    assert [r["text"] for r in first["results"]] == ["#2", "#1"]
    assert first["unreadCount"] == 3
    assert first["results"][0] | {"id": 0} == {
        "id": 0,
        "kind": "custom",
        "text": "#2",
        "key": "custom",
        "params": {"text": "#2"},
        "recordId": acme.pk,
        "actorId": None,
        "url": f"/records/companies/{acme.pk}/",
        "createdAt": "2025-03-10T09:00:00Z",
        "readAt": None,
    }
    rest = client.get(f"/api/v1/notifications?limit=2&after={first['paging']['next']['after']}").json()
    assert [r["text"] for r in rest["results"]] == ["#0"] and "paging" not in rest

    one = first["results"][0]["id"]
    assert client.post("/api/v1/notifications/read", {"ids": [one]}, content_type="application/json").json() == {
        "marked": 1,
        "unreadCount": 2,
    }
    assert client.post("/api/v1/notifications/read", {}, content_type="application/json").json() == {
        "marked": 2,
        "unreadCount": 0,
    }
    assert Notification.objects.filter(user=jonas, read_at__isnull=True).count() == 1


def test_a_read_token_reads_but_does_not_mark(clock, yuki, acme, api_client_for):
    tell(yuki, 1, acme)
    client = api_client_for(yuki, write=False)
    assert client.get("/api/v1/notifications?unread=true").json()["unreadCount"] == 1
    response = client.post("/api/v1/notifications/read", {}, content_type="application/json")
    assert response.status_code == 403
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_bad_kind_and_cursor_name_the_field(yuki, api_client_for):
    client = api_client_for(yuki)
    assert client.get("/api/v1/notifications?kind=gossip").json()["errors"][0]["field"] == "kind"
    assert client.get("/api/v1/notifications?after=nope").json()["errors"][0]["field"] == "after"
