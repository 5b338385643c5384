"""What the advanced filter builder (the one filter language in the browser) needs: every property
with its operators and values, and the operators' names in the reader's language."""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from .filters import OPERATORS_BY_TYPE
from .models import PropertyType
from .registry import Registry


def operator_labels() -> dict[str, str]:
    """The filter builder's operator names, in the active language."""
    return {
        "EQ": _("is equal to"),
        "NEQ": _("is not equal to"),
        "LT": _("is less than"),
        "LTE": _("is less than or equal to"),
        "GT": _("is greater than"),
        "GTE": _("is greater than or equal to"),
        "BETWEEN": _("is between"),
        "IN": _("is any of"),
        "NOT_IN": _("is none of"),
        "HAS_PROPERTY": _("is known"),
        "NOT_HAS_PROPERTY": _("is unknown"),
        "CONTAINS_TOKEN": _("contains"),
        "NOT_CONTAINS_TOKEN": _("does not contain"),
        "IN_LAST_DAYS": _("is in the last N days"),
        "IN_NEXT_DAYS": _("is in the next N days"),
        "IS_ME": _("is me"),
        "IN_MY_TEAM": _("is me or someone who reports to me"),
    }


def builder_schema(registry: Registry, users: Iterable) -> dict:
    """What the advanced filter builder and the column editor need: properties, operators, values."""
    users = list(users)
    properties = []
    for spec in registry:
        options = [{"value": o["value"], "label": _(o["label"])} for o in spec.options]
        if spec.type == PropertyType.USER:
            options = [{"value": u.pk, "label": u.display_name} for u in users]
        properties.append(
            {
                "name": spec.name,
                "label": str(_(spec.label)),
                "type": spec.type,
                "operators": sorted(OPERATORS_BY_TYPE[spec.type]),
                "options": options,
            }
        )
    return {"properties": properties, "operators": operator_labels()}
