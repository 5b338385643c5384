"""What an alert says, composed when it is shown: its title and a sentence of its evidence in the
viewer's language, with numbers in their locale and dates in their locale and time zone.

An alert row keeps the message's key (its kind and signal) and its parameters (the evidence);
the `title` column holds an English summary for the API and older readers. Alerts whose evidence
this module does not know (older rows, hand-made ones) read as their stored title."""

import datetime as dt
from typing import NamedTuple

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .definitions.churn_rules import SIGNAL_LABELS
from .definitions.statuses import STATUS_KEYS, status_schemes
from .definitions.texts import text
from .models import HealthAlert


class AlertText(NamedTuple):
    title: str
    evidence: str  # a sentence (or two); "" when the alert has nothing more to say


def alert_text(alert: HealthAlert) -> AlertText:
    """The alert's title and evidence sentence in the active language and time zone (no query)."""
    evidence = alert.evidence if isinstance(alert.evidence, dict) else {}
    try:
        if alert.kind == HealthAlert.Kind.STATUS_CHANGE and evidence.get("to_status"):
            return _status_change(evidence)
        if alert.kind == HealthAlert.Kind.CHURN_SIGNAL and alert.signal in _SIGNALS:
            return AlertText(str(SIGNAL_LABELS[alert.signal]), _SIGNALS[alert.signal](evidence))
    except (KeyError, TypeError, ValueError):
        pass  # evidence of another shape: the stored title says it
    return AlertText(alert.title, "")


def _number(value) -> str:
    if isinstance(value, float):
        value = int(value) if value.is_integer() else round(value, 1)
    return formats.number_format(value, use_l10n=True, force_grouping=True)


def _day(value: str) -> str:
    """An ISO date, or an ISO moment read as the viewer's day, in their short date format."""
    if "T" in value:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        day = timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
    else:
        day = dt.date.fromisoformat(value)
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def _builtin_actions() -> set[str]:
    return {status["action"] for scheme in status_schemes().values() for status in scheme}


def _status_label(evidence: dict, side: str) -> str:
    if f"{side}_label" in evidence:
        return text(evidence, f"{side}_label")
    key = evidence.get(f"{side}_status") or ""  # alerts raised before labels were kept
    return str(STATUS_KEYS.get(key, key))


def _status_change(evidence: dict) -> AlertText:
    title = _("Health changed from %(old)s to %(new)s") % {
        "old": _status_label(evidence, "from"),
        "new": _status_label(evidence, "to"),
    }
    parts = []
    before, after = evidence.get("from_score"), evidence.get("to_score")
    if before is not None and after is not None:
        params = {"from": _number(before), "to": _number(after)}
        if after < before:
            parts.append(_("The score fell from %(from)s to %(to)s.") % params)
        elif after > before:
            parts.append(_("The score rose from %(from)s to %(to)s.") % params)
    action = text(evidence, "action")
    if action and "builtin" not in evidence and action in _builtin_actions():
        action = _(action)  # an older alert: its action was stored as the built-in text
    if action:
        parts.append(_("Next step: %(action)s") % {"action": action})
    return AlertText(title, " ".join(parts))


def _logins_drop(e: dict) -> str:
    days = int(e["window_days"])
    return ngettext(
        "Logins in the last day: %(last)s, down from %(previous)s the day before.",
        "Logins in the last %(days)s days: %(last)s, down from %(previous)s in the %(days)s days before.",
        days,
    ) % {"days": _number(days), "last": _number(e["last"]), "previous": _number(e["previous"])}


def _tickets_spike(e: dict) -> str:
    return _("Tickets this month: %(this)s, against %(last)s last month.") % {
        "this": _number(e["this_month"]),
        "last": _number(e["last_month"]),
    }


def _nps_drop(e: dict) -> str:
    return _("The latest answer is %(to)s (%(to_date)s), down from %(from)s (%(from_date)s).") % {
        "to": _number(e["to"]),
        "to_date": _day(e["to_at"]),
        "from": _number(e["from"]),
        "from_date": _day(e["from_at"]),
    }


def _meetings_missed(e: dict) -> str:
    meetings = e["meetings"]
    latest = max(m["start_at"] for m in meetings)
    return ngettext(
        "The last scheduled meeting (%(date)s) was missed.",
        "The last %(n)s scheduled meetings were all missed, the latest on %(date)s.",
        len(meetings),
    ) % {"n": _number(len(meetings)), "date": _day(latest)}


def _key_contact_left(e: dict) -> str:
    contacts = e["contacts"]
    names = ", ".join(c.get("name") or f"#{c['id']}" for c in contacts)
    return ngettext("%(names)s has left the company.", "%(names)s have left the company.", len(contacts)) % {
        "names": names
    }


def _renewal_soon(e: dict) -> str:
    days, date = int(e["days"]), _day(e["renewal_date"])
    if days == 0:
        return _("The renewal is today (%(date)s).") % {"date": date}
    return ngettext("The renewal is in %(n)s day, on %(date)s.", "The renewal is in %(n)s days, on %(date)s.", days) % {
        "n": _number(days),
        "date": date,
    }


_SIGNALS = {
    "logins_drop": _logins_drop,
    "tickets_spike": _tickets_spike,
    "nps_drop": _nps_drop,
    "meetings_missed": _meetings_missed,
    "key_contact_left": _key_contact_left,
    "renewal_soon": _renewal_soon,
}
