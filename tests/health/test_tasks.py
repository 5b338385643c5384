"""The incremental path: a change marks the account, one task is queued on commit (debounced),
the worker recomputes the marked accounts."""

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from tend.crm.services import record_update
from tend.health.models import DirtyAccount, HealthScore, RecomputeRun
from tend.health.recompute.run import recompute

from .conftest import activate, make_company

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_property_change_moves_the_score_through_the_worker(csm_actor, at_now):
    definition = {
        "groups": [
            {
                "key": "size",
                "label": "Size",
                "max": 100,
                "criteria": [
                    {
                        "key": "employees",
                        "label": "Employees",
                        "measure": {"kind": "property", "property": "employees"},
                        "bands": [{"min": 100, "points": 100}, {"min": None, "points": 0}],
                    }
                ],
            }
        ],
        "statuses": [
            {"key": "healthy", "label": "Healthy", "min": 50, "color": "success"},
            {"key": "at_risk", "label": "At risk", "min": 0, "color": "danger"},
        ],
    }
    company = make_company("Acme", employees=10)
    activate(csm_actor, definition)
    recompute()
    assert HealthScore.objects.get(record=company).score == 0.0
    DBTaskResult.objects.all().delete()
    RecomputeRun.objects.all().delete()

    record_update(actor=csm_actor, record=company, properties={"employees": 500})
    record_update(actor=csm_actor, record=company, properties={"name": "Acme Inc"})

    assert DirtyAccount.objects.filter(record=company).exists()
    assert DBTaskResult.objects.filter(task_path__endswith="recompute_incremental_task").count() == 1
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)

    score = HealthScore.objects.get(record=company)
    assert (score.score, score.status) == (100.0, "healthy")
    assert not DirtyAccount.objects.exists()
    run = RecomputeRun.objects.get(kind="incremental")
    assert (run.status, run.done) == ("done", 1)


def test_the_daily_run_requeues_itself(csm_actor, at_now):
    from tend.health import jobs, tasks

    activate(csm_actor)
    daily = RecomputeRun.objects.get(kind="full", status="queued")
    assert daily.run_after.isoformat() == "2026-06-16T02:00:00+00:00"
    run = jobs.run_full(daily.pk)
    assert run.status == "done"
    tasks.ensure_daily()
    assert RecomputeRun.objects.filter(kind="full", status="queued").count() == 1
