from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedConfig(AppConfig):
    """The Feed tab: what the contacts of a CSM's (or a team's) customers are doing."""

    name = "tend.feed"
    label = "feed"
    verbose_name = _("Feed")
