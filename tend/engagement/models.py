"""Engagements: tasks, meetings, notes, logged calls and emails, each linked to records."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tend.core import clock

User = settings.AUTH_USER_MODEL


class EngagementQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)


class Engagement(models.Model):
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = EngagementQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return str(getattr(self, "subject", None) or getattr(self, "title", None) or f"#{self.pk}")


def _day_bounds(tz: zoneinfo.ZoneInfo, offset: int = 0) -> tuple[dt.datetime, dt.datetime]:
    """The start and end (exclusive) of the local day `offset` days from today in `tz`, as
    aware datetimes: a day around a DST change is 23 or 25 hours long, never 24 by assumption."""
    day = clock.today(tz) + dt.timedelta(days=offset)
    return clock.start_of_day(day, tz), clock.start_of_day(day + dt.timedelta(days=1), tz)


class TaskQuerySet(EngagementQuerySet):
    """Named task states. "Today" is always a day in the given (the user's) time zone. Each
    state is also available as a Q (`TaskQuerySet.q_*`) so that one aggregate can count them all."""

    @staticmethod
    def q_open() -> models.Q:
        return ~models.Q(status=Task.Status.COMPLETED)

    @staticmethod
    def q_completed() -> models.Q:
        return models.Q(status=Task.Status.COMPLETED)

    @classmethod
    def q_overdue(cls, now: dt.datetime) -> models.Q:
        """Open tasks whose due time has passed (earlier today included)."""
        return cls.q_open() & models.Q(due_at__lt=now)

    @classmethod
    def q_due_on(cls, tz: zoneinfo.ZoneInfo, offset: int) -> models.Q:
        start, end = _day_bounds(tz, offset)
        return cls.q_open() & models.Q(due_at__gte=start, due_at__lt=end)

    @classmethod
    def q_upcoming(cls, tz: zoneinfo.ZoneInfo) -> models.Q:
        """Open tasks due after today (tomorrow included)."""
        return cls.q_open() & models.Q(due_at__gte=_day_bounds(tz, 1)[0])

    def assigned_to(self, user):
        return self.filter(assignee=user)

    def open(self):
        return self.filter(self.q_open())

    def completed(self):
        return self.filter(self.q_completed())

    def overdue(self, now: dt.datetime):
        return self.filter(self.q_overdue(now))

    def due_on(self, tz: zoneinfo.ZoneInfo, offset: int):
        return self.filter(self.q_due_on(tz, offset))

    def due_today(self, tz: zoneinfo.ZoneInfo):
        return self.due_on(tz, 0)

    def due_tomorrow(self, tz: zoneinfo.ZoneInfo):
        return self.due_on(tz, 1)

    def upcoming(self, tz: zoneinfo.ZoneInfo):
        return self.filter(self.q_upcoming(tz))


class Task(Engagement):
    class Type(models.TextChoices):
        TODO = "todo", _("To-do")
        CALL = "call", _("Call")
        EMAIL = "email", _("Email")

    class Priority(models.TextChoices):
        NONE = "none", _("None")
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting")
        DEFERRED = "deferred", _("Deferred")
        COMPLETED = "completed", _("Completed")

    subject = models.CharField(_("subject"), max_length=255)
    notes = models.TextField(_("notes"), blank=True, default="")
    type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.TODO)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, default=Priority.NONE)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    assignee = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    records = models.ManyToManyField("crm.Record", related_name="tasks", blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta(Engagement.Meta):
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_due"),
            # The Tasks tab: a user's live tasks by due time, pages stop after 25 entries and the
            # view counts read no table row (SQLite needs every column the query names, archived_at too).
            models.Index(
                fields=["assignee", "due_at", "id", "status", "archived_at"],
                name="task_assignee_live_due",
                condition=models.Q(archived_at__isnull=True),
            ),
            # The tab's other sortable default columns, read forwards or backwards (tasks.queries).
            *(
                models.Index(
                    fields=["assignee", column, "id", "status", "archived_at"],
                    name=f"task_live_{column}",
                    condition=models.Q(archived_at__isnull=True),
                )
                for column in ("subject", "priority", "type")
            ),
            models.Index(
                fields=["assignee", "status", "id", "archived_at"],
                name="task_live_status",
                condition=models.Q(archived_at__isnull=True),
            ),
            # Open tasks only (the Summary's today / overdue / tomorrow, the Tasks tab's open views):
            # "overdue" is every open task due before now, and in the index above that range also
            # holds every completed task of the user's history.
            models.Index(
                fields=["assignee", "due_at", "id"],
                name="task_open_due",
                condition=models.Q(archived_at__isnull=True) & ~models.Q(status="completed"),
            ),
        ]

    @property
    def is_completed(self) -> bool:
        return self.status == self.Status.COMPLETED


class TaskChange(models.Model):
    """One change of one property of one task (the task's history), whatever wrote it."""

    class Source(models.TextChoices):
        UI = "ui", _("Tend UI")
        API = "api", _("API")
        BULK = "bulk", _("Bulk action")
        IMPORT = "import", _("Import")
        AUTOMATION = "automation", _("Automation")
        SYSTEM = "system", _("System")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="changes")
    property = models.CharField(max_length=64)  # a task property name, or "created" / "archived"
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    changed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()
    source = models.CharField(max_length=16, choices=Source.choices)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["task", "changed_at"], name="taskchange_task_at")]

    def __str__(self) -> str:
        return f"{self.task_id}.{self.property}: {self.old_value!r} → {self.new_value!r}"


