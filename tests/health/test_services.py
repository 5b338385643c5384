import copy
import datetime as dt

import pytest
from model_bakery import baker

from tend.core import clock
from tend.core.errors import Forbidden, ValidationFailed
from tend.core.policy import Actor
from tend.crm.models import Record
from tend.crm.services import record_update
from tend.health import services
from tend.health.definitions.statuses import status_schemes
from tend.health.definitions.template import template
from tend.health.definitions.validate import validate_definition
from tend.health.models import HealthAlert, HealthScore, HealthScoreHistory, ScoreProfile
from tend.health.recompute.run import recompute
from tend.health.scoring import NO_DATA, evaluate

from .conftest import NOW, TODAY, activate, health_properties, make_company, make_record, nps, usage

pytestmark = pytest.mark.django_db


def two_groups(missing="exclude", statuses="three"):
    """usage (60): logins/week bands 3→60, 1→30, else 0; nps (40): promoter 40, passive 20, detractor 0."""
    return {
        "groups": [
            {
                "key": "usage",
                "label": "Usage",
                "max": 60,
                "criteria": [
                    {
                        "key": "logins",
                        "label": "Logins",
                        "measure": {"kind": "event_rate", "events": ["Logged In"], "window_days": 28, "per": "week"},
                        "bands": [
                            {"min": 3, "points": 60, "label": "often"},
                            {"min": 1, "points": 30, "label": "weekly"},
                            {"min": None, "points": 0, "label": "rarely"},
                        ],
                    }
                ],
            },
            {
                "key": "nps",
                "label": "NPS",
                "max": 40,
                "criteria": [
                    {
                        "key": "nps",
                        "label": "NPS",
                        "measure": {"kind": "nps_latest"},
                        "bands": [
                            {"values": ["promoter"], "points": 40, "label": "promoter"},
                            {"values": ["passive"], "points": 20, "label": "passive"},
                            {"values": ["detractor"], "points": 0, "label": "detractor"},
                        ],
                    }
                ],
            },
        ],
        "statuses": status_schemes()[statuses],
        "missing_data": missing,
    }


# --------------------------------------------------------------------------- scoring (pure)


def test_bands_are_read_top_down_and_score_is_points_over_max(db):
    definition = validate_definition(two_groups())

    # 12 logins in 28 days = 3 a week → top band; score 8 (passive)
    ev = evaluate(definition, {"logins": 3.0, "nps": 8})

    assert ev.score == 80.0
    assert ev.status["key"] == "healthy"
    assert [(c["key"], c["points"], c["band_label"]) for g in ev.groups for c in g["criteria"]] == [
        ("logins", 60.0, "often"),
        ("nps", 20.0, "passive"),
    ]
    assert ev.coverage == 1.0
    assert evaluate(definition, {"logins": 2.99, "nps": 6}).score == 30.0  # 30 + 0


def test_missing_data_is_excluded_and_coverage_shown(db):
    definition = validate_definition(two_groups())

    ev = evaluate(definition, {"logins": NO_DATA, "nps": 9})

    assert ev.score == 100.0  # 40 of the 40 points that have data
    assert ev.coverage == 0.4
    assert ev.max_points_with_data == 40.0
    assert ev.groups[0]["criteria"][0]["no_data"] is True
    assert ev.groups[0]["criteria"][0]["value_display"] == "no data"


def test_missing_data_counts_as_zero_when_the_profile_says_so(db):
    definition = validate_definition(two_groups(missing="zero"))

    ev = evaluate(definition, {"logins": NO_DATA, "nps": 9})

    assert ev.score == 40.0
    assert ev.status["key"] == "neutral"
    assert ev.coverage == 0.4


def test_no_data_at_all_gives_no_score(db):
    definition = validate_definition(two_groups())
    ev = evaluate(definition, {"logins": NO_DATA, "nps": NO_DATA})
    assert (ev.score, ev.status, ev.coverage) == (None, None, 0.0)


def test_group_points_are_capped_at_the_group_max(db):
    raw = two_groups()
    extra = copy.deepcopy(raw["groups"][0]["criteria"][0])
    extra["key"] = "logins2"
    raw["groups"][0]["criteria"].append(extra)  # two criteria of up to 60 in a group of max 60
    definition = validate_definition(raw)

    ev = evaluate(definition, {"logins": 5, "logins2": 5, "nps": 0})

    assert ev.groups[0]["points"] == 60.0
    assert ev.score == 60.0


