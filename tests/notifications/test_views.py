"""The bell (an htmx fragment after the page), the notifications page, opening one, marking all
read, View as (the viewed user's bell, read-only) and the settings section."""

import pytest
from django.test import Client

from tend.core import hooks
from tend.core.policy import SYSTEM
from tend.core.web import VIEW_AS_SESSION_KEY
from tend.directory.services import user_create
from tend.notifications import services
from tend.notifications.models import Notification, NotificationSettings

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tell(user, n, acme, kind="custom", start=0):
    notices = [
        hooks.Notice(kind=kind, event=f"e{i}", user_ids=(user.pk,), record_id=acme.pk, params={"text": f"Note {i}"})
        for i in range(start, start + n)
    ]
    services.notify_many(actor=SYSTEM, notices=notices)


def test_the_page_loads_the_bell_after_itself(manager):
    body = client_for(manager).get("/me/preferences/").content.decode()
    assert 'hx-get="/notifications/bell/"' in body
    assert 'hx-get="/notifications/settings/"' in body


def test_the_bell_counts_and_lists_in_a_bounded_number_of_queries(clock, yuki, acme, django_assert_max_num_queries):
    client = client_for(yuki)
    tell(yuki, 3, acme)
    client.get("/notifications/bell/")  # the session and user warm up
    with django_assert_max_num_queries(6) as few:
        client.get("/notifications/bell/")
    tell(yuki, 30, acme, start=3)
    with django_assert_max_num_queries(len(few)):
        response = client.get("/notifications/bell/")
    body = response.content.decode()
    assert 'data-testid="bell-badge">33<' in body
    assert body.count('data-testid="notification"') == 8
    assert "Note 32" in body and "すべて既読にする" in body  # Yuki reads Japanese


def test_the_badge_reads_99_plus(clock, yuki, acme):
    tell(yuki, 100, acme)
    assert 'data-testid="bell-badge">99+<' in client_for(yuki).get("/notifications/bell/").content.decode()


def test_an_empty_bell_says_what_will_appear(yuki):
    body = client_for(yuki).get("/notifications/bell/").content.decode()
    assert "bell-badge" not in body
    assert "まだ何もありません。担当アカウントのアラート、割り当てられたタスク、メモでのメンションがここに表示されます。" in body


def test_opening_one_marks_it_read_and_goes_to_its_record(clock, yuki, acme):
    tell(yuki, 2, acme)
    first = Notification.objects.order_by("id").first()
    response = client_for(yuki).post(f"/notifications/{first.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == f"/records/companies/{acme.pk}/"
    assert list(Notification.objects.order_by("id").values_list("read_at", flat=True).distinct()) != [None]
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_nobody_opens_another_persons_notification(clock, yuki, jonas, acme):
    tell(yuki, 1, acme)
    n = Notification.objects.get()
    assert client_for(jonas).post(f"/notifications/{n.pk}/open/").status_code == 404
    assert Notification.objects.get().read_at is None


def test_mark_all_read_from_the_bell(clock, yuki, acme):
    tell(yuki, 3, acme)
    response = client_for(yuki).post("/notifications/read-all/", HTTP_HX_REQUEST="true")
    assert "bell-badge" not in response.content.decode()
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


def test_view_as_shows_the_viewed_users_bell_read_only(clock, yuki, acme):
    boss = user_create(email="boss@example.com", full_name="Boss", manage_cs_settings=True, has_service_seat=True)
    tell(yuki, 2, acme)
    client = client_for(boss)
    session = client.session
    session[VIEW_AS_SESSION_KEY] = yuki.pk
    session.save()

    body = client.get("/notifications/bell/").content.decode()
    assert 'data-testid="bell-badge">2<' in body
    assert "Mark all as read" not in body and "viewing them leaves them unread" in body
    n = Notification.objects.first()
    assert client.post(f"/notifications/{n.pk}/open/").status_code == 302
    assert client.post("/notifications/read-all/").status_code == 403
    assert Notification.objects.filter(read_at__isnull=True).count() == 2


def test_the_page_filters_by_kind_and_pages_on(clock, yuki, acme):
    tell(yuki, 30, acme)
    services.workflow_notify(
        actor=SYSTEM, user_ids=[yuki.pk], event="w1", workflow="Onboarding", message="Kick-off call", record_id=acme.pk
    )
    client = client_for(yuki)
    body = client.get("/notifications/").content.decode()
    assert body.count('data-testid="notification"') == 25 and "load-older" in body
    older = body.split('hx-get="')[-1].split('"')[0].replace("&amp;", "&")
    rest = client.get(f"/notifications/{older}", HTTP_HX_REQUEST="true").content.decode()
    assert rest.count('data-testid="notification"') == 6 and "load-older" not in rest
    only = client.get("/notifications/?kind=workflow").content.decode()
    assert only.count('data-testid="notification"') == 1 and "Onboarding: Kick-off call" in only
    empty = client.get("/notifications/?kind=mention").content.decode()
    assert "誰かがメモであなたをメンションすると（@ と名前）、ここに表示されます。" in empty


def test_the_settings_section_saves(yuki):
    client = client_for(yuki)
    assert 'data-testid="notify-alert"' in client.get("/notifications/settings/").content.decode()
    response = client.post("/notifications/settings/", {"alert": "on", "mention": "on", "digest": "on"})
    assert "通知設定を保存しました。" in response.content.decode()
    saved = NotificationSettings.objects.get(user=yuki)
    assert (saved.alert, saved.task_assigned, saved.mention, saved.workflow, saved.digest) == (
        True,
        False,
        True,
        False,
        True,
    )
