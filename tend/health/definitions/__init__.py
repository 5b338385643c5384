"""What a score profile is made of: the JSON a profile's draft and each frozen version hold.

    {"groups": [{"key": "usage", "label": "Usage", "max": 20,
                 "criteria": [{"key": "logins", "label": "Logins per week",
                               "measure": {"kind": "event_rate", "events": ["Logged In"],
                                           "window_days": 28, "per": "week"},
                               "bands": [{"min": 3, "points": 20, "label": "≥ 3 / week"},
                                         {"min": 1, "points": 10, "label": "1–2 / week"},
                                         {"min": None, "points": 0, "label": "less"}]}]}],
     "statuses": [{"key": "healthy", "label": "Healthy", "min": 70, "color": "success", "action": "…"}, …],
     "missing_data": "exclude"}

Group maxima total 100; a criterion's points never exceed its group's maximum. Bands are read
top-down: the first band whose `min` is at most the value wins (`"min": null` matches every value);
category measures (enumerations, booleans, NPS category) use `"values": [...]` instead of `min`.

`catalogue` holds the measures, `statuses` the status keys and schemes, `template` the template
profile, `churn_rules` the churn-signal parameters, `validate` the checks of a whole definition and
`params` the parameter specs and checks they share.
"""