@pytest.mark.parametrize(
    ("score", "status"),
    [
        (100, "green"),
        (80, "green"),
        (79.9, "yellow"),
        (60, "yellow"),
        (59.9, "orange"),
        (40, "orange"),
        (39.9, "red"),
        (0, "red"),
    ],
)
def test_four_band_statuses(db, score, status):
    from tend.health.scoring import status_for

    definition = validate_definition(two_groups(statuses="four"))
    assert status_for(definition, score)["key"] == status


@pytest.mark.parametrize(("score", "status"), [(70, "healthy"), (69.9, "neutral"), (40, "neutral"), (39.9, "at_risk")])
def test_three_band_statuses(db, score, status):
    from tend.health.scoring import status_for

    assert status_for(validate_definition(two_groups()), score)["key"] == status


# --------------------------------------------------------------------------- validation


def test_the_template_is_valid_and_totals_100(db):
    definition = validate_definition(template())
    assert sum(g["max"] for g in definition["groups"]) == 100
    assert [g["key"] for g in definition["groups"]] == [
        "usage",
        "depth",
        "engagement",
        "support",
        "nps",
        "contract",
        "outcomes",
    ]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["groups"][0].update(max=50), "groups"),
        (
            lambda d: d["groups"][0]["criteria"][0]["bands"][0].update(points=61),
            "groups[0].criteria[0].bands[0].points",
        ),
        (lambda d: d["groups"][0]["criteria"][0]["bands"][1].update(min=5), "groups[0].criteria[0].bands[1].min"),
        (lambda d: d["groups"][0]["criteria"][0]["measure"].update(kind="nope"), "groups[0].criteria[0].measure.kind"),
        (
            lambda d: d["groups"][0]["criteria"][0]["measure"].update(window_days=0),
            "groups[0].criteria[0].measure.window_days",
        ),
        (
            lambda d: d["groups"][1]["criteria"][0]["bands"][0].update(values=["fan"]),
            "groups[1].criteria[0].bands[0].values[0]",
        ),
        (lambda d: d["statuses"][2].update(min=10), "statuses[2].min"),
        (lambda d: d["statuses"][1].update(key="meh"), "statuses[1].key"),
        (lambda d: d.update(missing_data="guess"), "missing_data"),
    ],
)
def test_validation_names_the_path(db, mutate, field):
    raw = two_groups()
    mutate(raw)
    with pytest.raises(ValidationFailed) as excinfo:
        validate_definition(raw)
    assert field in [e.field for e in excinfo.value.errors]


def test_a_property_measure_must_name_a_known_property_of_the_right_type(db):
    raw = two_groups()
    raw["groups"][0]["criteria"][0]["measure"] = {"kind": "days_until", "property": "industry"}
    with pytest.raises(ValidationFailed) as excinfo:
        validate_definition(raw)
    assert excinfo.value.errors[0].field == "groups[0].criteria[0].measure.property"
    assert excinfo.value.errors[0].code == "invalid_property"


# --------------------------------------------------------------------------- profiles and permissions


def test_a_viewer_without_seat_cannot_create_or_edit_profiles(viewer, csm_actor):
    profile = services.profile_create(actor=csm_actor, name="P")
    with pytest.raises(Forbidden) as excinfo:
        services.profile_create(actor=viewer, name="Mine")
    assert "Service seat" in str(excinfo.value)
    with pytest.raises(Forbidden):
        services.profile_update_draft(actor=viewer, profile=profile, name="X")
    with pytest.raises(Forbidden):
        services.profile_activate(actor=viewer, profile=profile)
    assert ScoreProfile.objects.get().name == "P"


def test_a_bad_draft_update_changes_nothing(csm_actor):
    profile = services.profile_create(actor=csm_actor, name="P")
    before = copy.deepcopy(profile.draft)
    bad = two_groups()
    bad["groups"][0]["max"] = 10

    with pytest.raises(ValidationFailed) as excinfo:
        services.profile_update_draft(actor=csm_actor, profile=profile, name="New", definition=bad)

    assert {e.field for e in excinfo.value.errors} == {
        "definition.groups[0].criteria[0].bands[0].points",
        "definition.groups[0].criteria[0].bands[1].points",
        "definition.groups",
    }
    profile.refresh_from_db()
    assert (profile.name, profile.draft) == ("P", before)


