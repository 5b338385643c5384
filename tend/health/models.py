"""Health scores: score profiles and their versions, scores with history and explanations, alerts,
churn-signal rules, and the accounts marked for recompute."""

from django.db import models


class DirtyAccount(models.Model):
    """An account whose health score must be recomputed (new events, NPS, tickets, engagement or
    property changes). The incremental recompute task drains this table."""

    record = models.OneToOneField("crm.Record", on_delete=models.CASCADE, related_name="+")
    marked_at = models.DateTimeField()
    reason = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["marked_at"], name="dirty_account_marked")]

    def __str__(self) -> str:
        return f"{self.record_id} ({self.reason})"
