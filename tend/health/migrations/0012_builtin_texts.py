"""Profiles keep Tend's own texts as message ids read in the viewer's language: a name, label or
action still equal to a built-in text (in any shipped language, as it was stored in the creator's)
is stored as the English id with its built-in mark."""

from django.conf import settings
from django.db import migrations, models
from django.utils import translation


def _builtin_maps() -> tuple[dict, dict]:
    from tend.health.definitions.statuses import status_schemes
    from tend.health.definitions.template import template

    texts: set[str] = {"any other value"}

    def collect(item: dict) -> None:
        texts.update(v for v in (item.get("builtin") or {}).values())

    definition = template()
    for group in definition["groups"]:
        collect(group)
        for criterion in group["criteria"]:
            collect(criterion)
            for band in criterion["bands"]:
                collect(band)
    for scheme in status_schemes().values():
        for status in scheme:
            collect(status)
    names = {"Standard health", "Customer health"}
    text_map: dict[str, str] = {}
    name_map: dict[str, str] = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for msgid in texts:
                text_map.setdefault(translation.gettext(msgid), msgid)
            for msgid in names:
                name_map.setdefault(translation.gettext(msgid), msgid)
    return text_map, name_map


def _mark(item, fields, text_map) -> bool:
    if not isinstance(item, dict) or item.get("builtin"):
        return False
    marks = {}
    for field in fields:
        value = item.get(field)
        if isinstance(value, str) and value in text_map:
            marks[field] = item[field] = text_map[value]
    if marks:
        item["builtin"] = marks
    return bool(marks)


def _mark_definition(definition, text_map) -> bool:
    if not isinstance(definition, dict):
        return False
    changed = False
    for group in definition.get("groups") or []:
        changed |= _mark(group, ("label",), text_map)
        for criterion in (group.get("criteria") or []) if isinstance(group, dict) else []:
            changed |= _mark(criterion, ("label",), text_map)
            for band in (criterion.get("bands") or []) if isinstance(criterion, dict) else []:
                changed |= _mark(band, ("label",), text_map)
    for status in definition.get("statuses") or []:
        changed |= _mark(status, ("label", "action"), text_map)
    return changed


def forwards(apps, schema_editor):
    ScoreProfile = apps.get_model("health", "ScoreProfile")
    ProfileVersion = apps.get_model("health", "ProfileVersion")
    if not ScoreProfile.objects.exists():
        return
    text_map, name_map = _builtin_maps()
    for profile in ScoreProfile.objects.all():
        fields = []
        if _mark_definition(profile.draft, text_map):
            fields.append("draft")
        if profile.name in name_map:
            profile.name = profile.builtin_name = name_map[profile.name]
            fields += ["name", "builtin_name"]
        if fields:
            profile.save(update_fields=fields)
    for version in ProfileVersion.objects.all():
        if _mark_definition(version.definition, text_map):
            version.save(update_fields=["definition"])


class Migration(migrations.Migration):
    dependencies = [("health", "0011_book_score_days")]

    operations = [
        migrations.AddField(
            model_name="scoreprofile",
            name="builtin_name",
            field=models.CharField(blank=True, default="", max_length=120),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