def test_test_on_record_and_preview_use_the_draft(csm_actor, at_now):
    good, quiet = make_company("Good"), make_company("Quiet")
    usage(good, "Logged In", days_ago=1, count=12)
    nps(good, 10, days_ago=3)
    usage(quiet, "Other", days_ago=1, count=1)
    profile = services.profile_create(actor=csm_actor, name="P")
    services.profile_update_draft(actor=csm_actor, profile=profile, definition=two_groups())

    ev = services.profile_test_on_record(actor=csm_actor, profile=profile, record=good)
    preview = services.profile_preview_distribution(actor=csm_actor, profile=profile)

    assert (ev.score, ev.status["key"]) == (100.0, "healthy")
    assert ev.groups[0]["criteria"][0]["value"] == 3.0
    assert preview["count"] == 2 and preview["scored"] == 2 and preview["no_data"] == 0
    assert [(s["key"], s["count"]) for s in preview["by_status"]] == [("healthy", 1), ("neutral", 0), ("at_risk", 1)]
    assert preview["histogram"][0]["count"] == 1 and preview["histogram"][9]["count"] == 1
    assert HealthScore.objects.count() == 0


def test_activation_makes_versions_and_keeps_them(csm_actor, django_capture_on_commit_callbacks):
    profile = services.profile_create(actor=csm_actor, name="P")
    v1 = services.profile_activate(actor=csm_actor, profile=profile)
    services.profile_update_draft(actor=csm_actor, profile=profile, definition=two_groups())
    v2 = services.profile_activate(actor=csm_actor, profile=profile)
    profile.refresh_from_db()
    assert (v1.number, v2.number) == (1, 2)
    assert profile.active_version == v2
    assert len(v1.definition["groups"]) == 7 and len(v2.definition["groups"]) == 2


# --------------------------------------------------------------------------- recompute, history, why


def test_recompute_writes_score_properties_history_and_explains_changes(csm, csm_actor, at_now):
    company = make_company("Acme", csm=csm.pk)
    usage(company, "Logged In", days_ago=2, count=12)
    nps(company, 8, days_ago=5)
    profile = activate(csm_actor, two_groups())

    recompute()

    score = HealthScore.objects.get(record=company)
    assert (score.score, score.status, score.profile_id) == (80.0, "healthy", profile.pk)
    assert health_properties(company) == {"health_score": 80.0, "health_status": "healthy"}
    company.refresh_from_db()
    assert "health_score" not in company.properties  # read from the score row, not copied
    assert company.updated_at == NOW
    assert HealthScoreHistory.objects.filter(record=company).count() == 1

    # same day, nothing changed → no new history point
    recompute()
    assert HealthScoreHistory.objects.filter(record=company).count() == 1

    # the NPS drops to a detractor: status changes the same day → a point with why
    nps(company, 3, days_ago=0)
    recompute()
    points = list(HealthScoreHistory.objects.filter(record=company).order_by("id"))
    assert len(points) == 2
    assert (points[1].score, points[1].status, points[1].reason) == (60.0, "neutral", "status_change")
    assert points[1].changes == [
        {
            "criterion": "nps",
            "label": "NPS",
            "from_value": 8,
            "to_value": 3,
            "from_display": "8 (passive)",
            "to_display": "3 (detractor)",
            "from_points": 20.0,
            "to_points": 0.0,
        }
    ]
    alert = HealthAlert.objects.get(kind="status_change")
    assert (alert.record_id, alert.user_id, alert.priority) == (company.pk, csm.pk, "medium")
    assert alert.title == "Health changed from Healthy to Neutral"

    # next day: a daily point even without change
    at_now.move_to(NOW + dt.timedelta(days=1))
    recompute()
    assert HealthScoreHistory.objects.filter(record=company).count() == 3
    assert HealthScoreHistory.objects.filter(record=company).order_by("-id").first().reason == "daily"


def test_status_alerts_are_active_14_days_then_expire(csm, csm_actor, at_now):
    from tend.health import queries

    company = make_company("Acme", csm=csm.pk)
    nps(company, 9, days_ago=5)
    activate(csm_actor, two_groups())
    recompute()
    nps(company, 2, days_ago=0)
    recompute()
    assert queries.alerts_for(user=csm).filter(kind="status_change").count() == 1

    at_now.move_to(NOW + dt.timedelta(days=14) - dt.timedelta(seconds=1))
    assert queries.alerts_for(user=csm).filter(kind="status_change").count() == 1
    at_now.move_to(NOW + dt.timedelta(days=14))
    assert queries.alerts_for(user=csm).filter(kind="status_change").count() == 0
    assert queries.alerts_for(user=csm, active=False).filter(kind="status_change").count() == 1


