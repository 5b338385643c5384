"""Turning measured values into points, a score, a status and an explanation (pure functions).

Missing data is not zero: a criterion whose measure has no data (`NO_DATA`) is excluded and the
score is computed over the maximum points of the criteria that have data (`coverage` says how much
of the 100 points that is), unless the definition says `"missing_data": "zero"`, in which case it
scores 0 points out of its maximum.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .definitions.catalogue import MEASURES, nps_category


class _NoData:
    def __repr__(self) -> str:
        return "NO_DATA"

    def __bool__(self) -> bool:
        return False


NO_DATA = _NoData()


@dataclass
class Evaluation:
    """A scored record: the score (None when no criterion has data), the status entry of the
    definition (None likewise), the coverage, and per group its criteria with value, band, points."""

    score: float | None
    status: dict | None
    coverage: float
    max_points_with_data: float
    groups: list[dict] = field(default_factory=list)

    @property
    def status_key(self) -> str:
        return self.status["key"] if self.status else ""


def _round(value: float) -> float:
    return round(value + 0.0, 1)


def match_band(bands: list[dict], value) -> dict | None:
    """The first band (top-down) the value falls in, or None."""
    for band in bands:
        if "values" in band:
            if _category_text(value) in band["values"]:
                return band
        elif band.get("min") is None or (isinstance(value, int | float) and value >= band["min"]):
            return band
    return None


def _category_text(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def value_display(measure: dict, value) -> str:
    """How a measured value reads in the breakdown."""
    if value is NO_DATA or value is None:
        return _("no data")
    kind = measure.get("kind")
    if kind == "nps_latest":
        category = nps_category(value)
        return f"{value} ({_(category)})"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if kind == "meetings_attended":
        return f"{round(value * 100)}%"
    if kind == "event_trend":
        return f"{round(value * 100)}%"
    if kind == "event_rate":
        per = {"day": _("a day"), "week": _("a week"), "month": _("a month")}[measure.get("per", "week")]
        return f"{value:.1f} {per}"
    if kind in ("days_until", "open_ticket_age"):
        return _("%(n)s days") % {"n": int(value)}
    if kind == "ticket_csat":
        return f"{value:.1f} / 5"
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".") if not value.is_integer() else str(int(value))
    return str(value)


def _band_value(measure: dict, value):
    """The value the bands compare with (NPS scores compare as their category)."""
    if measure.get("kind") == "nps_latest" and isinstance(value, int | float):
        return nps_category(value)
    return value


def evaluate(definition: dict, values: dict[str, object]) -> Evaluation:
    """Score a record from its measured values (criterion key → value or NO_DATA)."""
    zero_missing = definition.get("missing_data") == "zero"
    groups = []
    total_points = 0.0
    max_with_data = 0.0
    any_data = False
    for group in definition["groups"]:
        gmax = float(group["max"])
        criteria = []
        points_sum = 0.0
        max_sum = 0.0
        for criterion in group["criteria"]:
            measure = criterion["measure"]
            value = values.get(criterion["key"], NO_DATA)
            cmax = min(max((b["points"] for b in criterion["bands"]), default=0), gmax)
            no_data = value is NO_DATA or value is None
            band = None if no_data else match_band(criterion["bands"], _band_value(measure, value))
            points = 0.0 if band is None else float(min(band["points"], gmax))
            if not no_data or zero_missing:
                points_sum += points
                max_sum += cmax
            if not no_data:
                any_data = True
            criteria.append(
                {
                    "key": criterion["key"],
                    "label": criterion["label"],
                    "measure_label": _(MEASURES[measure["kind"]].label),
                    "value": None if no_data else value,
                    "value_display": value_display(measure, value),
                    "band_label": "" if band is None else band["label"],
                    "points": points,
                    "max_points": float(cmax),
                    "no_data": no_data,
                }
            )
        group_points = min(points_sum, gmax)
        group_max = min(max_sum, gmax)
        total_points += group_points
        max_with_data += group_max
        groups.append(
            {
                "key": group["key"],
                "label": group["label"],
                "max": gmax,
                "points": group_points,
                "max_with_data": group_max,
                "criteria": criteria,
            }
        )
    # coverage: the share of the 100 points whose criteria have data
    data_max = sum(min(sum(c["max_points"] for c in g["criteria"] if not c["no_data"]), g["max"]) for g in groups)
    coverage = round(data_max / 100.0, 4)
    if not any_data:
        return Evaluation(score=None, status=None, coverage=coverage, max_points_with_data=0.0, groups=groups)
    if zero_missing:
        score = total_points
    else:
        score = (total_points / max_with_data * 100.0) if max_with_data else 0.0
    score = _round(min(max(score, 0.0), 100.0))
    return Evaluation(
        score=score,
        status=status_for(definition, score),
        coverage=coverage,
        max_points_with_data=data_max,
        groups=groups,
    )


def status_for(definition: dict, score: float | None) -> dict | None:
    if score is None:
        return None
    for status in definition["statuses"]:
        if score >= status["min"]:
            return status
    return definition["statuses"][-1] if definition["statuses"] else None


def changes_between(old_groups: list[dict] | None, new_groups: list[dict]) -> list[dict]:
    """The criteria whose value or points moved, from what to what ("why it changed")."""
    old = {}
    for group in old_groups or []:
        for criterion in group.get("criteria", []):
            old[criterion["key"]] = criterion
    changes = []
    for group in new_groups:
        for criterion in group["criteria"]:
            before = old.get(criterion["key"])
            if before is None:
                continue
            if before.get("value") == criterion["value"] and before.get("points") == criterion["points"]:
                continue
            changes.append(
                {
                    "criterion": criterion["key"],
                    "label": criterion["label"],
                    "from_value": before.get("value"),
                    "to_value": criterion["value"],
                    "from_display": before.get("value_display", ""),
                    "to_display": criterion["value_display"],
                    "from_points": before.get("points"),
                    "to_points": criterion["points"],
                }
            )
    return changes


# --------------------------------------------------------------------------- the fast path of a recompute


@dataclass
class Compiled:
    """A definition prepared for scoring many accounts: no labels, no displays, only numbers."""

    groups: list[tuple[float, list[tuple[str, list[tuple], float, bool]]]]
    zero_missing: bool
    statuses: list[tuple[float, str]]


def compile_definition(definition: dict) -> Compiled:
    groups = []
    for group in definition["groups"]:
        gmax = float(group["max"])
        criteria = []
        for criterion in group["criteria"]:
            bands = [
                (b.get("min"), frozenset(b["values"]) if "values" in b else None, float(min(b["points"], gmax)))
                for b in criterion["bands"]
            ]
            cmax = min(max((b["points"] for b in criterion["bands"]), default=0), gmax)
            criteria.append((criterion["key"], bands, float(cmax), criterion["measure"]["kind"] == "nps_latest"))
        groups.append((gmax, criteria))
    statuses = [(s["min"], s["key"]) for s in definition["statuses"]]
    return Compiled(groups=groups, zero_missing=definition.get("missing_data") == "zero", statuses=statuses)


def fast_score(compiled: Compiled, values: dict) -> tuple[float | None, str, float]:
    """(score, status key, coverage) — the same numbers as `evaluate`, without the explanation."""
    total = 0.0
    max_with_data = 0.0
    data_max = 0.0
    any_data = False
    zero_missing = compiled.zero_missing
    for gmax, criteria in compiled.groups:
        points_sum = max_sum = data_sum = 0.0
        for key, bands, cmax, is_nps in criteria:
            value = values.get(key, NO_DATA)
            if value is NO_DATA or value is None:
                if zero_missing:
                    max_sum += cmax
                continue
            any_data = True
            if is_nps and isinstance(value, int | float):
                value = nps_category(value)
            points = 0.0
            for minimum, accepted, band_points in bands:
                if accepted is not None:
                    if _category_text(value) in accepted:
                        points = band_points
                        break
                elif minimum is None or (isinstance(value, int | float) and value >= minimum):
                    points = band_points
                    break
            points_sum += points
            max_sum += cmax
            data_sum += cmax
        total += min(points_sum, gmax)
        max_with_data += min(max_sum, gmax)
        data_max += min(data_sum, gmax)
    return _finish(compiled, total, max_with_data, data_max, any_data=any_data, zero_missing=zero_missing)


def _finish(compiled, total: float, max_with_data: float, data_max: float, *, any_data: bool, zero_missing: bool):
    """(score, status key, coverage) from the groups' capped totals."""
    coverage = round(data_max / 100.0, 4)
    if not any_data:
        return None, "", coverage
    score = total if zero_missing else ((total / max_with_data * 100.0) if max_with_data else 0.0)
    score = _round(min(max(score, 0.0), 100.0))
    status = ""
    for minimum, key in compiled.statuses:
        if score >= minimum:
            status = key
            break
    else:
        if compiled.statuses:
            status = compiled.statuses[-1][1]
    return score, status, coverage


