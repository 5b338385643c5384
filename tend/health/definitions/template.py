"""The template profile offered to new workspaces, and the empty definition of a new draft."""

from django.utils.translation import gettext_noop as _

from .statuses import status_schemes
from .texts import builtin


def _band(points: int, label: str, minimum=None, values=None) -> dict:
    band = builtin({"points": points}, label=label)
    if values is not None:
        band["values"] = values
    else:
        band["min"] = minimum
    return band


def _label(label: str) -> dict:
    return {"label": label, "builtin": {"label": label}}


def template(renewal_property: str = "renewal_date") -> dict:
    """The template profile (from our users' practice); its labels are built-in texts, stored as
    their message ids and read in the viewer's language (`texts.text`)."""
    return {
        "groups": [
            {
                "key": "usage",
                **_label(_("Usage")),
                "max": 20,
                "criteria": [
                    {
                        "key": "logins",
                        **_label(_("Logins per week")),
                        "measure": {"kind": "event_rate", "events": ["Logged In"], "window_days": 28, "per": "week"},
                        "bands": [
                            _band(20, _("3 or more a week"), 3),
                            _band(10, _("1–2 a week"), 1),
                            _band(0, _("less than weekly"), None),
                        ],
                    }
                ],
            },
            {
                "key": "depth",
                **_label(_("Depth")),
                "max": 15,
                "criteria": [
                    {
                        "key": "features",
                        **_label(_("Features used (30 days)")),
                        "measure": {"kind": "distinct_features", "window_days": 30, "events": []},
                        "bands": [
                            _band(15, _("5 or more"), 5),
                            _band(10, _("3–4"), 3),
                            _band(5, _("1–2"), 1),
                            _band(0, _("none"), None),
                        ],
                    }
                ],
            },
            {
                "key": "engagement",
                **_label(_("Engagement")),
                "max": 15,
                "criteria": [
                    {
                        "key": "meetings",
                        **_label(_("Meeting attendance (90 days)")),
                        "measure": {"kind": "meetings_attended", "window_days": 90},
                        "bands": [
                            _band(15, _("always"), 1),
                            _band(10, _("sometimes"), 0.01),
                            _band(0, _("never"), None),
                        ],
                    }
                ],
            },
            {
                "key": "support",
                **_label(_("Support")),
                "max": 15,
                "criteria": [
                    {
                        "key": "csat",
                        **_label(_("Ticket satisfaction (90 days)")),
                        "measure": {"kind": "ticket_csat", "window_days": 90},
                        "bands": [
                            _band(15, _("satisfied (4–5)"), 4),
                            _band(10, _("neutral (3)"), 3),
                            _band(0, _("unsatisfied"), None),
                        ],
                    }
                ],
            },
            {
                "key": "nps",
                **_label(_("NPS")),
                "max": 15,
                "criteria": [
                    {
                        "key": "nps",
                        **_label(_("Latest NPS")),
                        "measure": {"kind": "nps_latest", "survey": "nps"},
                        "bands": [
                            _band(15, _("promoter"), values=["promoter"]),
                            _band(10, _("passive"), values=["passive"]),
                            _band(0, _("detractor"), values=["detractor"]),
                        ],
                    }
                ],
            },
            {
                "key": "contract",
                **_label(_("Contract")),
                "max": 10,
                "criteria": [
                    {
                        "key": "renewal",
                        **_label(_("Time to renewal")),
                        "measure": {"kind": "days_until", "property": renewal_property},
                        "bands": [
                            _band(10, _("6 months or more"), 180),
                            _band(5, _("3–6 months"), 90),
                            _band(0, _("less than 3 months"), None),
                        ],
                    }
                ],
            },
            {
                "key": "outcomes",
                **_label(_("Outcomes")),
                "max": 10,
                "criteria": [
                    {
                        "key": "goal",
                        **_label(_("Onboarding goal")),
                        "measure": {
                            "kind": "associated_property",
                            "object_type": "services",
                            "property": "goal_status",
                        },
                        "bands": [
                            _band(10, _("achieved"), values=["achieved"]),
                            _band(5, _("in progress"), values=["in_progress"]),
                            _band(0, _("not started"), values=["not_started"]),
                        ],
                    }
                ],
            },
        ],
        "statuses": status_schemes()["three"],
        "missing_data": "exclude",
    }


def empty_definition() -> dict:
    return {"groups": [], "statuses": status_schemes()["three"], "missing_data": "exclude"}