def test_segments_and_priority_choose_the_profile(csm_actor, at_now):
    big = make_company("Big", employees=5000)
    small = make_company("Small", employees=10)
    for c in (big, small):
        nps(c, 9, days_ago=1)
    general = activate(csm_actor, two_groups(), name="General")
    enterprise = services.profile_create(actor=csm_actor, name="Enterprise")
    services.profile_update_draft(
        actor=csm_actor,
        profile=enterprise,
        definition=two_groups(statuses="four"),
        priority=1,
        segment={"filterGroups": [{"filters": [{"propertyName": "employees", "operator": "GTE", "value": 1000}]}]},
    )
    services.profile_activate(actor=csm_actor, profile=enterprise)

    recompute()

    assert HealthScore.objects.get(record=big).profile_id == enterprise.pk
    assert HealthScore.objects.get(record=big).status == "green"
    assert HealthScore.objects.get(record=small).profile_id == general.pk

    services.profile_deactivate(actor=csm_actor, profile=enterprise)
    recompute()
    assert list(HealthScore.objects.filter(record=big).values_list("profile_id", flat=True)) == [general.pk]


def test_a_bad_segment_names_the_filter(csm_actor):
    profile = services.profile_create(actor=csm_actor, name="P")
    with pytest.raises(ValidationFailed) as excinfo:
        services.profile_update_draft(
            actor=csm_actor,
            profile=profile,
            segment={"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": 1}]}]},
        )
    assert excinfo.value.errors[0].field == "segment.filterGroups[0].filters[0].propertyName"


def test_template_measures_over_all_sources(csm_actor, at_now):
    from tend.crm.models import Pipeline
    from tend.engagement.models import Meeting

    company = make_company("Acme", renewal_date=(TODAY + dt.timedelta(days=120)).isoformat())
    usage(company, "Logged In", days_ago=3, count=8)  # 8 / 4 weeks = 2 a week → 10
    for i, event in enumerate(["A", "B", "C"]):
        usage(company, event, days_ago=i, count=1)  # 4 features incl. Logged In → 10
    closed = Pipeline.objects.get(object_type__name="tickets").stages.get(outcome="complete")
    make_record("tickets", company, csat=5, stage=closed, created_at=NOW - dt.timedelta(days=10))
    make_record("tickets", company, csat=2, stage=closed, created_at=NOW - dt.timedelta(days=20))  # avg 3.5 → 10
    nps(company, 10, days_ago=30)  # promoter → 15
    make_record("services", company, goal_status="in_progress")  # → 5
    for outcome in ("attended", "no_show"):
        m = Meeting.objects.create(
            title="QBR",
            start_at=NOW - dt.timedelta(days=5),
            end_at=NOW - dt.timedelta(days=5),
            outcome=outcome,
            created_at=NOW,
            updated_at=NOW,
        )
        m.records.add(company)  # sometimes → 10
    profile = services.profile_create(actor=csm_actor, name="T")

    ev = services.profile_test_on_record(actor=csm_actor, profile=profile, record=company)

    got = {c["key"]: (c["value"], c["points"]) for g in ev.groups for c in g["criteria"]}
    assert got == {
        "logins": (2.0, 10.0),
        "features": (4, 10.0),
        "meetings": (0.5, 10.0),
        "csat": (3.5, 10.0),
        "nps": (10, 15.0),
        "renewal": (120, 5.0),
        "goal": ("in_progress", 5.0),
    }
    assert ev.score == 65.0


def test_an_account_without_any_usage_has_no_usage_data_but_a_quiet_one_has_zero(csm_actor, at_now):
    tracked, untracked = make_company("Tracked"), make_company("Untracked")
    usage(tracked, "Logged In", days_ago=200, count=1)
    nps(tracked, 9, days_ago=1)
    nps(untracked, 9, days_ago=1)
    profile = services.profile_create(actor=csm_actor, name="P")
    services.profile_update_draft(actor=csm_actor, profile=profile, definition=two_groups())

    t = services.profile_test_on_record(actor=csm_actor, profile=profile, record=tracked)
    u = services.profile_test_on_record(actor=csm_actor, profile=profile, record=untracked)

    assert (t.groups[0]["criteria"][0]["value"], t.score) == (0.0, 40.0)
    assert (u.groups[0]["criteria"][0]["no_data"], u.score) == (True, 100.0)


