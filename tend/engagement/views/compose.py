"""Composing and sending an email from a record (to its contacts, or typed addresses), with
email templates to start from or save as."""

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tend.core.errors import Forbidden, NotFound, ValidationFailed
from tend.crm.picker import records_by_ids
from tend.crm.views.shared import RecordAccess, record_view, require_edit

from ..mail import library, sending
from ..mail.variables import DOCUMENTED
from ..models import EmailTemplate
from .shared import INVALID_STATUS, done, field_errors, from_panel

_SEND_FIELDS = {"to", "cc", "subject", "body", "send", "template_name", "visibility"}


def _base_url(request) -> str:
    return settings.TEND_BASE_URL or request.build_absolute_uri("/").rstrip("/")


def _values(request) -> dict:
    data = request.POST if request.method == "POST" else request.GET
    return {
        "to": data.getlist("to"),
        "cc": data.getlist("cc"),
        "to_other": data.get("to_other", ""),
        "cc_other": data.get("cc_other", ""),
        "subject": data.get("subject", ""),
        "body": data.get("body", ""),
        "track": data.get("track") == "1" if "subject" in data else settings.TEND_EMAIL_TRACKING,
        "template": data.get("template", ""),
        "template_name": data.get("template_name", ""),
        "visibility": data.get("visibility", EmailTemplate.Visibility.PRIVATE),
        "records": [r for r in data.getlist("records") if r.isdigit()],  # associated besides the record
    }


def _compose(request, access: RecordAccess, values: dict, *, errors=None, status=200, message=""):
    errors = errors or {}
    recipients = sending.recipients_for(access.actor, access.record)
    if not values["to"] and not values["to_other"] and request.method == "GET" and "subject" not in request.GET:
        values["to"] = [r.email for r in recipients[:1]]
    context = {
        "access": access,
        "record": access.record,
        "object_type": access.object_type,
        "recipients": recipients,
        "templates": list(library.templates_for(access.actor)),
        "values": values,
        "errors": errors,
        "other_errors": [m for name, ms in errors.items() if name not in _SEND_FIELDS for m in ms],
        "variables": DOCUMENTED,
        "tracking_available": settings.TEND_EMAIL_TRACKING,
        "context": "panel" if from_panel(request) else "page",
        "message": message,
        "visibilities": EmailTemplate.Visibility.choices,
        "also": records_by_ids(access.actor, values["records"]),
    }
    return render(request, "engagement/_compose.html", context, status=status)


@require_http_methods(["GET", "POST"])
@record_view
def email_compose(request, access: RecordAccess):
    """GET: the composer (?template=<id> starts from a template); POST: send it (action=send) or
    save its subject and body as a template (action=save_template)."""
    require_edit(access)
    values = _values(request)
    if request.method == "GET":
        if values["template"]:
            try:
                template = library.get_template_for_user(access.actor, values["template"])
            except NotFound as exc:
                return _compose(request, access, values, errors={"template": [str(exc)]}, status=INVALID_STATUS)
            values |= {"subject": template.subject, "body": template.body}
        return _compose(request, access, values)
    if request.POST.get("action") == "save_template":
        try:
            template = library.email_template_create(
                actor=access.actor,
                name=values["template_name"],
                subject=values["subject"],
                body=values["body"],
                visibility=values["visibility"],
            )
        except ValidationFailed as exc:
            return _compose(request, access, values, errors=field_errors(exc.errors), status=INVALID_STATUS)
        except Forbidden as exc:  # sharing with everyone takes the settings permission
            return _compose(request, access, values, errors={"visibility": [str(exc)]}, status=INVALID_STATUS)
        values["template"] = str(template.pk)
        message = _("Template “%(name)s” saved.") % {"name": template.name}
        return _compose(request, access, values, message=message)
    try:
        sending.email_send(
            actor=access.actor,
            record=access.record,
            to=[*values["to"], values["to_other"]],
            cc=[*values["cc"], values["cc_other"]],
            subject=values["subject"],
            body=values["body"],
            track=values["track"],
            base_url=_base_url(request),
            also=[r.pk for r in records_by_ids(access.actor, values["records"])],
        )
    except ValidationFailed as exc:
        return _compose(request, access, values, errors=field_errors(exc.errors), status=INVALID_STATUS)
    return done(request, access, _("Email sent."))
