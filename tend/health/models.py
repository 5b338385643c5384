"""Health scores: score profiles and their versions, scores with history and explanations, alerts,
churn-signal rules, recompute runs, and the accounts marked for recompute."""

import datetime as dt
from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tend.core.fields import JSONTextField

User = settings.AUTH_USER_MODEL


class ScoreProfileQuerySet(models.QuerySet):
    def live(self):
        return self.filter(archived_at__isnull=True)

    def active(self):
        """Profiles that score accounts, in the order they are tried (lower priority first)."""
        return self.live().filter(active_version__isnull=False).order_by("priority", "id")


class ScoreProfile(models.Model):
    """A way of scoring the customers of one segment: a draft definition being edited and the
    version that is active (None while inactive)."""

    name = models.CharField(_("name"), max_length=120)
    # The English message id of a name Tend gave ("Standard health"): read in the viewer's language
    # while `name` is still that id; empty for a name someone typed.
    builtin_name = models.CharField(max_length=120, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    # The one filter language over the customer object type; {} or no filter groups = every customer.
    segment = models.JSONField(_("segment"), default=dict, blank=True)
    priority = models.IntegerField(_("priority"), default=100)
    draft = models.JSONField(_("draft definition"), default=dict, blank=True)
    active_version = models.ForeignKey(
        "ProfileVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ScoreProfileQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("score profile")
        verbose_name_plural = _("score profiles")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name as the viewer reads it: a built-in name in their language, a typed one as typed."""
        if self.builtin_name and self.name == self.builtin_name:
            return gettext(self.builtin_name)
        return self.name

    @property
    def is_active(self) -> bool:
        return self.active_version_id is not None and self.archived_at is None


class ProfileVersion(models.Model):
    """A frozen definition and segment of a profile, made at each activation; kept forever."""

    profile = models.ForeignKey(ScoreProfile, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    segment = models.JSONField(default=dict, blank=True)
    activated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    activated_at = models.DateTimeField()

    class Meta:
        ordering = ["profile_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["profile", "number"], name="profile_version_unique")]

    def __str__(self) -> str:
        return f"{self.profile_id} v{self.number}"


class HealthScore(models.Model):
    """The current score of one record under the profile that applies to it, with its breakdown
    (the list of groups with their criteria, as in `scoring.Evaluation.groups`)."""

    # Indexes and constraints cost on every row a full recompute writes (100k+ a day), so: no index
    # that another one covers — record by `health_score_unique`, profile by `health_score_status` —
    # no version index (read only when a profile is deleted, which is rare), and no database
    # foreign keys: on PostgreSQL each is a per-row check at commit (the record's also locks the
    # record row), together more than the insert itself. Deleting a record or a profile still
    # deletes its scores (Django cascades) and the ids written are read from those tables in the
    # same transaction; a row left behind by a record deleted while a recompute ran is read by no
    # screen (they all start from the records).
    record = models.ForeignKey(
        "crm.Record", on_delete=models.CASCADE, related_name="health_scores", db_index=False, db_constraint=False
    )
    profile = models.ForeignKey(
        ScoreProfile, on_delete=models.CASCADE, related_name="scores", db_index=False, db_constraint=False
    )
    version = models.ForeignKey(
        ProfileVersion, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    score = models.FloatField(null=True, blank=True)  # None when no criterion has data
    status = models.CharField(max_length=32, blank=True, default="")
    coverage = models.FloatField(default=0)
    breakdown = JSONTextField(default=list, blank=True)
    computed_at = models.DateTimeField()
    history_day = models.DateField(null=True, blank=True)  # the UTC day of the latest history point

    class Meta:
        # On PostgreSQL the table has fillfactor 50 (migration 0004): room on each page for the
        # nightly rewrite of every row to be a HOT update.
        constraints = [models.UniqueConstraint(fields=["record", "profile"], name="health_score_unique")]
        indexes = [models.Index(fields=["profile", "status"], name="health_score_status")]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.score} ({self.status})"


class HealthScoreHistory(models.Model):
    """A point of a record's score over time: at least one a day, and one at every status change,
    with the criteria that moved since the previous point (`changes`). A point keeps no copy of the
    breakdown: the score row holds the current one, and the changes say how each value got there
    (a copy per account and day, written every night, that nothing read)."""

    # As for `HealthScore`: record covered by `health_history_record_at`, profile and version not
    # indexed, no database foreign keys (the ORM cascades deletions). Every read is of records'
    # points (a record page, a book's summary), so `at` has no index of its own: it would be one
    # more entry to write per account each night for no query.
    record = models.ForeignKey(
        "crm.Record", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    profile = models.ForeignKey(
        ScoreProfile, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    version = models.ForeignKey(
        ProfileVersion, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    at = models.DateTimeField()
    score = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=32, blank=True, default="")
    coverage = models.FloatField(default=0)
    changes = JSONTextField(default=list, blank=True)
    reason = models.CharField(max_length=32, default="recompute")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["record", "at"], name="health_history_record_at"),
        ]

    def __str__(self) -> str:
        return f"{self.record_id} @ {self.at:%Y-%m-%d}: {self.score}"


# Alerts a list may show: not dismissed, on a record that is not archived.
SHOWN_ALERTS = Q(dismissed_at__isnull=True, record_live=True)


class HealthAlertQuerySet(models.QuerySet):
    def active(self, now):
        return self.filter(expires_at__gt=now, dismissed_at__isnull=True)

    def for_user(self, user):
        return self.filter(user=user)


class HealthAlert(models.Model):
    """A status change or a churn signal on a record, for the CSM; active 14 days, then expired."""

    class Kind(models.TextChoices):
        STATUS_CHANGE = "status_change", _("Status change")
        CHURN_SIGNAL = "churn_signal", _("Churn signal")

    class Priority(models.TextChoices):
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")
        INFO = "info", _("Info")

    # A first recompute raises tens of thousands at once, so as for `HealthScore`: no index that
    # another covers (record and user lead `health_alert_record` / `health_alert_user`), none for
    # the rare profile or dismissing-user deletion, and no database foreign keys for the rows the
    # recompute writes (each a check, and a lock on the record row, at commit); Django cascades.
    record = models.ForeignKey(
        "crm.Record", on_delete=models.CASCADE, related_name="health_alerts", db_index=False, db_constraint=False
    )
    profile = models.ForeignKey(
        ScoreProfile,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    signal = models.CharField(max_length=40, blank=True, default="")
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    title = models.CharField(max_length=255)
    evidence = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="health_alerts",
        db_index=False,
        db_constraint=False,
    )
    raised_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # Whose book the record is in (its owner, its CSM as a user id) and whether it is live, copied
    # from the record so that a book's alerts are index ranges instead of a join of every active
    # alert with its record (`queries.book_alerts`). Written with the alert by the recompute and
    # again by `books.restamp_alerts` when the records change (owner, CSM, archived, merged).
    book_owner_id = models.BigIntegerField(null=True, blank=True)
    book_csm_id = models.BigIntegerField(null=True, blank=True)
    record_live = models.BooleanField(default=True)

    objects = HealthAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["record", "expires_at"], name="health_alert_record"),
            models.Index(fields=["user", "expires_at"], name="health_alert_user"),
            # The undismissed alerts of live records a user sees: addressed to them, or on their
            # book as owner or CSM, by kind (the counts), and all of them newest first (a page).
            *(
                models.Index(
                    fields=[column, "kind", "expires_at"],
                    name=f"health_alert_{label}",
                    condition=SHOWN_ALERTS,
                )
                for column, label in (("user", "to"), ("book_owner_id", "owner"), ("book_csm_id", "csm"))
            ),
            models.Index(
                fields=["raised_at", "id", "expires_at", "kind", "user", "book_owner_id", "book_csm_id"],
                name="health_alert_newest",
                condition=SHOWN_ALERTS,
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NewHealthAlert(NamedTuple):
    """A `HealthAlert` to insert, as the recompute raises them (thousands at a time on a first
    run, where building model instances cost more than inserting the rows)."""

    record_id: int
    profile_id: int | None
    kind: str
    signal: str
    priority: str
    title: str
    evidence: dict
    user_id: int | None
    raised_at: dt.datetime
    expires_at: dt.datetime
    book_owner_id: int | None = None  # the record's owner, CSM and liveness (HealthAlert.book_*)
    book_csm_id: int | None = None
    record_live: bool = True


class ChurnSignalRule(models.Model):
    """One churn signal (see `signals_rules.RULES` for the keys and their parameters)."""

    key = models.CharField(max_length=40, unique=True)
    enabled = models.BooleanField(default=True)
    priority = models.CharField(max_length=8, choices=HealthAlert.Priority.choices, default="medium")
    params = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.key


class BookScoreDay(models.Model):
    """A user's book of customers (those they own or are the CSM of) as a full recompute left it
    on a UTC day: the sum and count of its scores. The summary's average over time reads these, a
    row a day, instead of every account's history points (a book of 20k accounts over 90 days is
    1.8M points). The book is taken as it was that day: accounts moved to another CSM later do not
    rewrite the past."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()  # the UTC day of the recompute (one row a day: the latest run's)
    at = models.DateTimeField()
    total = models.FloatField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="book_score_day_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.count}"


class BookScore(models.Model):
    """A score's shown value (score, status, its tenth of the scale) once for each user whose book
    holds the record (its owner, its CSM), so that the health of a book, or of a team's books, is
    a grouped count over one index (`queries.health_summary`). `HealthScore` keeps no index on the
    score, so that its nightly rewrite of every row stays HOT on PostgreSQL; these narrow rows are
    written only when a score's value, status or book changes: by the recompute, and by
    `books.copy_scores` when the records change. `shared_with` is the record's other book user (an
    account owned by one user and CSM'd by another has two rows), so that a team holding both
    counts the account once."""

    record = models.ForeignKey(
        "crm.Record", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    profile = models.ForeignKey(
        ScoreProfile, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    user_id = models.BigIntegerField()  # not a foreign key: a CSM property may name any id
    shared_with = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=32, blank=True, default="")
    bucket = models.SmallIntegerField()  # 0–9: the score's tenth of 0–100 (the distribution)
    score = models.FloatField()  # scored records only

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "profile", "user_id"], name="book_score_unique"),
        ]
        # In GROUP BY order (user, profile, status, bucket): the summary reads it without a sort.
        indexes = [
            models.Index(
                fields=["user_id", "profile", "status", "bucket", "score", "shared_with"], name="book_score_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_id} in {self.user_id}'s book: {self.score} ({self.status})"


class RecomputeRun(models.Model):
    """A recompute job with its progress, visible in the UI and the CLI."""

    class Kind(models.TextChoices):
        FULL = "full", _("Full")
        INCREMENTAL = "incremental", _("Incremental")
        ACTIVATION = "activation", _("Activation")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField()
    run_after = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    profile = models.ForeignKey(ScoreProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            # Debouncing: at most one pending incremental run and one pending daily full run.
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(status="queued", kind__in=["incremental", "full"]),
                name="recompute_one_queued",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.done}/{self.total}"

    @property
    def progress(self) -> float:
        return (self.done / self.total) if self.total else (1.0 if self.status == self.Status.DONE else 0.0)


class DirtyAccount(models.Model):
    """An account whose health score must be recomputed (new events, NPS, tickets, engagement or
    property changes). The incremental recompute task drains this table."""

    record = models.OneToOneField("crm.Record", on_delete=models.CASCADE, related_name="+")
    marked_at = models.DateTimeField()
    reason = models.CharField(max_length=64, blank=True, default="")

    # No index on marked_at: the table holds the accounts waiting for the next run (small), and
    # every mark rewrites marked_at, so such an index would be updated on every ingested batch.

    def __str__(self) -> str:
        return f"{self.record_id} ({self.reason})"