def test_record_recompute_needs_a_customer(csm_actor, contacts):
    contact = Record.objects.create(object_type=contacts, name="C", created_at=NOW, updated_at=NOW)
    with pytest.raises(ValidationFailed):
        services.record_recompute(actor=csm_actor, record=contact)


def test_signal_rules_validate_params(admin_actor, csm_actor):
    from tend.health import queries

    rule = queries.signal_rules().get(key="logins_drop")
    with pytest.raises(Forbidden):
        services.signal_rule_update(actor=csm_actor, rule=rule, enabled=False)
    with pytest.raises(ValidationFailed) as excinfo:
        services.signal_rule_update(actor=admin_actor, rule=rule, params={"window_days": 0, "x": 1})
    assert {e.field for e in excinfo.value.errors} == {"params.window_days", "params.x"}
    services.signal_rule_update(actor=admin_actor, rule=rule, enabled=False, params={"max_ratio": 0.4})
    rule.refresh_from_db()
    assert rule.enabled is False
    assert rule.params["max_ratio"] == 0.4 and rule.params["window_days"] == 30


def test_dismissing_an_alert_stamps_it_once_and_takes_it_off_the_active_list(csm, viewer, csm_actor, at_now):
    from tend.health import queries

    # given an alert raised now for the CSM, active for 14 days
    alert = baker.make(
        HealthAlert,
        record=make_company("Acme", csm=csm.pk),
        user=csm,
        kind=HealthAlert.Kind.STATUS_CHANGE,
        title="Health changed from Healthy to Neutral",
        raised_at=NOW,
        expires_at=NOW + dt.timedelta(days=14),
    )
    # a viewer (no Service seat) may not dismiss it: nothing changes
    with pytest.raises(Forbidden):
        services.alert_dismiss(actor=Actor(viewer), alert=alert)
    alert.refresh_from_db()
    assert (alert.dismissed_at, alert.dismissed_by_id) == (None, None)

    # when the CSM dismisses it a day later
    at_now.move_to(NOW + dt.timedelta(days=1))
    services.alert_dismiss(actor=csm_actor, alert=alert)

    # then it carries that moment and its dismisser, and is listed as inactive only
    alert.refresh_from_db()
    assert (alert.dismissed_at, alert.dismissed_by_id) == (NOW + dt.timedelta(days=1), csm.pk)
    assert list(queries.alerts_for(user=csm)) == []
    assert list(queries.alerts_for(user=csm, active=False)) == [alert]
    # and dismissing it again the next day keeps the first moment
    at_now.move_to(NOW + dt.timedelta(days=2))
    services.alert_dismiss(actor=csm_actor, alert=HealthAlert.objects.get(pk=alert.pk))
    alert.refresh_from_db()
    assert alert.dismissed_at == NOW + dt.timedelta(days=1)


def test_health_summary_covers_the_users_book(csm, viewer, csm_actor, at_now, django_assert_max_num_queries):
    from tend.health import queries

    mine_good = make_company("Good", csm=csm.pk)
    mine_bad = make_company("Bad", csm=csm.pk)
    other = make_company("Other", csm=viewer.pk)
    nps(mine_good, 10, days_ago=1)
    nps(mine_bad, 2, days_ago=1)
    nps(other, 10, days_ago=1)
    activate(csm_actor, two_groups())
    recompute()

    with django_assert_max_num_queries(10):
        summary = queries.health_summary(actor=csm_actor, user=csm)

    assert (summary["count"], summary["average"]) == (2, 50.0)
    assert [(s["key"], s["count"], s["share"]) for s in summary["statuses"]] == [
        ("healthy", 1, 0.5),
        ("at_risk", 1, 0.5),
    ]
    assert "health_status" in summary["statuses"][0]["url"]
    assert summary["distribution"][0]["count"] == 1 and summary["distribution"][9]["count"] == 1
    assert summary["over_time"] == [(TODAY, 50.0)]