class Meeting(Engagement):
    class Outcome(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=255)
    notes = models.TextField(_("notes"), blank=True, default="")
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    location = models.CharField(_("location"), max_length=255, blank=True, default="")
    meeting_url = models.CharField(_("meeting URL"), max_length=500, blank=True, default="")
    attendees = models.JSONField(_("attendees"), default=list, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.SCHEDULED)
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings")
    records = models.ManyToManyField("crm.Record", related_name="meetings", blank=True)

    class Meta(Engagement.Meta):
        indexes = [
            models.Index(fields=["owner", "start_at"], name="meeting_owner_start"),
            # A day's meetings of an owner: those ending after the day starts are the owner's
            # coming meetings (a few hundred), where starting before its end is all their history.
            models.Index(
                fields=["owner", "end_at", "start_at"],
                name="meeting_owner_end",
                condition=models.Q(archived_at__isnull=True),
            ),
        ]


class MeetingAttendee(models.Model):
    """One attendee email of a meeting (lower-cased, as `Meeting.attendees` stores them), so that
    a user's invitations are found by an index rather than by a LIKE over every meeting's list.
    Written with the meeting's attendees by the engagement services; `attendees` stays the
    meeting's own value (its order, for the API and the forms)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendee_rows")
    email = models.CharField(max_length=254)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["email", "meeting"], name="meeting_attendee_unique")]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.email}"


class Note(Engagement):
    body = models.TextField(_("body"))
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="notes")
    records = models.ManyToManyField("crm.Record", related_name="notes", blank=True)


class Call(Engagement):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Outcome(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        BUSY = "busy", _("Busy")
        NO_ANSWER = "no_answer", _("No answer")
        LEFT_VOICEMAIL = "left_voicemail", _("Left voicemail")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    title = models.CharField(_("title"), max_length=255, blank=True, default="")
    body = models.TextField(_("notes"), blank=True, default="")
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices, default=Direction.OUTBOUND)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True, default="")
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    records = models.ManyToManyField("crm.Record", related_name="calls", blank=True)


class Email(Engagement):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Received")
        OUTBOUND = "outbound", _("Sent")

    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"), blank=True, default="")
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices, default=Direction.OUTBOUND)
    from_address = models.CharField(_("from"), max_length=254, blank=True, default="")
    to_addresses = models.JSONField(_("to"), default=list, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails")
    records = models.ManyToManyField("crm.Record", related_name="emails", blank=True)
    cc_addresses = models.JSONField(_("cc"), default=list, blank=True)
    reply_to = models.CharField(_("reply to"), max_length=254, blank=True, default="")
    # The Message-ID header of a sent email (with its angle brackets), how tracking finds it.
    message_id = models.CharField(_("message ID"), max_length=255, blank=True, default="")
    tracked = models.BooleanField(_("tracked"), default=False)
    links = models.JSONField(default=list, blank=True)  # the URLs a tracked email's redirects may lead to
    open_count = models.PositiveIntegerField(_("opens"), default=0)
    first_opened_at = models.DateTimeField(_("first opened"), null=True, blank=True)
    last_opened_at = models.DateTimeField(_("last opened"), null=True, blank=True)
    click_count = models.PositiveIntegerField(_("clicks"), default=0)
    first_clicked_at = models.DateTimeField(_("first clicked"), null=True, blank=True)
    last_clicked_at = models.DateTimeField(_("last clicked"), null=True, blank=True)

    class Meta(Engagement.Meta):
        indexes = [
            models.Index(fields=["message_id"], name="email_message_id", condition=~models.Q(message_id="")),
        ]


class EmailTemplate(models.Model):
    """A reusable subject and body for emails sent from records, with variables such as
    {{ contact.first_name }} (tend.engagement.mail.variables). Private to its owner or shared with
    everyone, like saved views."""

    class Visibility(models.TextChoices):
        PRIVATE = "private", _("Private")
        EVERYONE = "everyone", _("Everyone")

    name = models.CharField(_("name"), max_length=120)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_templates")
    visibility = models.CharField(
        _("shared with"), max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
