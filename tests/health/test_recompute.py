"""The full recompute's fast paths give exactly what the reference functions give: batch scoring vs
`fast_score`, the explained changes vs `changes_between(expand(…))`, the breakdown's JSON text vs
what the database reads back; and the set-based writes keep their guarantees."""

import datetime as dt
import json
import random
from types import SimpleNamespace

import pytest
from django.db import connection

from tend.core import bulk
from tend.crm.models import Record
from tend.health.definitions.template import template
from tend.health.measures import USAGE_LOOKBACK_DAYS
from tend.health.models import HealthAlert, HealthScore, HealthScoreHistory, NewHealthAlert
from tend.health.recompute.plan import Plan, expand, to_json
from tend.health.recompute.run import recompute
from tend.health.recompute.write import ChunkWrites, write_alerts, write_chunk
from tend.health.scoring import (
    NO_DATA,
    BatchScorer,
    changes_between,
    changes_from,
    compile_definition,
    fast_score,
)

from .conftest import NOW, TODAY, activate, health_properties, make_company, nps, usage
from .test_services import two_groups

pytestmark = pytest.mark.django_db

# values a criterion may meet, of every type a measure gives (1, 1.0 and True are equal in Python
# but not the same category for a band of values)
ODD_VALUES = [NO_DATA, None, 0, 1, 1.0, True, False, 2.5, 3, 8, 9, 10, -4, 180, 90.0, 0.01, 1e-05, "achieved"]


def _values_for(criterion: dict, rng: random.Random):
    kind = criterion["measure"]["kind"]
    choices = {
        "event_rate": [round(rng.uniform(0, 6), 4) for _ in range(4)],
        "distinct_features": list(range(8)),
        "meetings_attended": [0.0, 0.5, 1.0, 0.0049],
        "ticket_csat": [1.0, 3.0, 4.5],
        "nps_latest": list(range(11)),
        "days_until": [-3, 0, 89, 90, 179, 180, 400],
        "associated_property": ["achieved", "in_progress", "not_started", "other"],
    }.get(kind, [])
    if kind == "associated_property":
        return choices + ODD_VALUES
    return choices + [v for v in ODD_VALUES if not isinstance(v, str)]  # a number's display needs a number


@pytest.mark.parametrize("missing", ["exclude", "zero"])
def test_batch_scores_equal_fast_score_for_any_values(missing):
    # given the template (seven criteria, numeric and categorical bands) and random values
    definition = template()
    definition["missing_data"] = missing
    compiled = compile_definition(definition)
    scorer = BatchScorer(compiled)
    criteria = [c for g in definition["groups"] for c in g["criteria"]]
    rng = random.Random(4)
    for _ in range(3000):
        values = [rng.choice(_values_for(c, rng)) for c in criteria]

        # when scored by the batch scorer (points per value, score per combination of points)
        points = tuple(scorer.points(i, v) for i, v in enumerate(values))
        batch = scorer.score(points)

        # then the numbers are fast_score's, to the bit
        assert batch == fast_score(compiled, {c["key"]: v for c, v in zip(criteria, values, strict=True)})


def test_changes_without_expanding_equal_changes_between_expanded(db):
    definition = template()
    scorer = BatchScorer(compile_definition(definition))
    plan = Plan.__new__(Plan)  # only the parts `changes_json` reads
    plan.criteria = [c for g in definition["groups"] for c in g["criteria"]]
    plan.scorer = scorer
    plan.change_memos = [{} for _ in plan.criteria]
    rng = random.Random(7)
    for _ in range(2000):
        old = {c["key"]: rng.choice(_values_for(c, rng)) for c in plan.criteria}
        old_breakdown = {k: (None if v is NO_DATA else v) for k, v in old.items() if rng.random() > 0.1}
        new_values = [rng.choice([old[c["key"]], *_values_for(c, rng)]) for c in plan.criteria]

        expected = changes_between(
            expand(definition, old_breakdown).groups,
            expand(definition, {c["key"]: v for c, v in zip(plan.criteria, new_values, strict=True)}).groups,
        )

        assert changes_from(definition, scorer, old_breakdown, new_values) == expected
        assert plan.changes_json([old_breakdown.get(c["key"]) for c in plan.criteria], new_values) == to_json(expected)


