"""Ingestion, rollups, mapping and NPS services — given / when / then, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
import time_machine

from tend.core.errors import Forbidden, ValidationFailed
from tend.core.policy import SYSTEM, Actor, Scope
from tend.crm.models import PropertyChange, Record
from tend.cs_settings.models import SettingsChange
from tend.health.models import DirtyAccount
from tend.usage import queries
from tend.usage.ingest.rollups import rollups_recompute
from tend.usage.ingest.store import events_ingest
from tend.usage.models import DailyActiveUser, DailyUsage, SurveyResponse, UsageEvent, UsageIdentity
from tend.usage.settings import settings_update_usage
from tend.usage.surveys import survey_responses_record

from .conftest import track

NOW = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def rollups():
    return sorted(DailyUsage.objects.values_list("account_id", "day", "event", "count", "users"))


def test_same_batch_twice_is_stored_once(acme, csm_actor):
    batch = [track("m1", group="acme.example"), track("m2", user="u2", group="acme.example")]
    first = events_ingest(actor=csm_actor, messages=batch)
    second = events_ingest(actor=csm_actor, messages=batch)
    assert (first.accepted, first.duplicates) == (2, 0)
    assert (second.accepted, second.duplicates) == (0, 2)
    assert UsageEvent.objects.count() == 2
    assert rollups() == [(acme.pk, dt.date(2026, 3, 10), "Logged In", 2, 2)]


def test_duplicate_inside_one_batch_counts_once(acme, csm_actor):
    result = events_ingest(
        actor=csm_actor, messages=[track("m1", group="acme.example"), track("m1", group="acme.example")]
    )
    assert (result.accepted, result.duplicates) == (1, 1)
    assert rollups() == [(acme.pk, dt.date(2026, 3, 10), "Logged In", 1, 1)]


def test_bad_messages_are_reported_and_good_ones_kept(acme, csm_actor):
    messages = [
        track("ok-1", group="acme.example"),
        {"type": "track", "messageId": "no-user", "event": "X"},
        track("no-event", event=""),
        track("bad-time", at="yesterday"),
        track("long", event="x" * 201),
        {"type": "fly", "messageId": "bad-type", "userId": "u"},
        track("big", properties={"blob": "x" * 33_000}),
        track("future", at="2026-03-14T12:00:00Z"),
        "not an object",
        {"type": "group", "messageId": "no-group", "userId": "u1"},
        track("ok-2", user="u2", group="acme.example"),
    ]
    result = events_ingest(actor=csm_actor, messages=messages)
    assert result.accepted == 2
    assert [(e["index"], e["messageId"], e["field"]) for e in result.errors] == [
        (1, "no-user", "userId"),
        (2, "no-event", "event"),
        (3, "bad-time", "timestamp"),
        (4, "long", "event"),
        (5, "bad-type", "type"),
        (6, "big", "properties"),
        (7, "future", "timestamp"),
        (8, None, "body"),
        (9, "no-group", "groupId"),
    ]
    assert result.errors[0]["message"] == "Send a userId or an anonymousId."
    assert sorted(UsageEvent.objects.values_list("message_id", flat=True)) == ["ok-1", "ok-2"]


def test_group_call_maps_later_tracks_by_user_id(acme, csm_actor):
    events_ingest(
        actor=csm_actor,
        messages=[
            {"type": "group", "messageId": "g1", "userId": "u7", "groupId": "acme.example", "traits": {"plan": "pro"}}
        ],
    )
    result = events_ingest(actor=csm_actor, messages=[track("t1", user="u7", event="Report Created")])
    assert (result.accepted, result.unmatched) == (1, 0)
    assert UsageEvent.objects.get(message_id="t1").account_id == acme.pk
    assert UsageIdentity.objects.get(user_key="u7").account_id == acme.pk
    assert rollups() == [(acme.pk, dt.date(2026, 3, 10), "Report Created", 1, 1)]


def test_group_call_earlier_in_the_same_batch_maps_the_track(acme, csm_actor):
    result = events_ingest(
        actor=csm_actor,
        messages=[
            {"type": "group", "messageId": "g1", "userId": "u7", "groupId": "acme.example"},
            track("t1", user="u7"),
        ],
    )
    assert (result.accepted, result.unmatched) == (2, 0)
    assert UsageEvent.objects.get(message_id="t1").account_id == acme.pk


def test_context_group_id_then_properties_group_id(acme, globex, csm_actor):
    events_ingest(
        actor=csm_actor,
        messages=[
            track("c1", user="a", group="acme.example", properties={"groupId": "globex.example"}),
            track("p1", user="b", properties={"groupId": "globex.example"}),
        ],
    )
    assert dict(UsageEvent.objects.values_list("message_id", "account_id")) == {"c1": acme.pk, "p1": globex.pk}


def test_unknown_account_is_stored_unmatched_and_not_backfilled(acme, csm_actor):
    result = events_ingest(actor=csm_actor, messages=[track("t1", user="u9", group="nobody.example")])
    assert (result.accepted, result.unmatched) == (1, 1)
    assert UsageEvent.objects.get(message_id="t1").account_id is None
    events_ingest(
        actor=csm_actor, messages=[{"type": "group", "messageId": "g1", "userId": "u9", "groupId": "acme.example"}]
    )
    assert UsageEvent.objects.get(message_id="t1").account_id is None
    assert DailyUsage.objects.count() == 0


def test_out_of_order_and_duplicates_keep_rollups_exact(acme, csm_actor):
    events_ingest(
        actor=csm_actor,
        messages=[
            track("a", user="u1", event="Export Run", group="acme.example", at="2026-03-11T09:00:00Z"),
            track("b", user="u2", event="Export Run", group="acme.example", at="2026-03-11T23:59:59Z"),
        ],
    )
    # Later: an older event of the same day, a replay, another day, an anonymous user.
    events_ingest(
        actor=csm_actor,
        messages=[
            track("c", user="u1", event="Export Run", group="acme.example", at="2026-03-11T00:00:00Z"),
            track("a", user="u1", event="Export Run", group="acme.example", at="2026-03-11T09:00:00Z"),
            track("d", user="u1", event="Logged In", group="acme.example", at="2026-03-12T00:00:00Z"),
            {"type": "track", "messageId": "e", "event": "Logged In", "anonymousId": "x1",
             "context": {"groupId": "acme.example"}, "timestamp": "2026-03-12T01:00:00+01:00"},
            {"type": "page", "messageId": "p", "userId": "u5", "name": "Home",
             "context": {"groupId": "acme.example"}, "timestamp": "2026-03-12T08:00:00Z"},
        ],
    )  # fmt: skip
    assert rollups() == [
        (acme.pk, dt.date(2026, 3, 11), "Export Run", 3, 2),
        (acme.pk, dt.date(2026, 3, 12), "Logged In", 2, 2),
    ]
    # "+01:00" at 01:00 is 00:00 UTC on the 12th; the page view counts as activity, not as a feature.
    assert UsageEvent.objects.get(message_id="e").timestamp == dt.datetime(2026, 3, 12, 0, 0, tzinfo=dt.UTC)
    assert sorted(DailyActiveUser.objects.values_list("day", "user_key")) == [
        (dt.date(2026, 3, 11), "u1"),
        (dt.date(2026, 3, 11), "u2"),
        (dt.date(2026, 3, 12), "anon:x1"),
        (dt.date(2026, 3, 12), "u1"),
        (dt.date(2026, 3, 12), "u5"),
    ]
    summary = queries.usage_summary(acme, days=2)
    assert summary["totals"] == [{"event": "Export Run", "count": 3}, {"event": "Logged In", "count": 2}]
    assert (summary["events"], summary["activeUsers"], summary["distinctFeatures"]) == (5, 4, 2)
    assert [(p["day"], p["events"], p["activeUsers"]) for p in summary["series"]] == [
        (dt.date(2026, 3, 11), 3, 2),
        (dt.date(2026, 3, 12), 2, 3),
    ]


def test_rollups_recompute_repairs_a_drifted_row(acme, csm_actor):
    events_ingest(actor=csm_actor, messages=[track("a", group="acme.example")])
    DailyUsage.objects.update(count=99, users=99)
    rollups_recompute([(acme.pk, dt.date(2026, 3, 10))])
    assert rollups() == [(acme.pk, dt.date(2026, 3, 10), "Logged In", 1, 1)]


def test_rollups_add_up_over_batches_and_replays(acme, csm_actor):
    day = "2026-03-11T{}:00:00Z"
    batches = [
        [track("1", user="u1", at=day.format("09"), group="acme.example"),
         track("2", user="u2", at=day.format("10"), group="acme.example"),
         track("3", user="u1", at=day.format("11"), group="acme.example")],
        # The same users again, a new one, another event, and a replay of the first batch's ids.
        [track("4", user="u2", at=day.format("12"), group="acme.example"),
         track("5", user="u3", at=day.format("13"), group="acme.example"),
         track("6", user="u1", event="Export Run", at=day.format("14"), group="acme.example"),
         track("1", user="u1", at=day.format("09"), group="acme.example")],
        [track("2", user="u2", at=day.format("10"), group="acme.example")],
    ]  # fmt: skip
    accepted = [events_ingest(actor=csm_actor, messages=b).accepted for b in batches]
    assert accepted == [3, 3, 0]
    assert rollups() == [
        (acme.pk, dt.date(2026, 3, 11), "Export Run", 1, 1),
        (acme.pk, dt.date(2026, 3, 11), "Logged In", 5, 3),
    ]
    # What a rebuild from the stored events gives is what the batches added up to.
    before = rollups()
    rollups_recompute([(acme.pk, dt.date(2026, 3, 11))])
    assert rollups() == before


def test_adding_to_rollups_rewrites_them_in_place(acme, globex, csm_actor):
    """PostgreSQL: rollup pages keep room (migration signals.0003), so adding a batch's events to
    existing rollups is a HOT update, with no new index entries."""
    from django.db import connection

    from tend.core import bulk

    if not bulk.is_postgres():
        pytest.skip("PostgreSQL's HOT updates")
    keys = [(group, day, f"Event {e}") for group in ("acme.example", "globex.example") for day in range(1, 11)
            for e in range(30)]  # fmt: skip
    first = [track(f"a{i}", event=ev, at=f"2026-03-{d:02}T09:00:00Z", group=g) for i, (g, d, ev) in enumerate(keys)]
    more = [track(f"b{i}", event=ev, at=f"2026-03-{d:02}T10:00:00Z", group=g) for i, (g, d, ev) in enumerate(keys)]
    events_ingest(actor=csm_actor, messages=first)  # 600 rollup rows: several full pages
    # Counted by this connection and not yet flushed: read before and after (PostgreSQL 15 may
    # still hold earlier transactions' counts here).
    query = "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'signals_dailyusage'"
    with connection.cursor() as cursor:
        cursor.execute(query)
        before = cursor.fetchone()
        events_ingest(actor=csm_actor, messages=more[::4])  # a quarter of them again
        cursor.execute(query)
        after = cursor.fetchone()

    updated, hot = after[0] - before[0], after[1] - before[1]
    assert updated == 150
    assert hot == updated
    assert DailyUsage.objects.filter(count=2).count() == 150


def test_a_changed_or_archived_account_key_is_never_mapped_from_memory(acme, globex, csm_actor):
    from tend.crm.services import record_archive, record_update

    events_ingest(actor=csm_actor, messages=[track("a", user="u1", group="acme.example")])
    assert UsageEvent.objects.get(message_id="a").account_id == acme.pk
    # The domain moves to Globex: the remembered "acme.example → Acme" must not be used.
    record_update(actor=SYSTEM, record=acme, properties={"domain": "acme-old.example"})
    record_update(actor=SYSTEM, record=globex, properties={"domain": "acme.example"})
    events_ingest(actor=csm_actor, messages=[track("b", user="u9", group="acme.example")])
    assert UsageEvent.objects.get(message_id="b").account_id == globex.pk
    record_archive(actor=SYSTEM, record=globex)
    result = events_ingest(actor=csm_actor, messages=[track("c", user="u8", group="acme.example")])
    assert (result.unmatched, UsageEvent.objects.get(message_id="c").account_id) == (1, None)


def test_a_replayed_group_call_does_not_move_the_user_back(acme, globex, csm_actor):
    def group(message_id, domain):
        return {"type": "group", "messageId": message_id, "userId": "u1", "groupId": domain}

    events_ingest(actor=csm_actor, messages=[group("g1", "acme.example")])
    events_ingest(actor=csm_actor, messages=[group("g2", "globex.example")])
    result = events_ingest(actor=csm_actor, messages=[group("g1", "acme.example")])
    assert result.duplicates == 1
    assert UsageIdentity.objects.get(user_key="u1").account_id == globex.pk


def test_sent_at_corrects_the_sender_clock(acme, csm_actor):
    # The sender's clock is 1 hour fast: the event happened 10 minutes before it was sent.
    events_ingest(
        actor=csm_actor,
        messages=[track("s", group="acme.example", at="2026-03-12T12:50:00Z", sentAt="2026-03-12T13:00:00Z")],
    )
    assert UsageEvent.objects.get(message_id="s").timestamp == NOW - dt.timedelta(minutes=10)


def test_identify_merges_traits(csm_actor, acme):
    for n, traits in enumerate(({"email": "a@acme.example"}, {"name": "Ann"})):
        events_ingest(
            actor=csm_actor, messages=[{"type": "identify", "messageId": f"i{n}", "userId": "u1", "traits": traits}]
        )
    assert UsageIdentity.objects.get(user_key="u1").traits == {"email": "a@acme.example", "name": "Ann"}


def test_ingestion_marks_accounts_dirty(acme, globex, csm_actor):
    DirtyAccount.objects.all().delete()  # creating the records marked them
    events_ingest(actor=csm_actor, messages=[track("a", group="acme.example"), track("b", group="x")])
    assert list(DirtyAccount.objects.values_list("record_id", "reason")) == [(acme.pk, "usage")]


def test_read_token_may_not_ingest(csm, acme):
    with pytest.raises(Forbidden):
        events_ingest(actor=Actor(csm, Scope.READ), messages=[track("a", group="acme.example")])
    assert UsageEvent.objects.count() == 0


def test_batch_over_the_message_limit_is_refused(csm_actor):
    with pytest.raises(ValidationFailed) as exc:
        events_ingest(actor=csm_actor, messages=[track(f"m{i}") for i in range(2501)])
    assert exc.value.errors[0].field == "batch"
    assert UsageEvent.objects.count() == 0


def test_account_key_property_setting(admin_actor, companies, csm_actor):
    acct = Record.objects.create(
        object_type=companies, name="X", created_at=NOW, updated_at=NOW, properties={"external_id": "acct-9"}
    )
    with pytest.raises(ValidationFailed) as exc:
        settings_update_usage(actor=admin_actor, account_key_property="name")
    assert exc.value.errors[0].field == "accountKeyProperty"
    with pytest.raises(Forbidden):
        settings_update_usage(actor=csm_actor, account_key_property="external_id")
    settings_update_usage(actor=admin_actor, account_key_property="external_id")
    change = SettingsChange.objects.get(section="usage")
    assert (change.old_value, change.new_value) == (
        {"accountKeyProperty": "domain"},
        {"accountKeyProperty": "external_id"},
    )
    events_ingest(actor=csm_actor, messages=[track("k", group="acct-9")])
    assert UsageEvent.objects.get(message_id="k").account_id == acct.pk


# --------------------------------------------------------------------------- NPS


def test_nps_response_sets_the_account_nps_with_history(csm_actor, jane, acme):
    DirtyAccount.objects.all().delete()  # creating the records marked them
    survey_responses_record(
        actor=csm_actor,
        items=[
            {"email": "JANE@acme.example", "score": 9, "respondedAt": "2026-02-01T10:00:00Z", "externalId": "r1"},
            {"contactId": jane.pk, "score": 5, "comment": "slow", "respondedAt": "2026-03-01T10:00:00Z"},
        ],
    )
    acme.refresh_from_db()
    assert acme.properties["nps"] == 5
    change = PropertyChange.objects.get(record=acme, property_name="nps")
    assert (change.old_value, change.new_value, change.source) == (None, 5, "system")
    assert queries.account_nps([acme.pk]) == {
        acme.pk: {
            "latest": 5,
            "previous": 9,
            "change": -4,
            "responded_at": dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC),
            "category": "detractor",
        }
    }
    assert list(DirtyAccount.objects.values_list("record_id", "reason")) == [(acme.pk, "nps")]


def test_nps_external_id_is_idempotent(csm_actor, jane):
    item = {"contactId": jane.pk, "score": 10, "externalId": "ext-1"}
    first = survey_responses_record(actor=csm_actor, items=[item])
    second = survey_responses_record(actor=csm_actor, items=[item])
    assert (first.created, second.created, second.duplicates) == (1, 0, 1)
    assert SurveyResponse.objects.count() == 1


def test_nps_errors_name_each_row_and_change_nothing(csm_actor, jane, acme):
    result = survey_responses_record(
        actor=csm_actor,
        items=[
            {"contactId": jane.pk, "score": 8},
            {"email": "nobody@x.example", "score": 11},
            {"score": 5},
            {"contactId": jane.pk, "score": 7, "respondedAt": "2027-01-01T00:00:00Z"},
            {"email": "nobody@x.example", "score": 4},
        ],
    )
    assert [(e.field, e.code) for e in result.errors] == [
        ("responses[1].score", "invalid"),
        ("responses[2].contactId", "required"),
        ("responses[3].respondedAt", "invalid"),
        ("responses[4].email", "not_found"),
    ]
    assert SurveyResponse.objects.count() == 0
    acme.refresh_from_db()
    assert "nps" not in acme.properties


def test_nps_needs_a_seat(viewer, jane):
    with pytest.raises(Forbidden):
        survey_responses_record(actor=Actor(viewer), items=[{"contactId": jane.pk, "score": 3}])


@pytest.mark.parametrize(("score", "category"), [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")])  # fmt: skip
def test_nps_category_boundaries(score, category):
    assert queries.nps_category(score) == category


def test_deleting_an_account_deletes_its_usage(acme, globex, csm_actor):
    # The usage tables carry no database foreign key (see UsageEvent.account): Django cascades.
    events_ingest(
        actor=csm_actor, messages=[track("a", group="acme.example"), track("b", user="u2", group="globex.example")]
    )
    Record.objects.filter(pk=acme.pk).delete()
    assert list(UsageEvent.objects.values_list("message_id", flat=True)) == ["b"]
    assert {r[0] for r in rollups()} == {globex.pk}
    assert set(DailyActiveUser.objects.values_list("account_id", flat=True)) == {globex.pk}


def test_texts_are_stored_exactly_as_sent(acme, csm_actor):
    # given messages whose ids, names, users and properties hold tabs, line breaks, backslashes,
    # quotes and non-ASCII text (PostgreSQL stages them as COPY text, which escapes these)
    awkward = 'tab\there\nline \\N back\\slash "quoted" 日本 ünï'
    messages = [
        track(f"id\t{awkward}", event=f"Event {awkward}", user=f"user {awkward}", group="acme.example",
              properties={"note": awkward, "n": 1.5, "nested": {"k": [awkward, None, True]}}),
        track("plain", group="acme.example"),
    ]  # fmt: skip

    # when they are ingested
    result = events_ingest(actor=csm_actor, messages=messages)

    # then every field reads back as sent
    assert (result.accepted, result.errors) == (2, [])
    stored = UsageEvent.objects.get(message_id=f"id\t{awkward}")
    assert (stored.event, stored.user_key, stored.account_id) == (f"Event {awkward}", f"user {awkward}", acme.pk)
    assert stored.properties == {"note": awkward, "n": 1.5, "nested": {"k": [awkward, None, True]}}
    assert stored.timestamp == dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
    assert (stored.received_at, UsageEvent.objects.get(message_id="plain").account_id) == (NOW, acme.pk)
    assert DailyUsage.objects.get(event=f"Event {awkward}").count == 1


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("messageId", track("id\x00")),
        ("event", track("m1", event="Logged\x00In")),
        ("userId", track("m1", user="u\x00")),
        ("groupId", track("m1", group="acme\x00.example")),
        ("properties", track("m1", properties={"note": "a\x00b"})),
        ("properties", track("m1", properties={"k\x00": 1})),
    ],
)
def test_a_nul_character_is_reported_for_its_message_only(acme, csm_actor, field, message):
    # given a batch with a message holding a NUL character (PostgreSQL's text cannot store one)
    batch = [message, track("ok", group="acme.example")]

    # when it is ingested
    result = events_ingest(actor=csm_actor, messages=batch)

    # then that message is reported, naming its field, and the other one is kept
    [error] = result.errors
    assert (error["index"], error["field"]) == (0, field)
    assert "NUL" in error["message"]
    assert result.accepted == 1
    assert list(UsageEvent.objects.values_list("message_id", flat=True)) == ["ok"]


def test_an_escaped_backslash_before_u0000_is_not_a_nul(acme, csm_actor):
    result = events_ingest(
        actor=csm_actor, messages=[track("m1", group="acme.example", properties={"path": "C:\\u0000"})]
    )
    assert (result.accepted, result.errors) == (1, [])
    assert UsageEvent.objects.get().properties == {"path": "C:\\u0000"}
