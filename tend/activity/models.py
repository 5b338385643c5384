"""Contact activity: one row per thing a contact did, with the contact's company copied onto it at
write time (the Feed reads a book's companies by time without a join), and who dismissed which row
from their Feed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityType(models.TextChoices):
    """The built-in activity types; any other slug is a custom type with its own label."""

    EMAIL_OPENED = "email_opened", _("Opened an email")
    EMAIL_CLICKED = "email_clicked", _("Clicked a link in an email")
    EMAIL_REPLIED = "email_replied", _("Replied to an email")
    PAGE_VIEWED = "page_viewed", _("Viewed a page")
    FORM_SUBMITTED = "form_submitted", _("Submitted a form")
    MEETING_BOOKED = "meeting_booked", _("Booked a meeting")
    DOCUMENT_VIEWED = "document_viewed", _("Viewed a document")
    SEQUENCE_ENROLLED = "sequence_enrolled", _("Enrolled in a sequence")
    SEQUENCE_UNENROLLED = "sequence_unenrolled", _("Unenrolled from a sequence")
    SEQUENCE_FINISHED = "sequence_finished", _("Finished a sequence")


SEQUENCE_TYPES = (
    ActivityType.SEQUENCE_ENROLLED.value,
    ActivityType.SEQUENCE_UNENROLLED.value,
    ActivityType.SEQUENCE_FINISHED.value,
)


class ActivitySource(models.TextChoices):
    SEGMENT = "segment", _("Segment")
    API = "api", _("API")
    EMAIL_TRACKING = "email_tracking", _("Email tracking")
    SEQUENCE = "sequence", _("Sequence")


class Activity(models.Model):
    """Something a contact did. Idempotent by `external_id` (the sender's id, prefixed by the
    source for Segment messages); `company` is the contact's primary company when it was written.
    No foreign-key constraints in the database, as for usage events: ingestion would lock the
    contact's and company's rows for every insert; deleting a record still deletes its activity."""

    type = models.CharField(_("type"), max_length=64)
    label = models.CharField(_("label"), max_length=200, blank=True, default="")  # custom types
    contact = models.ForeignKey(
        "crm.Record", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    company = models.ForeignKey(
        "crm.Record",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    asset_name = models.CharField(_("tool or asset"), max_length=200, blank=True, default="")
    asset_url = models.CharField(_("address"), max_length=2000, blank=True, default="")
    occurred_at = models.DateTimeField(_("time"))
    source = models.CharField(_("source"), max_length=20, choices=ActivitySource.choices)
    external_id = models.CharField(max_length=240)  # unique: see Meta
    properties = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The Feed: a book's companies newest first (company ranges, or the time order checked
            # against the book) and a contact's own activity.
            models.Index(fields=["company", "occurred_at", "id"], name="activity_company_time"),
            models.Index(fields=["contact", "occurred_at", "id"], name="activity_contact_time"),
            models.Index(fields=["occurred_at", "id"], name="activity_time"),
        ]
        constraints = [models.UniqueConstraint(fields=["external_id"], name="activity_external_id_unique")]
        verbose_name = _("contact activity")
        verbose_name_plural = _("contact activity")

    def __str__(self) -> str:
        return f"{self.type} {self.contact_id} {self.occurred_at:%Y-%m-%d}"

    @property
    def type_label(self) -> str:
        if self.type in ActivityType.values:
            return str(ActivityType(self.type).label)
        return self.label or self.type


class ActivityDismissal(models.Model):
    """A user removed an activity from their own Feed (undone by deleting the row)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+", db_index=False)
    dismissed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "activity"], name="activity_dismissal_unique")]
        verbose_name = _("dismissed activity")
        verbose_name_plural = _("dismissed activity")

    def __str__(self) -> str:
        return f"{self.user_id} × {self.activity_id}"
