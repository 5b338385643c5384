"""Signals in: product-usage events (Segment spec) with their daily rollups, the identities that map
users to accounts, NPS / survey responses, and the usage settings.

The health engine reads `DailyUsage` and `DailyActiveUser` (never the raw events) and `SurveyResponse`.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class UsageEvent(models.Model):
    """One Segment message (track, identify, group, page, screen) as received; idempotent by message id."""

    class Kind(models.TextChoices):
        TRACK = "track", _("Track")
        IDENTIFY = "identify", _("Identify")
        GROUP = "group", _("Group")
        PAGE = "page", _("Page")
        SCREEN = "screen", _("Screen")

    message_id = models.CharField(max_length=200)  # unique: see Meta
    kind = models.CharField(max_length=16, choices=Kind.choices)
    event = models.CharField(max_length=200, blank=True, default="")  # "" for non-track messages
    # db_index=False: the (account, timestamp) index serves lookups by account; one index less per
    # insert. db_constraint=False here and on the rollups: on PostgreSQL a foreign key check locks
    # the account's row (FOR KEY SHARE) for every event inserted, which cost ingestion a tenth of
    # its time; deleting an account still deletes its usage (Django cascades), and the account ids
    # written come from the customer records themselves.
    account = models.ForeignKey(
        "crm.Record",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    user_key = models.CharField(max_length=200)  # the userId, or "anon:<anonymousId>"
    properties = models.JSONField(default=dict, blank=True)
    timestamp = models.DateTimeField()  # when it happened
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["account", "timestamp"], name="usage_event_account_ts")]
        # A constraint, not unique=True: on PostgreSQL that would add a second (LIKE) index that
        # every insert pays for and nothing uses.
        constraints = [models.UniqueConstraint(fields=["message_id"], name="usage_event_message_id_unique")]
        verbose_name = _("usage event")
        verbose_name_plural = _("usage events")

    def __str__(self) -> str:
        return f"{self.kind} {self.event} {self.message_id}".strip()


class DailyUsage(models.Model):
    """Per account, UTC day and event name: how many track events and how many distinct users
    (page and screen calls count as active users only; identify and group calls are not usage)."""

    account = models.ForeignKey(
        "crm.Record", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField()
    event = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)
    users = models.PositiveIntegerField(default=0)

    class Meta:
        # Every read is of accounts' days (`daily_usage_unique`). No index on the day alone: no query
        # used it, each new row wrote it, and on PostgreSQL it drew the health recompute's chunk reads
        # (an account range, the last weeks) into a parallel scan of every account's recent days.
        constraints = [models.UniqueConstraint(fields=["account", "day", "event"], name="daily_usage_unique")]
        verbose_name = _("daily usage")
        verbose_name_plural = _("daily usage")

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.event}: {self.count}"


class DailyActiveUser(models.Model):
    """A user active for an account on a UTC day (any usage event); active users over a window =
    COUNT(DISTINCT user_key)."""

    account = models.ForeignKey(
        "crm.Record", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField()
    user_key = models.CharField(max_length=200)

    class Meta:
        # As for `DailyUsage`: every read is of accounts' days; no index on the day alone.
        constraints = [models.UniqueConstraint(fields=["account", "day", "user_key"], name="daily_active_user_unique")]
        verbose_name = _("daily active user")
        verbose_name_plural = _("daily active users")

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.user_key}"


class DailyEventUser(models.Model):
    """A user who sent a track event of this name for an account on a UTC day: what
    `DailyUsage.users` counts, so that ingestion adds to the rollups instead of re-reading events."""

    account = models.ForeignKey(
        "crm.Record", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField()
    event = models.CharField(max_length=200)
    user_key = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "event", "user_key"], name="daily_event_user_unique")
        ]
        verbose_name = _("daily event user")
        verbose_name_plural = _("daily event users")

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.event} {self.user_key}"


class UsageIdentity(models.Model):
    """What Tend remembers about a product user: the account (from group calls or a track's
    context.groupId) and the traits from identify calls."""

    user_key = models.CharField(max_length=200)  # unique: see Meta
    account = models.ForeignKey("crm.Record", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    traits = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user_key"], name="usage_identity_user_key_unique")]
        verbose_name = _("usage identity")
        verbose_name_plural = _("usage identities")

    def __str__(self) -> str:
        return self.user_key


class SurveyResponse(models.Model):
    """One answer to a survey (NPS by default): a score 0–10 from a contact about an account."""

    contact = models.ForeignKey("crm.Record", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account = models.ForeignKey("crm.Record", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    survey = models.CharField(_("survey"), max_length=64, default="nps")
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(0), MaxValueValidator(10)])
    comment = models.TextField(_("comment"), blank=True, default="")
    responded_at = models.DateTimeField(_("responded at"))
    external_id = models.CharField(_("external id"), max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-responded_at", "-id"]
        indexes = [
            models.Index(fields=["account", "survey", "responded_at"], name="survey_account_time"),
            models.Index(fields=["responded_at"], name="survey_responded_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=0, score__lte=10), name="survey_score_range"),
        ]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")

    def __str__(self) -> str:
        return f"{self.survey} {self.score} ({self.account_id})"


def default_activity_events() -> dict[str, str]:
    """Segment's spec names for the events that are contact activity (track event → activity type)."""
    return {
        "Email Opened": "email_opened",
        "Email Link Clicked": "email_clicked",
        "Email Replied": "email_replied",
        "Form Submitted": "form_submitted",
        "Meeting Booked": "meeting_booked",
        "Document Viewed": "document_viewed",
    }


class UsageSettings(models.Model):
    """The one usage settings row (see `settings.usage_settings`)."""

    account_key_property = models.CharField(_("account key property"), max_length=64, default="domain")
    # Contact activity from track and page calls: how a userId names a contact (its email, or
    # an external-id property of contacts), which track events are which activity type, and
    # whether page calls are page views.
    activity_contact_match = models.CharField(max_length=16, default="email")
    activity_contact_property = models.CharField(max_length=64, blank=True, default="")
    activity_events = models.JSONField(default=default_activity_events, blank=True)
    activity_page_views = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "signals_signalssettings"  # the table of the app's first name
        verbose_name = _("usage settings")
        verbose_name_plural = _("usage settings")

    def __str__(self) -> str:
        return str(_("Signals settings"))