def test_a_stored_breakdown_is_read_from_its_text_as_decoding_it_would():
    # given the template's plan and breakdown texts in the form it writes (that the database keeps
    # it so is checked in the next test), with awkward values among them
    plan = Plan(SimpleNamespace(definition=template()))
    awkward = [
        'say "hi", then', '", "nps": 3', '{"a": 1}', "back\\slash", "日本", "", [1, ", \"nps\": "],
        {"nps": 1, "logins": [2]}, {"x": '", "nps": '}, 1e300, -0.0,
    ]  # fmt: skip
    rng = random.Random(3)
    decoded_from_text = 0
    for _ in range(3000):
        values = [rng.choice(_values_for(c, rng) + awkward) for c in plan.criteria]
        measured = [(k, {1: v}, NO_DATA) for k, v in zip(plan.keys, values, strict=True)]
        _points, (text,), (breakdown,), _inexact = plan.columns(measured, [1])

        # when its values are read from the text
        read = plan.stored_values(text)

        # then they are the decoded values, or None (decode it then) — never other values
        decoded = json.loads(text)
        if read is not None:
            assert read == tuple(decoded[k] for k in plan.keys)
            assert read == breakdown  # what `columns` says it wrote
            decoded_from_text += 1
        else:
            assert any(isinstance(v, dict | list) for v in values)  # only a nested value may need decoding
    assert decoded_from_text > 2000
    # a text in another key order (another writer): not read as this plan's
    reordered = json.dumps({k: n for n, k in enumerate(reversed(plan.keys))}, separators=(",", ":"))
    assert plan.stored_values(reordered) is None
    assert plan.stored_values(json.dumps({k: n for n, k in enumerate(plan.keys)}, indent=1)) in (
        None,
        tuple(range(len(plan.keys))),
    )


def test_usage_counts_only_the_windows_and_the_lookback_only_decides_zero_or_no_data(csm_actor, at_now):
    # given accounts (scored together, in one chunk) that sent usage in the window, only long before
    # it (the last day of the lookback, and the day after it ran out), or never
    active, quiet, lapsed, never = (make_company(name) for name in ("Active", "Quiet", "Lapsed", "Never"))
    usage(active, "Logged In", days_ago=3, count=8)
    usage(active, "Logged In", days_ago=100, count=50)  # outside the 28-day window: not counted
    usage(quiet, "Logged In", days_ago=USAGE_LOOKBACK_DAYS - 1, count=5)
    usage(lapsed, "Logged In", days_ago=USAGE_LOOKBACK_DAYS, count=5)
    activate(csm_actor, two_groups())

    # when they are recomputed
    recompute()

    # then only the window's logins count; a quiet account has zero, one without usage in the
    # lookback has no data
    logins = {
        score.record_id: score.breakdown["logins"]
        for score in HealthScore.objects.filter(record__in=[active, quiet, lapsed, never])
    }
    assert logins == {active.pk: 2.0, quiet.pk: 0.0, lapsed.pk: None, never.pk: None}


def test_breakdown_text_is_what_the_database_reads_back(csm_actor, at_now):
    # given an account with data for some criteria, scored once
    company = make_company("Acme", renewal_date="2027-01-10")
    usage(company, "Logged In", days_ago=2, count=7)
    usage(company, "Exported CSV", days_ago=3, count=1)
    nps(company, 9, days_ago=5)
    profile = activate(csm_actor)
    recompute()
    score = HealthScore.objects.get(record=company)

    # when the plan assembles the breakdown's text for the same values
    plan = Plan(profile.active_version)
    values = [score.breakdown[k] for k in plan.keys]
    with connection.cursor() as cursor:
        cursor.execute("SELECT breakdown FROM health_healthscore WHERE id = %s", [score.pk])
        stored = cursor.fetchone()[0]
    measured = [(k, {company.pk: NO_DATA if v is None else v}, NO_DATA) for k, v in zip(plan.keys, values, strict=True)]
    _points, texts, breakdowns, inexact = plan.columns(measured, [company.pk])

    # then it is the stored text itself (an unchanged breakdown is found without decoding it)
    assert texts == [stored]
    assert breakdowns == [tuple(values)] == [plan.stored_values(stored)]
    assert inexact == set()
    assert json.loads(stored) == score.breakdown


def test_same_day_rerun_writes_nothing(csm_actor, at_now):
    company = make_company("Acme", renewal_date="2027-01-10")
    usage(company, "Logged In", days_ago=2, count=12)
    activate(csm_actor)
    recompute()
    before = HealthScore.objects.get(record=company).computed_at

    at_now.move_to(NOW + dt.timedelta(hours=3))
    recompute()

    assert HealthScore.objects.get(record=company).computed_at == before
    assert HealthScoreHistory.objects.filter(record=company).count() == 1


def test_partial_recompute_leaves_other_accounts_scores_alone(csm_actor, at_now):
    # given three scored accounts with consecutive ids
    a, b, c = (make_company(name) for name in "ABC")
    for company in (a, b, c):
        nps(company, 9, days_ago=3)
    activate(csm_actor, two_groups())
    recompute()

    # when only the first and the last are recomputed (an incremental run: their id range spans B)
    recompute([a.pk, c.pk])

    # then B keeps its score and properties
    assert HealthScore.objects.filter(record=b).count() == 1
    assert health_properties(b)["health_score"] == 100.0


