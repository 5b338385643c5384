"""Notifications: what a person's bell tells them (an alert on their account, a task assigned to
them, a mention in a note, a workflow's message), their preferences and the daily digests sent."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> "NotificationQuerySet":
        return self.filter(user=user)

    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One thing one user is told. The text is composed when shown, in the reader's language, from
    `key` and `params` (tend.notifications.text); `event` makes telling it twice a no-op."""

    class Kind(models.TextChoices):
        ALERT = "alert", _("Alerts on your accounts")
        TASK_ASSIGNED = "task_assigned", _("Tasks assigned to you")
        MENTION = "mention", _("Mentions of you in notes")
        WORKFLOW = "workflow", _("Workflow notifications")
        CUSTOM = "custom", _("Other notifications")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The record it is about (the account of an alert, a task's or note's first record).
    record = models.ForeignKey("crm.Record", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    key = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=500, blank=True, default="")
    event = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="notification_user_event")]
        indexes = [
            # The bell's unread count and every list (all, unread, one kind) newest first.
            models.Index(fields=["user", "read_at", "created_at"], name="notification_user_read"),
            models.Index(fields=["user", "created_at", "id"], name="notification_user_created"),
            models.Index(fields=["user", "kind", "created_at", "id"], name="notification_user_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}: {self.event}"


class NotificationSettings(models.Model):
    """A user's choices: which kinds they are told about and whether they get the daily digest.
    No row means the defaults (every kind on, no digest)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="notification_settings"
    )
    alert = models.BooleanField(_("Alerts on your accounts"), default=True)
    task_assigned = models.BooleanField(_("Tasks assigned to you"), default=True)
    mention = models.BooleanField(_("Mentions of you in notes"), default=True)
    workflow = models.BooleanField(_("Workflow notifications"), default=True)
    digest = models.BooleanField(_("Daily email digest"), default=False)
    # The last day (UTC) a digest went to this user: one a day, however often the job runs.
    digest_sent_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"notification settings of {self.user_id}"


# Kinds a user can turn off (custom ones come from Tend's operators and always arrive).
OPTIONAL_KINDS = (
    Notification.Kind.ALERT,
    Notification.Kind.TASK_ASSIGNED,
    Notification.Kind.MENTION,
    Notification.Kind.WORKFLOW,
)


class DigestRun(models.Model):
    """One day's digest job (UTC day): queued once, so that the daily chain never doubles."""

    day = models.DateField(unique=True)
    run_after = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"digest {self.day}"
