"""The demo's last 18 months, for the CS KPIs computed from history: every company's tenure, its
cs_stage changes (churns spread over the months, a few customers who came back, at-risk spells)
and its MRR changes (expansions and contractions that end at today's value); in the detailed part,
onboarding services walking through their stages, tickets created and closed, and the NPS answers
of the quarters before the usage demo's.

It draws from a stream of its own, so the rest of the demo draws exactly what it did before, and
it reshapes records the generator planned (dates, stage history) rather than adding any: the
stage mix, the counts and the scores of today stay as they were.
"""

import datetime as dt
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction

from tend.core import bulk
from tend.crm import values
from tend.crm.models import Stage
from tend.usage.models import SurveyResponse

from .rows import Company, Rec

if TYPE_CHECKING:
    from .generate import Generator

HISTORY_MONTHS = 18
YEAR = dt.timedelta(days=365)
DAY = dt.timedelta(days=1)
GOLDEN = 0.6180339887498949  # spreads the churn dates evenly over the months, whatever their number
MRR_CHANGES_PER_MONTH = 0.92  # ~10 a company on average: many are younger than the 18 months
RETURN_SHARE = 0.08  # of the active customers: churned once and came back
AT_RISK_SPELL_SHARE = 0.08  # of the active customers: at risk once, saved
# Customers renewed k times before their current contract (weights of k = 0, 1, 2, 3).
TENURE_WEIGHTS = (30, 35, 20, 15)
NPS_COLUMNS = ("contact_id", "account_id", "survey", "score", "comment", "responded_at", "external_id", "created_at")


@dataclass(slots=True)
class SurveyPanel:
    """A detailed company whose contacts answer the quarterly NPS survey."""

    company: Rec
    contacts: list[Rec]
    since: dt.datetime
    away: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)  # churned spells
    mood: float = 0.0