def _band_points(bands: list[tuple], is_nps: bool, value) -> float:
    if is_nps and isinstance(value, int | float):
        value = nps_category(value)
    for minimum, accepted, band_points in bands:
        if accepted is not None:
            if _category_text(value) in accepted:
                return band_points
        elif minimum is None or (isinstance(value, int | float) and value >= minimum):
            return band_points
    return 0.0


class BatchScorer:
    """Scores the accounts of a chunk under one definition: the points of each distinct value of a
    criterion, and the score of each combination of points, are computed once (a chunk has few of
    either), with exactly the arithmetic of `fast_score`."""

    def __init__(self, compiled: Compiled):
        self.compiled = compiled
        self.criteria = [(bands, is_nps) for _gmax, criteria in compiled.groups for _k, bands, _c, is_nps in criteria]
        self.memos: list[dict] = [{} for _ in self.criteria]
        self._scores: dict[tuple, tuple[float | None, str, float]] = {}

    def points(self, index: int, value) -> float | None:
        """The points of a criterion's value; None when it has no data."""
        if value is NO_DATA or value is None:
            return None
        memo = self.memos[index]
        key = (value.__class__, value)  # 1, 1.0 and True are equal keys but not the same category
        try:
            return memo[key]
        except KeyError:
            points = memo[key] = _band_points(*self.criteria[index], value)
            return points
        except TypeError:  # an unhashable value
            return _band_points(*self.criteria[index], value)

    def score(self, points: tuple) -> tuple[float | None, str, float]:
        """(score, status key, coverage) for the criteria's points (None = no data), in order."""
        try:
            return self._scores[points]
        except KeyError:
            result = self._scores[points] = _score_points(self.compiled, points)
            return result


