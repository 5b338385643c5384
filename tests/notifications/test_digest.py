"""The daily digest through a real SMTP server: one email a day to each opted-in user with
something unread of the last day, in their language and time zone; nothing twice."""

import datetime as dt

import pytest
from django.core.management import call_command

from tend.core.policy import SYSTEM, Actor
from tend.notifications import services
from tend.notifications.digest import send_digests
from tend.notifications.models import DigestRun

from .conftest import NOW

pytestmark = pytest.mark.django_db


def opt_in(user):
    services.notification_settings_update(actor=Actor(user), user=user, digest=True)


def tell(user, event, acme, message="Start the renewal conversation"):
    services.workflow_notify(
        actor=SYSTEM, user_ids=[user.pk], event=event, workflow="Renewal", message=message, record_id=acme.pk
    )


def test_german_and_japanese_digests_once_a_day(smtp_server, translated, clock, yuki, jonas, manager, acme, settings):
    settings.TEND_BASE_URL = "https://tend.example"
    for user in (yuki, jonas, manager):
        opt_in(user)
    tell(yuki, "w1", acme)
    tell(jonas, "w1", acme)
    tell(jonas, "w2", acme, "Call the sponsor")
    clock.shift(dt.timedelta(hours=2))

    assert send_digests() == 2  # Maria has nothing new
    assert send_digests() == 0  # once a day

    by_to = {r.rcpt_tos[0]: r for r in smtp_server.received}
    assert sorted(by_to) == ["jonas@example.de", "yuki.tanaka@example.jp"]
    de, ja = by_to["jonas@example.de"], by_to["yuki.tanaka@example.jp"]
    assert de.header("Subject") == "2 neue Benachrichtigungen in Tend"
    assert ja.header("Subject") == "Tend の新しい通知 1 件"
    assert de.header("From") == settings.DEFAULT_FROM_EMAIL
    body_de, body_ja = de.message.get_content(), ja.message.get_content()
    assert "Hallo Jonas Weber," in body_de
    assert "• 10.03.2025 10:00 — Renewal: Call the sponsor" in body_de  # Berlin time, German format
    assert f"  https://tend.example/records/companies/{acme.pk}/" in body_de
    assert "田中 優希 様" in body_ja
    assert "2025/03/10 18:00 — Renewal: Start the renewal conversation" in body_ja  # Tokyo time

    clock.move_to(NOW + dt.timedelta(days=1, hours=3))
    tell(yuki, "w3", acme, "Send the quote")
    assert send_digests() == 1  # the next day: only yuki has something new
    assert smtp_server.received[-1].rcpt_tos == ["yuki.tanaka@example.jp"]


def test_read_or_old_notifications_and_opted_out_users_get_nothing(smtp_server, clock, yuki, jonas, acme):
    opt_in(yuki)
    tell(yuki, "old", acme)
    tell(jonas, "w1", acme)  # jonas never turned the digest on
    clock.shift(dt.timedelta(days=1, seconds=1))
    assert send_digests() == 0
    tell(yuki, "new", acme)
    services.notifications_mark_read(actor=Actor(yuki), user=yuki)
    assert send_digests() == 0
    assert smtp_server.received == []


def test_a_failed_send_gives_the_day_back(clock, yuki, acme, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    opt_in(yuki)
    tell(yuki, "w1", acme)
    assert send_digests() == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_digests() == 1


def test_the_command_sends_and_schedules(smtp_server, clock, yuki, acme, capsys):
    opt_in(yuki)  # turning it on queues the daily job
    assert list(DigestRun.objects.values_list("day", flat=True)) == [dt.date(2025, 3, 11)]
    tell(yuki, "w1", acme)
    call_command("notifications", "digest")
    call_command("notifications", "digest", "--schedule")
    out = capsys.readouterr().out
    assert out == "Digests sent: 1.\nThe daily digest was already queued.\n"
    assert len(smtp_server.received) == 1
