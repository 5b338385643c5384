"""Reports (one object type, a filter, a measure, groups and a chart, or a built-in CS KPI),
dashboards that hold them in a grid, the Dashboards tab's dashboards and each user's Summary reports."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Access(models.TextChoices):
    PRIVATE = "private", _("Private")
    EVERYONE = "everyone", _("Everyone")
    TEAMS = "teams", _("Chosen teams")


class Chart(models.TextChoices):
    KPI = "kpi", _("KPI number")
    BAR = "bar", _("Bar")
    STACKED_BAR = "stacked_bar", _("Stacked bar")
    LINE = "line", _("Line")
    AREA = "area", _("Area")
    DONUT = "donut", _("Donut")
    TABLE = "table", _("Table")


class Report(models.Model):
    """A saved report. A custom report's `definition` is
    {"filters": {"filterGroups": [...]}, "measure": {"type": "count|sum|avg|min|max|distinct",
    "property": name}, "groupBy": name | null, "dateBucket": {"property": name, "unit":
    "day|week|month|quarter|year"} | null, "breakdown": name | null}; a built-in KPI report names
    its KPI in `kpi` and keeps its options (period unit, profile) in `definition`."""

    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    source = models.CharField(_("data source"), max_length=64)  # an object type's name, "tasks", "meetings", "nps"
    kpi = models.CharField(_("KPI"), max_length=40, blank=True, default="")
    definition = models.JSONField(default=dict, blank=True)
    chart = models.CharField(_("chart"), max_length=16, choices=Chart.choices, default=Chart.BAR)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_reports"
    )
    access = models.CharField(_("shared with"), max_length=16, choices=Access.choices, default=Access.PRIVATE)
    teams = models.ManyToManyField("directory.Team", blank=True, related_name="+", verbose_name=_("teams"))
    built_in = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["access", "owner"], name="report_access_owner")]

    def __str__(self) -> str:
        return self.name

    @property
    def team_ids(self) -> list[int]:
        """The ids of its teams (from the prefetched teams when there are)."""
        return [t.pk for t in self.teams.all()]


class Dashboard(models.Model):
    """Reports in a grid with dashboard-wide filters
    ({"dateRange": "last_12_months|…", "owner": user id | null, "team": team id | null,
    "frequency": "month|quarter|…"})."""

    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_dashboards"
    )
    access = models.CharField(_("shared with"), max_length=16, choices=Access.choices, default=Access.PRIVATE)
    teams = models.ManyToManyField("directory.Team", blank=True, related_name="+", verbose_name=_("teams"))
    filters = models.JSONField(default=dict, blank=True)
    built_in = models.CharField(max_length=40, blank=True, default="")  # the key of an installed dashboard
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def team_ids(self) -> list[int]:
        """The ids of its teams (from the prefetched teams when there are)."""
        return [t.pk for t in self.teams.all()]


class DashboardItem(models.Model):
    """One report on a dashboard: its place and size in the 12-column grid."""

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="items")
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="dashboard_items")
    position = models.PositiveSmallIntegerField(default=0)
    width = models.PositiveSmallIntegerField(default=6)  # grid columns: 3, 4, 6, 8 or 12
    height = models.PositiveSmallIntegerField(default=1)  # rows of ~320 px: 1 or 2

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.dashboard_id}:{self.report_id}"


class TabDashboard(models.Model):
    """A dashboard added to the workspace's Dashboards tab, with who sees it there: everyone with
    workspace access, or the members of chosen teams (that access is granted by adding it)."""

    dashboard = models.OneToOneField(Dashboard, on_delete=models.CASCADE, related_name="tab_entry")
    position = models.PositiveSmallIntegerField(default=0)
    access = models.CharField(_("access"), max_length=16, choices=Access.choices, default=Access.EVERYONE)
    teams = models.ManyToManyField("directory.Team", blank=True, related_name="+", verbose_name=_("teams"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"tab: {self.dashboard_id}"

    @property
    def team_ids(self) -> list[int]:
        """The ids of its teams (from the prefetched teams when there are)."""
        return [t.pk for t in self.teams.all()]


class SummaryReport(models.Model):
    """One of the (at most five) reports a user shows on their Summary, in their order."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="summary_reports")
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "report"], name="summary_report_once")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.report_id}"