def _score_points(compiled: Compiled, points: tuple) -> tuple[float | None, str, float]:
    total = 0.0
    max_with_data = 0.0
    data_max = 0.0
    any_data = False
    zero_missing = compiled.zero_missing
    i = 0
    for gmax, criteria in compiled.groups:
        points_sum = max_sum = data_sum = 0.0
        for _key, _bands, cmax, _is_nps in criteria:
            p = points[i]
            i += 1
            if p is None:
                if zero_missing:
                    max_sum += cmax
                continue
            any_data = True
            points_sum += p
            max_sum += cmax
            data_sum += cmax
        total += min(points_sum, gmax)
        max_with_data += min(max_sum, gmax)
        data_max += min(data_sum, gmax)
    return _finish(compiled, total, max_with_data, data_max, any_data=any_data, zero_missing=zero_missing)


def changes_from(definition: dict, scorer: BatchScorer, old_breakdown: dict, new_values: list) -> list[dict]:
    """`changes_between(expand(old).groups, expand(new).groups)` without expanding either: only the
    criteria that moved get their labels and displays. `new_values` are the criteria's values in
    the definition's order (NO_DATA when none)."""
    old_values = {k: (NO_DATA if v is None else v) for k, v in (old_breakdown or {}).items()}
    changes = []
    i = 0
    for group in definition["groups"]:
        for criterion in group["criteria"]:
            change = criterion_change(criterion, scorer, i, old_values.get(criterion["key"], NO_DATA), new_values[i])
            if change is not None:
                changes.append(change)
            i += 1
    return changes


def criterion_change(criterion: dict, scorer: BatchScorer, index: int, old, new) -> dict | None:
    """The entry of `changes_between` for one criterion (the `index`-th) whose value went from
    `old` to `new` (NO_DATA when none), or None when neither its value nor its points moved."""
    old_points = scorer.points(index, old)
    new_points = scorer.points(index, new)
    from_value = None if old is NO_DATA or old is None else old
    to_value = None if new is NO_DATA or new is None else new
    from_points = 0.0 if old_points is None else old_points
    to_points = 0.0 if new_points is None else new_points
    if from_value == to_value and from_points == to_points:
        return None
    measure = criterion["measure"]
    return {
        "criterion": criterion["key"],
        "label": criterion["label"],
        "from_value": from_value,
        "to_value": to_value,
        "from_display": value_display(measure, old),
        "to_display": value_display(measure, new),
        "from_points": from_points,
        "to_points": to_points,
    }