def test_summary_average_over_time_is_the_book_as_each_day_left_it(csm, viewer, csm_actor, at_now):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tend.health import queries

    # given a book of two accounts scored by the full recompute on two days (one account's NPS fell
    # on the second), then one account handed to another CSM on the third day
    good, other = make_company("Good", csm=csm.pk), make_company("Other", csm=csm.pk)
    nps(good, 10, days_ago=1)
    nps(other, 10, days_ago=1)
    activate(csm_actor, two_groups())
    recompute()
    at_now.move_to(NOW + dt.timedelta(days=1))
    nps(other, 2, days_ago=0)
    recompute()
    at_now.move_to(NOW + dt.timedelta(days=2))
    record_update(actor=csm_actor, record=Record.objects.get(pk=other.pk), properties={"csm": viewer.pk})

    # when the summary is read
    with CaptureQueriesContext(connection) as queries_run:
        summary = queries.health_summary(actor=csm_actor, user=csm)

    # then each past day is the book as that day's run left it, today the book as it is now, and
    # no history point was read to find out
    assert summary["over_time"] == [
        (TODAY, 100.0),
        (TODAY + dt.timedelta(days=1), 50.0),
        (TODAY + dt.timedelta(days=2), 100.0),
    ]
    assert (summary["count"], summary["average"]) == (1, 100.0)
    assert not any("healthscorehistory" in q["sql"] for q in queries_run.captured_queries)


def test_a_books_day_counts_each_account_once_and_only_real_users(csm, viewer, csm_actor, at_now):
    from tend.health.models import BookScoreDay

    # given accounts owned and CSM'd by the same user, owned by one and CSM'd by another, CSM'd by
    # an id that is no user, and archived
    both = make_company("Both", csm=csm.pk)
    split = make_company("Split", csm=viewer.pk)
    stranger = make_company("Stranger", csm=999_999)
    archived = make_company("Archived", csm=csm.pk)
    Record.objects.filter(pk__in=[both.pk, split.pk]).update(owner=csm)
    for company, score in ((both, 10), (split, 2), (stranger, 10), (archived, 10)):
        nps(company, score, days_ago=1)
    activate(csm_actor, two_groups())
    Record.objects.filter(pk=archived.pk).update(archived_at=NOW)

    # when the full recompute runs (twice the same day: the day keeps the latest)
    recompute()
    recompute()

    # then each user's day sums their book once
    days = {(d.user_id, d.day): (d.total, d.count) for d in BookScoreDay.objects.all()}
    assert days == {(csm.pk, TODAY): (100.0 + 0.0, 2), (viewer.pk, TODAY): (0.0, 1)}


def test_health_days_are_the_viewers_days(csm, csm_actor, at_now):
    """A point at 20:00 UTC is on the next day in Tokyo: the summary's average over time and the
    record card's history count it there for a user in Tokyo; the API's days stay UTC."""
    from tend.health import queries

    company = make_company("Late", csm=csm.pk)
    nps(company, 10, days_ago=1)
    activate(csm_actor, two_groups())
    at_now.move_to(NOW.replace(hour=20))
    recompute()
    csm.time_zone = "Asia/Tokyo"
    csm.save(update_fields=["time_zone"])

    tokyo_day = TODAY + dt.timedelta(days=1)
    assert [day for day, _avg in queries.health_summary(actor=csm_actor, user=csm)["over_time"]] == [tokyo_day]
    assert [day for day, _s in queries.record_health(company, tz=clock.user_zone(csm))["history"]] == [tokyo_day]
    assert [day for day, _s in queries.record_health(company)["history"]] == [TODAY]


def test_record_health_explains_the_score(csm_actor, at_now):
    from tend.health import queries

    company = make_company("Acme")
    nps(company, 9, days_ago=3)
    activate(csm_actor, two_groups())
    recompute()
    nps(company, 7, days_ago=0)
    recompute()

    health = queries.record_health(company)

    assert (health["score"], health["status"]["key"], health["coverage"]) == (50.0, "neutral", 0.4)
    assert health["breakdown"][1]["criteria"][0]["band_label"] == "passive"
    assert health["history"] == [(TODAY, 50.0)]
    assert [w["reason"] for w in health["why"]] == ["status_change"]
    assert health["why"][0]["changes"][0]["to_display"] == "7 (passive)"


def test_logging_a_meeting_marks_the_customer(csm_actor, at_now):
    from tend.engagement.kinds import KINDS
    from tend.engagement.services import engagement_create
    from tend.health.models import DirtyAccount

    company = make_company("Acme")
    contact = make_record("contacts", company, name="Kim")
    engagement_create(
        actor=csm_actor,
        kind=KINDS["meetings"],
        properties={"title": "QBR", "start_at": "2026-06-10T10:00:00Z", "end_at": "2026-06-10T11:00:00Z"},
        associations=[contact.pk],
    )
    assert list(DirtyAccount.objects.values_list("record_id", "reason")) == [(company.pk, "engagement")]
