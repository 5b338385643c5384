"""Score statuses: the keys a profile may use and the two schemes offered."""

from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as _

from .texts import builtin

COLORS = ("success", "info", "primary", "warning", "orange", "danger", "secondary")

# Every status key a profile may use; the built-in `health_status` property offers exactly these.
STATUS_KEYS = {
    "healthy": gettext_lazy("Healthy"),
    "neutral": gettext_lazy("Neutral"),
    "at_risk": gettext_lazy("At risk"),
    "green": gettext_lazy("Green"),
    "yellow": gettext_lazy("Yellow"),
    "orange": gettext_lazy("Orange"),
    "red": gettext_lazy("Red"),
}


def _status(key: str, label: str, minimum: float, color: str, action: str) -> dict:
    return builtin({"key": key, "min": minimum, "color": color}, label=label, action=action)


def status_schemes() -> dict[str, list[dict]]:
    """The two status schemes users know: three bands (as in HubSpot) or four colour bands. Labels
    and actions are built-in texts (`texts.text` reads them in the viewer's language)."""
    return {
        "three": [
            _status("healthy", _("Healthy"), 70, "success", _("Look for expansion and ask for a reference.")),
            _status("neutral", _("Neutral"), 40, "warning", _("Review usage and plan a check-in.")),
            _status("at_risk", _("At risk"), 0, "danger", _("Call the customer and agree on a recovery plan.")),
        ],
        "four": [
            _status("green", _("Green"), 80, "success", _("Look for expansion and ask for a reference.")),
            _status("yellow", _("Yellow"), 60, "warning", _("Keep the cadence; check adoption of new features.")),
            _status("orange", _("Orange"), 40, "orange", _("Plan a check-in and review usage with the customer.")),
            _status("red", _("Red"), 0, "danger", _("Escalate: call the customer and agree on a recovery plan.")),
        ],
    }
