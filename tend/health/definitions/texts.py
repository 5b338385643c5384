"""Built-in texts of a definition. The template's and the status schemes' labels (and a status's
action) are stored as their English message ids, with a `builtin` entry naming them, and are read
in the viewer's language while they are unchanged; a text an admin typed is shown as typed.

    {"key": "healthy", "label": "Healthy", "builtin": {"label": "Healthy"}, …}
"""

import copy

from django.utils.translation import gettext

BUILTIN = "builtin"
TEXT_FIELDS = ("label", "action")


def builtin(item: dict, **texts: str) -> dict:
    """Mark `texts` (field → English message id) as the item's built-in texts."""
    item.update(texts)
    item[BUILTIN] = dict(texts)
    return item


def text(item: dict, field: str = "label") -> str:
    """The item's `field` as the viewer reads it: translated while it is the built-in text."""
    value = item.get(field) or ""
    source = (item.get(BUILTIN) or {}).get(field)
    if source and value == source:
        return gettext(source)
    return value


def _localize(item: dict) -> None:
    for field in item.get(BUILTIN) or {}:
        if field in TEXT_FIELDS and field in item:
            item[field] = text(item, field)


def localized(definition: dict) -> dict:
    """A copy of a definition with its unchanged built-in texts in the active language, for the
    screens and the editor (saving it stores the message ids again, see `keep_builtin`)."""
    out = copy.deepcopy(definition or {})
    for group in out.get("groups") or []:
        if not isinstance(group, dict):
            continue
        _localize(group)
        for criterion in group.get("criteria") or []:
            if not isinstance(criterion, dict):
                continue
            _localize(criterion)
            for band in criterion.get("bands") or []:
                if isinstance(band, dict):
                    _localize(band)
    for status in out.get("statuses") or []:
        if isinstance(status, dict):
            _localize(status)
    return out


def localized_status(status: dict | None) -> dict | None:
    if status is None:
        return None
    out = dict(status)
    _localize(out)
    return out


def keep_builtin(raw: dict, cleaned: dict) -> dict:
    """Carry the built-in marks of `raw` over to its validated copy: a text still equal to its
    message id, or to the id's translation in the active language (the editor shows those), is
    stored as the id and stays built-in; a text the admin changed is theirs from then on."""
    marks = raw.get(BUILTIN)
    if not isinstance(marks, dict):
        return cleaned
    kept = {}
    for field, source in marks.items():
        if field not in TEXT_FIELDS or not isinstance(source, str) or not source or len(source) > 500:
            continue
        if cleaned.get(field) in (source, gettext(source)):
            cleaned[field] = source
            kept[field] = source
    if kept:
        cleaned[BUILTIN] = kept
    return cleaned
