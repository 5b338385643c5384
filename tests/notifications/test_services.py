"""Who is told what: tasks assigned, mentions in notes, workflow notices; never the person who
caused it; preferences off → nothing; once per event; marking read."""

import pytest

from tend.core import hooks
from tend.core.errors import Forbidden
from tend.core.policy import SYSTEM, Actor, Scope
from tend.engagement import services as engagement
from tend.engagement.kinds import KINDS
from tend.notifications import queries, services
from tend.notifications.models import Notification, NotificationSettings
from tend.notifications.text import notification_text

from .conftest import NOW

pytestmark = pytest.mark.django_db


def task(actor, assignee, acme, subject="Prepare the QBR"):
    return engagement.engagement_create(
        actor=Actor(actor),
        kind=KINDS["tasks"],
        properties={"subject": subject, "assignee": assignee.pk},
        associations=[acme.pk],
    )


def note(actor, body, acme):
    return engagement.engagement_create(
        actor=Actor(actor), kind=KINDS["notes"], properties={"body": body}, associations=[acme.pk]
    )


def rows():
    return list(Notification.objects.order_by("id").values_list("user__email", "kind", "actor__email", "record__name"))


def test_a_task_assigned_to_someone_else_notifies_them(clock, manager, yuki, acme):
    created = task(manager, yuki, acme)

    assert rows() == [("yuki.tanaka@example.jp", "task_assigned", "maria@example.com", "Acme")]
    n = Notification.objects.get()
    assert (n.created_at, n.read_at, n.params) == (NOW, None, {"subject": "Prepare the QBR"})
    assert notification_text(n) == "Maria Rossi assigned you a task on Acme: Prepare the QBR"
    assert created.assignee_id == yuki.pk


def test_a_task_you_assign_to_yourself_notifies_nobody(clock, manager, acme):
    task(manager, manager, acme)
    assert rows() == []


def test_reassigning_notifies_the_new_assignee_only(clock, manager, yuki, jonas, acme):
    created = task(manager, yuki, acme)
    clock.shift(60)
    engagement.engagement_update(
        actor=Actor(manager), kind=KINDS["tasks"], engagement=created, properties={"assignee": jonas.pk}
    )
    engagement.engagement_update(
        actor=Actor(manager), kind=KINDS["tasks"], engagement=created, properties={"subject": "Prepare the QBR deck"}
    )

    assert [r[0] for r in rows()] == ["yuki.tanaka@example.jp", "jonas@example.de"]


def test_a_mention_in_a_note_notifies_the_people_mentioned_but_not_the_writer(clock, manager, yuki, jonas, acme):
    note(manager, "@田中 優希 please call them; cc @jonas and @Maria Rossi", acme)

    assert sorted(r[0] for r in rows()) == ["jonas@example.de", "yuki.tanaka@example.jp"]
    n = Notification.objects.get(user=jonas)
    assert notification_text(n) == (
        "Maria Rossi mentioned you in a note on Acme: “@田中 優希 please call them; cc @jonas and @Maria Rossi”"
    )


def test_editing_a_note_notifies_only_the_newly_mentioned(clock, manager, yuki, jonas, acme):
    written = note(manager, "Ask @jonas", acme)
    engagement.engagement_update(
        actor=Actor(manager),
        kind=KINDS["notes"],
        engagement=written,
        properties={"body": "Ask @jonas and @yuki.tanaka"},
    )

    assert sorted(r[0] for r in rows()) == ["jonas@example.de", "yuki.tanaka@example.jp"]


def test_a_kind_turned_off_is_not_notified(clock, manager, yuki, jonas, acme):
    services.notification_settings_update(actor=Actor(yuki), user=yuki, task_assigned=False)

    task(manager, yuki, acme)
    note(manager, "@yuki.tanaka look", acme)

    assert rows() == [("yuki.tanaka@example.jp", "mention", "maria@example.com", "Acme")]