class KpiHistory:
    """Plans the history of each company as the generator makes it (`plan_company`, which adds
    rows to the generator's chunk history) and, once usage is written, the older NPS answers."""

    def __init__(self, g: "Generator", seed: int):
        self.g = g
        self.rng = random.Random(f"{seed}/kpi-history")
        self.now = g.now
        months = g.today.year * 12 + g.today.month - 1 - (HISTORY_MONTHS - 1)
        self.horizon = dt.datetime(months // 12, months % 12 + 1, 1, tzinfo=dt.UTC)
        self.span = (self.now - self.horizon).total_seconds()
        self.horizon_days = (g.today - self.horizon.date()).days
        # Churn varies gently from month to month: the weight of each of the 18 months.
        weights = [1 + 0.3 * math.sin(m * 2 * math.pi / 9 + 1) for m in range(HISTORY_MONTHS)]
        self.churn_cdf = [sum(weights[: m + 1]) / sum(weights) for m in range(HISTORY_MONTHS)]
        self.churned = 0
        self.onboarding: list[Stage] = list(g.stages["Onboarding"].values())
        self.onboarding_days = sum(s.target_days or 0 for s in self.onboarding)
        self.support = g.stages["Support pipeline"]
        self.panels: list[SurveyPanel] = []

    # ----------------------------------------------------------------- companies

    def plan_company(
        self,
        record: Rec,
        *,
        cs_stage: str,
        start: dt.date,
        step: int,
        at_risk_at: dt.datetime | None,
        company: Company | None,
    ) -> None:
        """Tenure, cs_stage and MRR history of a company (and its detailed part's history)."""
        rnd = self.rng.random
        service = self._onboarding_service(company)
        since_start = (self.g.today - start).days
        churn_at = self._churn_date() if cs_stage == "churned" else None
        renewals = self._renewals(cs_stage, since_start, service is not None)
        if churn_at is not None:  # a customer for two months at least before it churned
            short = (record.created_at + 60 * DAY - churn_at) / YEAR
            renewals = max(renewals, math.ceil(short))
        record.created_at -= renewals * YEAR
        first_start = start - renewals * YEAR
        # cs_stage: (when, new value), oldest first; the first value was "onboarding".
        events: list[tuple[dt.datetime, str]] = []
        next_change = at_risk_at or churn_at or self.now
        if cs_stage != "onboarding":
            deadline = min(next_change, self.now) - DAY
            if service is not None:
                done = self._walk_onboarding(service, first_start, deadline)
            else:
                done = self.g.at(first_start, 45 + int(rnd() * 30), 540 + int(rnd() * 480))
            events.append((max(min(done, deadline), record.created_at + DAY), "active"))
        onboarded = events[0][0] if events else record.created_at
        away: list[tuple[dt.datetime, dt.datetime]] = []
        if churn_at is not None:
            if rnd() < 0.5:
                warned = churn_at - (14 + int(rnd() * 60)) * DAY
                if warned > onboarded + DAY:
                    events.append((warned, "at_risk"))
            events.append((churn_at, "churned"))
            away.append((churn_at, self.now))
        elif cs_stage == "active":
            away = self._spell(events, onboarded, record.created_at)
        elif cs_stage == "onboarding" and service is not None:
            self._walk_onboarding(service, first_start, self.now)
        self._write_cs_stage(record, events)
        self._plan_mrr(record, step, max(record.created_at, self.horizon), away)
        if company is not None:
            end = churn_at or self.now
            self._plan_tickets(company, record.created_at, end)
            self.panels.append(
                SurveyPanel(
                    record,
                    company.contacts,
                    record.created_at,
                    away,
                    -1.2 if cs_stage in ("at_risk", "churned") else 0.3,
                )
            )

    def _renewals(self, cs_stage: str, since_start: int, onboarded_by_service: bool) -> int:
        """How many contracts the customer had before the current one: a young contract of an
        active customer is a renewal; an onboarding service belongs to the first contract."""
        rnd = self.rng.random
        if cs_stage == "onboarding":
            return 0
        if onboarded_by_service:
            # Spread the onboardings over the whole history: some of them a contract earlier.
            late = since_start + 365 <= self.horizon_days and rnd() < 0.4
            return 1 if since_start < 75 or late else 0
        if since_start < 75:
            return 1 + int(rnd() * 3)
        roll, k = rnd() * sum(TENURE_WEIGHTS), 0
        while roll >= TENURE_WEIGHTS[k]:
            roll -= TENURE_WEIGHTS[k]
            k += 1
        return k

    def _churn_date(self) -> dt.datetime:
        """The n-th churn's date: evenly spread (golden-ratio steps) over the months' weights."""
        self.churned += 1
        u = (self.churned * GOLDEN) % 1.0
        month = next((m for m, c in enumerate(self.churn_cdf) if u <= c), HISTORY_MONTHS - 1)
        low = self.churn_cdf[month - 1] if month else 0.0
        within = (u - low) / (self.churn_cdf[month] - low)
        first = _add_months(self.horizon, month)
        last = min(_add_months(self.horizon, month + 1), self.now - DAY)
        day = first + (last - first) * within
        return self.g.at(day.date(), 0, 540 + int(self.rng.random() * 480))

    def _spell(self, events: list, onboarded: dt.datetime, created: dt.datetime) -> list:
        """An active customer's past: a few churned and came back, some were at risk and saved."""
        rnd = self.rng.random
        low = max(self.horizon, onboarded + 30 * DAY, created + 90 * DAY)
        roll = rnd()
        if roll < RETURN_SHARE:
            high = self.now - 60 * DAY
            if low < high:
                left = self._instant(low, high)
                back = min(left + (30 + int(rnd() * 120)) * DAY, self.now - 14 * DAY)
                events += [(left, "churned"), (back, "active")]
                return [(left, back)]
        elif roll < RETURN_SHARE + AT_RISK_SPELL_SHARE:
            high = self.now - 30 * DAY
            if low < high:
                risky = self._instant(low, high)
                saved = min(risky + (14 + int(rnd() * 76)) * DAY, self.now - 3 * DAY)
                events += [(risky, "at_risk"), (saved, "active")]
        return []

    def _write_cs_stage(self, record: Rec, events: list[tuple[dt.datetime, str]]) -> None:
        history, old = self.g.history, "onboarding"
        for at, new in events:
            history.append((record, "cs_stage", old, new, at))
            old = new
        if events:
            record.updated_at = max(record.updated_at or record.created_at, events[-1][0])

    def _plan_mrr(self, record: Rec, step: int, since: dt.datetime, away: list) -> None:
        """MRR changes at random moments of the paid months, walked back from today's MRR so that
        the last change ends at it; expansions grow a little likelier over time."""
        rnd = self.rng.random
        paid = _minus(since, self.now, away)
        seconds = sum((b - a).total_seconds() for a, b in paid)
        n = _poisson(rnd, MRR_CHANGES_PER_MONTH * seconds / (30.44 * 86400))
        if not n:
            return
        moments = sorted(rnd() * seconds for _k in range(n))
        times, last = [], None
        for offset in moments:
            at = _at_offset(paid, offset).replace(second=0, microsecond=0)
            if last is not None and at <= last:
                at = last + dt.timedelta(minutes=1)
            if at > self.now:
                break
            times.append(at)
            last = at
        value, floor = record.props["mrr"], 2 * step
        rows = []
        for at in reversed(times):
            up = rnd() < 0.52 + 0.14 * (at - self.horizon).total_seconds() / self.span
            size = 0.01 + rnd() * (0.045 if up else 0.03)
            steps = max(1, round(value * size / step))
            if up and value - steps * step < floor:
                up = False
            before = value - steps * step if up else value + steps * step
            rows.append((record, "mrr", before, value, at))
            value = before
        self.g.history.extend(reversed(rows))
        record.updated_at = max(record.updated_at or record.created_at, times[-1])

    def _instant(self, low: dt.datetime, high: dt.datetime) -> dt.datetime:
        day = low + (high - low) * self.rng.random()
        return self.g.at(day.date(), 0, 540 + int(self.rng.random() * 480))

    # ----------------------------------------------------------------- services and tickets

    def _onboarding_service(self, company: Company | None) -> Rec | None:
        if company is None:
            return None
        for rec, _label in company.children:
            if rec.type_name == "services" and rec.props.get("service_type") == "onboarding":
                return rec
        return None

    def _walk_onboarding(self, service: Rec, start: dt.date, deadline: dt.datetime) -> dt.datetime:
        """The service's way through the stages from `start`: most near their targets, some early,
        some late; a finished one before `deadline`, an open one in its stage today. Returns the
        moment it entered its current stage."""
        rnd = self.rng.random
        current = self.onboarding.index(service.stage)
        roll = rnd()
        pace = 0.55 + rnd() * 0.3 if roll < 0.15 else (1.2 + rnd() * 0.7 if roll < 0.3 else 0.85 + rnd() * 0.3)
        days = [(s.target_days or 0) * pace * (0.75 + rnd() * 0.5) for s in self.onboarding[:current]]
        begun = self.g.at(start, 0, 9 * 60)
        room = (min(deadline, self.now) - begun).total_seconds() / 86400 - 0.5
        if sum(days) > room:  # finished by then, or still in its stage today
            fit = max(room, 0.1) * (0.8 + rnd() * 0.15 if current == len(self.onboarding) - 1 else 0.5 + rnd() * 0.45)
            days = [d * fit / sum(days) for d in days]
        # Only the moves are rows: like every other property, the first stage is not recorded as
        # a change at creation (it holds from `created_at`).
        history, at = self.g.history, begun
        for k, stage in enumerate(self.onboarding[1 : current + 1], start=1):
            at = min(at + dt.timedelta(minutes=max(60, round(days[k - 1] * 1440))), self.now)
            if k == 1:
                service.props["kickoff_date"] = at.date().isoformat()
            history.append((service, "stage", self.onboarding[k - 1].pk, stage.pk, at))
        service.props["start_date"] = start.isoformat()
        service.props["target_end_date"] = (start + dt.timedelta(days=self.onboarding_days)).isoformat()
        service.created_at, service.stage_entered_at, service.updated_at = begun, at, at
        return at

    def _plan_tickets(self, company: Company, since: dt.datetime, until: dt.datetime) -> None:
        """Closed tickets over the customer's months of the history, resolved in hours to days
        (faster lately); open ones where the generator put them, moved on from New."""
        rnd, history = self.rng.random, self.g.history
        new, waiting, closed = self.support["New"], self.support["Waiting on us"], self.support["Closed"]
        for rec, _label in company.children:
            if rec.type_name != "tickets":
                continue
            walk = [(rec.created_at, new)]
            if rec.stage is closed:
                low, high = max(self.horizon, since + DAY), min(until, self.now) - 4 * DAY
                if low < high:
                    rec.created_at = (low + (high - low) * rnd()).replace(second=0, microsecond=0)
                speed = 1.3 - 0.5 * (rec.created_at - self.horizon).total_seconds() / self.span
                hours = max(0.5, math.exp(rnd() * math.log(120)) * speed)
                done = min(rec.created_at + dt.timedelta(minutes=round(hours * 60)), self.now)
                walk = [(rec.created_at, new)]
                if hours > 2 and rnd() < 0.7:
                    walk.append((rec.created_at + (done - rec.created_at) * (0.1 + rnd() * 0.3), waiting))
                    if rnd() < 0.35:
                        walk.append((rec.created_at + (done - rec.created_at) * (0.5 + rnd() * 0.3), self.support["Waiting on contact"]))  # fmt: skip
                walk.append((done, closed))
                rec.props["closed_at"] = values.format_datetime(done)
            elif rec.stage is not new:
                # Moved on from New some time after it came in (never at the same moment).
                rec.created_at = min(rec.created_at, self.now - dt.timedelta(hours=4))
                walk = [(rec.created_at, new)]
                moved = rec.created_at + (self.now - rec.created_at) * (0.05 + rnd() * 0.4)
                if rec.stage is not waiting and rnd() < 0.5:
                    walk.append((moved, waiting))
                    moved += (self.now - moved) * (0.1 + rnd() * 0.8)
                walk.append((moved, rec.stage))
            for (_at, old), (at, stage) in zip(walk, walk[1:], strict=False):
                history.append((rec, "stage", old.pk, stage.pk, at.replace(microsecond=0)))
            rec.stage_entered_at = rec.updated_at = walk[-1][0].replace(microsecond=0)

    # ----------------------------------------------------------------- NPS

    def write_nps(self) -> Counter:
        """NPS answers around the usage demo's: quarterly ones before them, improving over the
        months, and some in this month (the usage demo's are three weeks old at least). Only
        for accounts that answered twice or more there: the usage demo's tests count them."""
        counts: Counter = Counter()
        for start in range(0, len(self.panels), 1000):
            panels = self.panels[start : start + 1000]
            answered = _answered([p.company.id for p in panels])
            rows = []
            for panel in panels:
                answers = answered.get(panel.company.id)
                if answers is None or len(answers) < 2 or not panel.contacts:
                    continue
                rows += self._earlier_answers(panel, answers[-1][0])
                recent = self._recent_answer(panel, answers)
                if recent:
                    rows.append(recent)
            with transaction.atomic():
                bulk.copy_rows(SurveyResponse._meta.db_table, NPS_COLUMNS, rows)
            counts["survey responses"] += len(rows)
        return counts

    def _answer(self, panel: SurveyPanel, at: dt.datetime, score: int) -> tuple:
        contact = panel.contacts[int(self.rng.random() * len(panel.contacts))]
        when = bulk.db_datetime(at.replace(second=0, microsecond=0))
        return (contact.id, panel.company.id, "nps", score, "", when, None, bulk.db_datetime(self.now))

    def _earlier_answers(self, panel: SurveyPanel, first: dt.datetime) -> list[tuple]:
        rnd, rows = self.rng.random, []
        at = first - (25 + int(rnd() * 80)) * DAY
        while at >= max(self.horizon, panel.since + 20 * DAY):
            if not any(a <= at < b for a, b in panel.away):
                trend = 7.2 + 1.2 * (at - self.horizon).total_seconds() / self.span
                rows.append(
                    self._answer(panel, at, min(10, max(0, round(trend + panel.mood + self.rng.gauss(0, 1.5)))))
                )
            at -= (75 + int(rnd() * 35)) * DAY
        return rows

    def _recent_answer(self, panel: SurveyPanel, answers: list[tuple]) -> tuple | None:
        """An answer this month from a customer who did not just drop, the same as its latest:
        the account's `nps`, today's score and churn signals stay what the usage demo made them."""
        (latest_at, latest), (_at, previous) = answers[0], answers[1]
        low = max(self.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0), latest_at + DAY)
        high = self.now - dt.timedelta(hours=1)
        if latest - previous <= -3 or (panel.away and panel.away[-1][1] >= self.now) or low >= high:
            return None
        if self.rng.random() < 0.5:
            return None
        return self._answer(panel, low + (high - low) * self.rng.random(), latest)