def test_a_score_inserted_meanwhile_is_updated_not_duplicated(csm_actor, at_now):
    # given a score row that appeared after the recompute read the chunk's rows (a record
    # recomputed from its page during the full run)
    company = make_company("Acme")
    profile = activate(csm_actor, two_groups())
    nps(company, 9, days_ago=1)
    recompute([company.pk])
    version_id = profile.active_version_id

    # when the full run writes that row as a new one, with its history point
    breakdown = '{"logins":null,"nps":6}'
    row = (company.pk, profile.pk, version_id, 50.0, "neutral", 0.4, breakdown, bulk.db_date(TODAY))
    point = (company.pk, profile.pk, version_id, 50.0, "neutral", 0.4, "[]", "status_change")
    points_before = HealthScoreHistory.objects.filter(record=company).count()
    write_chunk(ChunkWrites(now=NOW, remove=[], inserts=[row], upserts=[], history=[point], alerts=[]))

    # then the row is updated in place (PostgreSQL: from the staged rows; SQLite: insert, then upsert)
    score = HealthScore.objects.get(record=company)
    assert (score.score, score.status, score.breakdown) == (50.0, "neutral", {"logins": None, "nps": 6})
    latest = HealthScoreHistory.objects.filter(record=company).order_by("-id").first()
    assert HealthScoreHistory.objects.filter(record=company).count() == points_before + 1
    assert (latest.score, latest.status, latest.reason, latest.at) == (50.0, "neutral", "status_change", NOW)


def test_a_score_deleted_since_it_was_read_is_written_again(csm_actor, at_now):
    # given two scored accounts, one of whose score rows is deleted after the recompute read them
    kept, gone = make_company("Kept"), make_company("Gone")
    profile = activate(csm_actor, two_groups())
    for company in (kept, gone):
        nps(company, 9, days_ago=1)
    recompute()
    HealthScore.objects.filter(record=gone).delete()
    version_id = profile.active_version_id

    # when the run writes both as rows it read (updates), with their history points
    rows = [
        (company.pk, profile.pk, version_id, 50.0, "neutral", 0.4, '{"logins":null,"nps":6}', bulk.db_date(TODAY))
        for company in (kept, gone)
    ]
    points = [(company.pk, profile.pk, version_id, 50.0, "neutral", 0.4, "[]", "daily") for company in (kept, gone)]
    write_chunk(ChunkWrites(now=NOW, remove=[], inserts=[], upserts=rows, history=points, alerts=[]))

    # then neither is lost: the kept row is updated, the deleted one written again
    assert sorted(
        HealthScore.objects.filter(record__in=[kept, gone]).values_list("record_id", "score", "status", "breakdown")
    ) == sorted((company.pk, 50.0, "neutral", {"logins": None, "nps": 6}) for company in (kept, gone))


def test_written_scores_and_points_read_back_as_given(csm_actor, at_now):
    # given a score row and its point whose texts hold what COPY's text format must escape
    company = make_company("Acme")
    profile = activate(csm_actor, two_groups())
    version_id = profile.active_version_id
    breakdown = {"logins": None, "nps": 'tab\there, line\nbreak, back\\slash, "quoted", \\N, 日本'}
    changes = [{"criterion": "nps", "from_value": "a\\b", "to_value": "\r\n"}]
    row = (company.pk, profile.pk, version_id, None, "at_risk", 0.5, to_json(breakdown), bulk.db_date(TODAY))
    point = (company.pk, profile.pk, version_id, None, "at_risk", 0.5, to_json(changes), "status_change")

    # when the chunk's writes go to the database
    write_chunk(ChunkWrites(now=NOW, remove=[], inserts=[row], upserts=[], history=[point], alerts=[]))

    # then they read back as given
    score = HealthScore.objects.get(record=company)
    assert (score.score, score.status, score.coverage, score.breakdown) == (None, "at_risk", 0.5, breakdown)
    assert (score.history_day, score.computed_at) == (TODAY, NOW)
    [stored] = HealthScoreHistory.objects.filter(record=company)
    assert (stored.score, stored.status, stored.changes, stored.reason, stored.at) == (
        None,
        "at_risk",
        changes,
        "status_change",
        NOW,
    )