def test_the_same_event_told_twice_notifies_once(clock, yuki, jonas, acme):
    for _ in range(2):
        count = services.workflow_notify(
            actor=SYSTEM,
            user_ids=[yuki.pk, jonas.pk],
            event="workflow:7:run:42",
            workflow="Renewal in 90 days",
            message="Start the renewal conversation",
            record_id=acme.pk,
        )
    assert count == 0
    assert sorted(r[:2] for r in rows()) == [("jonas@example.de", "workflow"), ("yuki.tanaka@example.jp", "workflow")]
    assert notification_text(Notification.objects.first()) == "Renewal in 90 days: Start the renewal conversation"


def test_inactive_users_and_unknown_kinds(clock, yuki, acme):
    yuki.is_active = False
    yuki.save()
    assert services.notify(actor=SYSTEM, kind="custom", user_ids=[yuki.pk], event="e", params={"text": "x"}) == 0
    with pytest.raises(ValueError):
        services.notify(actor=SYSTEM, kind="gossip", user_ids=[yuki.pk], event="e")
    assert rows() == []


def test_the_hook_without_users_tells_nobody(clock, acme):
    hooks.notices([hooks.Notice(kind="mention", event="x", user_ids=())])
    assert rows() == []


def test_many_events_for_many_users_in_a_bounded_number_of_queries(clock, django_assert_max_num_queries, yuki, jonas):
    notices = [
        hooks.Notice(kind="custom", event=f"e{i}", user_ids=(yuki.pk, jonas.pk), params={"text": f"#{i}"})
        for i in range(300)
    ]
    # users, known events, the insert (SQLite splits it at its 999 variables: ~90 rows a statement)
    with django_assert_max_num_queries(12):
        assert services.notify_many(actor=SYSTEM, notices=notices) == 600


def test_mark_read_one_and_all(clock, manager, yuki, jonas, acme):
    first = task(manager, yuki, acme, "one")
    task(manager, yuki, acme, "two")
    task(manager, jonas, acme, "three")
    [older, newer] = Notification.objects.filter(user=yuki).order_by("id")
    assert queries.unread_count(yuki) == 2

    assert services.notifications_mark_read(actor=Actor(yuki), user=yuki, ids=[older.pk]) == 1
    assert queries.unread_count(yuki) == 1
    assert services.notifications_mark_read(actor=Actor(yuki), user=yuki) == 1
    assert (queries.unread_count(yuki), queries.unread_count(jonas)) == (0, 1)
    assert first.pk


def test_nobody_marks_another_persons_notifications_read(clock, manager, yuki, acme):
    task(manager, yuki, acme)
    for actor in (Actor(manager), Actor(yuki, Scope.READ), SYSTEM):
        with pytest.raises(Forbidden):
            services.notifications_mark_read(actor=actor, user=yuki)
    assert queries.unread_count(yuki) == 1


def test_the_badge_stops_counting_past_99(clock, yuki):
    services.notify_many(
        actor=SYSTEM,
        notices=[
            hooks.Notice(kind="custom", event=f"e{i}", user_ids=(yuki.pk,), params={"text": "x"}) for i in range(120)
        ],
    )
    count = queries.unread_count(yuki)
    assert (count, queries.badge(count), queries.badge(99)) == (100, "99+", "99")


def test_keyset_pages_cover_every_notification_once(clock, yuki):
    for i in range(7):
        services.notify(actor=SYSTEM, kind="custom", user_ids=[yuki.pk], event=f"e{i}", params={"text": str(i)})
        clock.shift(1 if i % 2 else 0)  # some share a moment: the id breaks the tie
    seen, cursor = [], ""
    while True:
        page = queries.notifications_page(yuki, cursor=cursor, limit=3)
        seen += [n.params["text"] for n in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == ["6", "5", "4", "3", "2", "1", "0"]


def test_settings_default_and_saved(yuki):
    assert services.notification_settings_for(yuki).pk is not None  # the user's pk; unsaved
    assert NotificationSettings.objects.count() == 0
    saved = services.notification_settings_update(actor=Actor(yuki), user=yuki, mention=False, digest=True)
    assert (saved.alert, saved.task_assigned, saved.mention, saved.workflow, saved.digest) == (
        True,
        True,
        False,
        True,
        True,
    )
