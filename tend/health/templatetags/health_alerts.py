"""`{{ alert|alert_text }}`: an alert's title and evidence sentence in the viewer's language."""

from django import template

from tend.health.alert_text import AlertText
from tend.health.alert_text import alert_text as _alert_text
from tend.health.models import HealthAlert

register = template.Library()


@register.filter
def alert_text(alert: HealthAlert) -> AlertText:
    return _alert_text(alert)