def test_alerts_written_set_based_read_back_as_created(csm, csm_actor, at_now):
    company = make_company("Acme", csm=csm.pk, renewal_date=(TODAY + dt.timedelta(days=20)).isoformat())
    nps(company, 9, days_ago=5)
    activate(csm_actor, two_groups())
    recompute()
    nps(company, 2, days_ago=0)

    recompute()

    status = HealthAlert.objects.get(kind="status_change")
    assert (status.record_id, status.user_id, status.priority, status.raised_at, status.expires_at) == (
        company.pk,
        csm.pk,
        "high",
        NOW,
        NOW + dt.timedelta(days=14),
    )
    assert status.evidence == {
        "from_status": "healthy",
        "to_status": "at_risk",
        "from_score": 100.0,
        "to_score": 0.0,
        "worse": True,
        "from_label": "Healthy",
        "to_label": "At risk",
        "action": "Call the customer and agree on a recovery plan.",
        # the built-in texts, worded in each viewer's language when the alert is shown
        "builtin": {
            "from_label": "Healthy",
            "to_label": "At risk",
            "action": "Call the customer and agree on a recovery plan.",
        },
    }
    renewal = HealthAlert.objects.get(signal="renewal_soon")
    assert (renewal.kind, renewal.profile_id, renewal.title) == (
        "churn_signal",
        None,
        f"Renewal in 20 days ({(TODAY + dt.timedelta(days=20)).isoformat()})",
    )
    assert renewal.evidence["fact"] == f"renewal:{(TODAY + dt.timedelta(days=20)).isoformat()}"


def test_alert_texts_read_back_exactly_as_raised(csm, csm_actor, at_now):
    # given alerts whose title and evidence hold what COPY's text format must escape
    company = make_company("Acme")
    profile = activate(csm_actor)
    awkward = 'tab\there, line\nbreak\r, back\\slash, "quoted", \\N, 日本'
    raised = [
        NewHealthAlert(
            record_id=company.pk,
            profile_id=profile_id,
            kind=HealthAlert.Kind.CHURN_SIGNAL,
            signal="logins_drop",
            priority="high",
            title=awkward,
            evidence={"why": awkward, "nested": [1, None, {"x": awkward}]},
            user_id=user_id,
            raised_at=NOW,
            expires_at=NOW + dt.timedelta(days=14),
        )
        for profile_id, user_id in ((None, csm.pk), (profile.pk, None))
    ]

    # when they are written
    write_alerts(raised)

    # then they read back as raised
    stored = HealthAlert.objects.filter(record=company).order_by("id")
    assert [
        (a.profile_id, a.kind, a.signal, a.priority, a.title, a.evidence, a.user_id, a.raised_at, a.expires_at)
        for a in stored
    ] == [
        (r.profile_id, "churn_signal", r.signal, r.priority, r.title, r.evidence, r.user_id, r.raised_at, r.expires_at)
        for r in raised
    ]


def test_deleting_a_record_or_a_user_still_reaches_its_scores_and_alerts(csm, csm_actor, at_now):
    # the score, history and alert tables carry no database foreign keys: Django cascades
    company = make_company("Acme", csm=csm.pk)
    nps(company, 9, days_ago=40)
    nps(company, 2, days_ago=3)  # an NPS drop: a churn alert for the CSM
    activate(csm_actor, two_groups())
    recompute()
    alert = HealthAlert.objects.get(record=company, signal="nps_drop")
    assert alert.user_id == csm.pk

    csm.delete()
    alert.refresh_from_db()
    assert alert.user_id is None

    company.delete()
    assert not HealthAlert.objects.filter(record_id=company.pk).exists()
    assert not HealthScore.objects.filter(record_id=company.pk).exists()
    assert not HealthScoreHistory.objects.filter(record_id=company.pk).exists()


def test_the_nightly_rewrite_of_every_score_leaves_the_indexes_alone(csm_actor, at_now):
    """PostgreSQL: score pages are kept half full (migration health.0008), so that the next day's
    new version of every score row fits on its page, a HOT update that adds no index entries."""
    if not bulk.is_postgres():
        pytest.skip("PostgreSQL's HOT updates")
    ctype_id = make_company("First").object_type_id
    Record.objects.bulk_create(
        Record(object_type_id=ctype_id, name=f"Company {i}", created_at=NOW, updated_at=NOW, properties={})
        for i in range(400)  # a dozen pages of score rows: full ones, without the fillfactor
    )
    activate(csm_actor, two_groups())
    recompute()  # the first run: every score inserted
    at_now.shift(dt.timedelta(days=1))
    before = score_updates()
    recompute()  # the nightly run: every score rewritten (a new day, a history point each)
    after = score_updates()

    updated, hot = after[0] - before[0], after[1] - before[1]
    assert updated >= 401
    assert hot == updated


def score_updates() -> tuple[int, int]:
    """(updates, HOT updates) of health_healthscore counted by this connection and not yet flushed
    to the statistics: read before and after, as PostgreSQL 15 may still hold earlier
    transactions' counts here."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'health_healthscore'"
        )
        return cursor.fetchone()
