"""Calendar subscriptions: private, revocable ICS feed URLs of a user's tasks and meetings."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarFeedQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def owned_by(self, user):
        return self.filter(user=user)


class CalendarFeed(models.Model):
    """One subscription URL. Only a SHA-256 hash of its secret is stored (like API tokens): the
    URL is shown once, when it is created; a lost URL is replaced by creating a new one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(max_length=16, help_text=_("The first characters of the secret, to recognise it."))
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar subscription")
        verbose_name_plural = _("calendar subscriptions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