def _answered(account_ids: list[int]) -> dict[int, list[tuple[dt.datetime, int]]]:
    """account → its NPS answers (when, score), newest first."""
    out: dict[int, list] = {}
    rows = (
        SurveyResponse.objects.filter(account_id__in=account_ids, survey="nps")
        .order_by("account_id", "-responded_at", "-id")
        .values_list("account_id", "responded_at", "score")
    )
    for account_id, at, score in rows:
        out.setdefault(account_id, []).append((at, score))
    return out


def _add_months(at: dt.datetime, n: int) -> dt.datetime:
    months = at.year * 12 + at.month - 1 + n
    return at.replace(year=months // 12, month=months % 12 + 1)


def _minus(start: dt.datetime, end: dt.datetime, away: list) -> list[tuple[dt.datetime, dt.datetime]]:
    """[start, end) without the `away` spells."""
    out, at = [], start
    for a, b in sorted(away):
        if a > at:
            out.append((at, min(a, end)))
        at = max(at, b)
    if at < end:
        out.append((at, end))
    return [(a, b) for a, b in out if a < b]


def _at_offset(spans: list, offset: float) -> dt.datetime:
    for a, b in spans:
        length = (b - a).total_seconds()
        if offset < length:
            return a + dt.timedelta(seconds=offset)
        offset -= length
    return spans[-1][1]


def _poisson(rnd, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rnd()
    while p > limit:
        k += 1
        p *= rnd()
    return k
