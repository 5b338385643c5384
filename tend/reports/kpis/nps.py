"""NPS trend: per period, the Net Promoter Score of the answers about customers and their
average score (docs/kpis.md)."""

from django.db.models import Avg, Count, Q
from django.utils.translation import gettext as _

from tend.usage.models import SurveyResponse

from ..data import ReportData, Series
from . import KpiScope
from .calendar import Periods
from .customers import customers

SURVEY = "nps"
PROMOTER_FROM = 9  # 9 and 10
DETRACTOR_UP_TO = 6  # 0 to 6


def compute(scope: KpiScope) -> ReportData:
    periods = Periods.of(scope)
    n = len(periods)
    rows = (
        SurveyResponse.objects.filter(periods.within("responded_at"), survey=SURVEY, account__in=customers(scope))
        .annotate(period=periods.index_of("responded_at"))
        .values("period")
        .annotate(
            answers=Count("pk"),
            promoters=Count("pk", filter=Q(score__gte=PROMOTER_FROM)),
            detractors=Count("pk", filter=Q(score__lte=DETRACTOR_UP_TO)),
            average=Avg("score"),
        )
        .order_by()
    )
    nps: list[float | None] = [None] * n
    average: list[float | None] = [None] * n
    answers = [0] * n
    for row in rows:
        k = row["period"]
        answers[k] = row["answers"]
        nps[k] = round((row["promoters"] - row["detractors"]) * 100 / row["answers"], 1)
        average[k] = round(row["average"], 2)
    return periods.data(
        [Series("nps", _("NPS"), nps), Series("average", _("Average score"), average)],
        extra={"answers": answers},
    )
