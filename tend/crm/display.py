"""How property values read to a person: labels for options, users and stages, dates in the
viewer's time zone, numbers in their locale. One place, used by tables, panels and pages."""

import datetime as dt
import functools

from babel import Locale
from babel.numbers import format_currency
from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from tend.directory.models import User

from .models import PropertyType, Stage
from .registry import PIPELINE, STAGE, PropSpec, Registry, derived_value


class Badge(str):
    """Text that tables show as a coloured badge (the health status); `badge` is its colour."""

    badge = "secondary"

    def __new__(cls, text: str, badge: str):
        value = super().__new__(cls, text)
        value.badge = badge
        return value


# The colours of the built-in `health_status` keys (as in the default status schemes).
HEALTH_STATUS_COLORS = {
    "healthy": "success",
    "green": "success",
    "neutral": "warning",
    "yellow": "warning",
    "orange": "orange",
    "at_risk": "danger",
    "red": "danger",
}


class Formatter:
    """Formats values of many records with a fixed number of queries (users and stages are
    loaded once, for all rows)."""

    def __init__(self, registry: Registry, users=None):
        self.registry = registry
        # Callers that already loaded the users (e.g. for a user picker) pass them in.
        self._users: dict[int, str] | None = {u.pk: u.display_name for u in users} if users is not None else None
        self._stages: dict[int, str] | None = None
        self._pipelines: dict[int, str] | None = None

    def _user_names(self) -> dict[int, str]:
        if self._users is None:
            self._users = {u.pk: u.display_name for u in User.objects.only("pk", "email", "full_name")}
        return self._users

    def _stage_labels(self):
        if self._stages is None:
            stages = Stage.objects.filter(pipeline__object_type=self.registry.object_type).select_related("pipeline")
            self._stages, self._pipelines = {}, {}
            for stage in stages:
                self._stages[stage.pk] = _(stage.label)
                self._pipelines[stage.pipeline_id] = _(stage.pipeline.label)
        return self._stages, self._pipelines

    def raw(self, record, name: str):
        spec = self.registry.get(name)
        if spec is None:
            return None
        if spec.is_derived:
            return derived_value(record, spec.column)
        if spec.is_column:
            return getattr(record, spec.column)
        return record.properties.get(name)

    def text(self, record, name: str) -> str:
        spec = self.registry.get(name)
        if spec is None:
            return ""
        raw = self.raw(record, name)
        if name == "health_score" and isinstance(raw, float):
            # Scores keep one decimal; a whole score reads as a whole number.
            raw = int(raw) if raw.is_integer() else round(raw, 1)
        text = self.format(spec, raw)
        if name == "health_status" and text:
            return Badge(text, HEALTH_STATUS_COLORS.get(self.raw(record, name), "secondary"))
        return text

    def format(self, spec: PropSpec, value) -> str:
        if value is None or value == "" or value == []:
            return ""
        match spec.type:
            case PropertyType.USER:
                return self._user_names().get(int(value), _("Unknown user"))
            case PropertyType.ENUMERATION:
                return _option_label(spec, value)
            case PropertyType.MULTI_ENUMERATION:
                return ", ".join(_option_label(spec, v) for v in value)
            case PropertyType.BOOLEAN:
                return _("Yes") if value else _("No")
            case PropertyType.DATE:
                return formats.date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
            case PropertyType.DATETIME:
                moment = (
                    value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                )
                return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
            case PropertyType.NUMBER:
                return formats.number_format(value, use_l10n=True, force_grouping=True)
            case PropertyType.CURRENCY:
                return money(value)
            case _ if spec.type == STAGE:
                return self._stage_labels()[0].get(value, "")
            case _ if spec.type == PIPELINE:
                return self._stage_labels()[1].get(value, "")
        return str(value)


def money(value) -> str:
    """An amount in the workspace currency, written the way the reader's language writes money."""
    return format_currency(value, settings.TEND_CURRENCY, locale=_babel_locale(translation.get_language()))


@functools.cache
def _babel_locale(language: str | None) -> Locale:
    # Parsing the locale is most of a call's cost; a board formats a hundred amounts.
    return Locale.parse(translation.to_locale(language or settings.LANGUAGE_CODE))


def _option_label(spec: PropSpec, value) -> str:
    for option in spec.options:
        if option["value"] == value:
            return _(option["label"])
    return str(value)
