"""Churn-signal rules: their labels, descriptions, default priority and parameters, and the check
of a rule's parameters."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from tend.core.errors import FieldError, ValidationFailed

from .params import EVENTS, Param, clean_param, raise_errors

SIGNAL_LABELS = {
    "logins_drop": gettext_lazy("Logins dropped"),
    "tickets_spike": gettext_lazy("Ticket spike"),
    "nps_drop": gettext_lazy("NPS dropped"),
    "meetings_missed": gettext_lazy("Meetings missed"),
    "key_contact_left": gettext_lazy("Key contact left"),
    "renewal_soon": gettext_lazy("Renewal coming up"),
}

SIGNAL_DESCRIPTIONS = {
    "logins_drop": gettext_lazy(
        "Logins in the last N days are at most a share (e.g. 50%) of the N days before "
        "(when the earlier period had at least a minimum number of logins)."
    ),
    "tickets_spike": gettext_lazy(
        "Tickets created this calendar month are at least a factor (e.g. 2×) of last month's, and at least a minimum."
    ),
    "nps_drop": gettext_lazy("The latest survey answer is at least N points below the one before it."),
    "meetings_missed": gettext_lazy("The last N held meetings were all no-shows."),
    "key_contact_left": gettext_lazy("An associated key contact is flagged “Left the company”."),
    "renewal_soon": gettext_lazy("The renewal date is within the next N days (informational)."),
}

# key → (priority, default params, param specs)
SIGNAL_DEFAULTS: dict[str, tuple[str, dict, tuple[Param, ...]]] = {
    "logins_drop": (
        "high",
        {"events": ["Logged In"], "window_days": 30, "max_ratio": 0.5, "min_previous": 4},
        (
            EVENTS,
            Param("window_days", gettext_noop("Window (days)"), "int", default=30, minimum=1, maximum=180),
            Param("max_ratio", gettext_noop("At most this share of the period before"), "number", default=0.5),
            Param(
                "min_previous",
                gettext_noop("Minimum logins in the period before"),
                "int",
                default=4,
                minimum=1,
                maximum=1_000_000,
            ),
        ),
    ),
    "tickets_spike": (
        "medium",
        {"factor": 2, "min_tickets": 2},
        (
            Param("factor", gettext_noop("At least this many times last month"), "number", default=2),
            Param(
                "min_tickets",
                gettext_noop("At least this many tickets this month"),
                "int",
                default=2,
                minimum=1,
                maximum=100_000,
            ),
        ),
    ),
    "nps_drop": (
        "high",
        {"points": 3, "survey": "nps"},
        (
            Param("points", gettext_noop("Drop of at least (points)"), "int", default=3, minimum=1, maximum=10),
            Param("survey", gettext_noop("Survey"), "text", required=False, default="nps"),
        ),
    ),
    "meetings_missed": (
        "medium",
        {"count": 2},
        (Param("count", gettext_noop("Consecutive no-shows"), "int", default=2, minimum=1, maximum=10),),
    ),
    "key_contact_left": ("high", {}, ()),
    "renewal_soon": (
        "info",
        {"days": 90},
        (Param("days", gettext_noop("Within (days)"), "int", default=90, minimum=1, maximum=730),),
    ),
}


def signal_params_schema(key: str) -> list[dict]:
    return [
        {"name": p.name, "label": _(p.label), "type": p.type, "default": p.default, "minimum": p.minimum}
        for p in SIGNAL_DEFAULTS[key][2]
    ]


def validate_signal_params(key: str, params) -> dict:
    """Check a churn-signal rule's params; returns them completed with defaults."""
    errors: list[FieldError] = []
    if not isinstance(params, dict):
        raise ValidationFailed.single("params", _("params must be an object."))
    _priority, defaults, specs = SIGNAL_DEFAULTS[key]
    known = {p.name for p in specs}
    for name in params:
        if name not in known:
            errors.append(FieldError(f"params.{name}", _("Unknown parameter %(name)s.") % {"name": name}, "unknown"))
    cleaned = dict(defaults)
    for spec in specs:
        if spec.name in params:
            cleaned[spec.name] = clean_param(spec, params[spec.name], f"params.{spec.name}", errors)
    raise_errors(errors)
    return cleaned


# --------------------------------------------------------------------------- validation
