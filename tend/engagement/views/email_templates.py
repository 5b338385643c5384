"""The email templates screen: the user's own templates and those shared with everyone; create,
change, share and delete (the policy's EDIT_EMAIL_TEMPLATE decides which)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tend.core import policy
from tend.core.errors import Forbidden, NotFound, ValidationFailed
from tend.core.web import viewing, workspace_view

from ..mail import library
from ..mail.variables import DOCUMENTED
from ..models import EmailTemplate
from .shared import INVALID_STATUS, field_errors


def _page(request, current, *, editing=None, values=None, errors=None, status=200):
    templates = list(library.templates_for(current.actor))
    for template in templates:
        template.can_edit = current.can_act and policy.allows(
            current.actor, policy.Action.EDIT_EMAIL_TEMPLATE, template
        )
    context = {
        "templates": templates,
        "editing": editing,
        "values": values or {"name": "", "subject": "", "body": "", "visibility": EmailTemplate.Visibility.PRIVATE},
        "errors": errors or {},
        "visibilities": EmailTemplate.Visibility.choices,
        "can_share": policy.allows(current.actor, policy.Action.MANAGE_CS_SETTINGS),
        "can_act": current.can_act,
        "variables": DOCUMENTED,
    }
    return render(request, "engagement/email_templates.html", context, status=status)


def _posted(request) -> dict:
    return {name: request.POST.get(name, "") for name in ("name", "subject", "body", "visibility")}


@workspace_view
@require_http_methods(["GET", "POST"])
def template_list(request):
    current = viewing(request)
    if request.method == "GET":
        return _page(request, current)
    if not current.can_act:
        return _page(request, current, errors={"form": [_("You are viewing as another user.")]}, status=403)
    values = _posted(request)
    try:
        template = library.email_template_create(actor=current.actor, **values)
    except ValidationFailed as exc:
        errors = field_errors(exc.errors, {"template_name": "name"})
        return _page(request, current, values=values, errors=errors, status=INVALID_STATUS)
    except Forbidden as exc:
        return _page(request, current, values=values, errors={"visibility": [str(exc)]}, status=INVALID_STATUS)
    messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
    return redirect("email-templates")


@workspace_view
@require_http_methods(["GET", "POST"])
def template_edit(request, template_id: int):
    current = viewing(request)
    try:
        template = library.get_template_for_user(current.actor, template_id)
    except NotFound:
        messages.error(request, _("That template was deleted or is not shared with you."))
        return redirect("email-templates")
    if request.method == "GET":
        values = {"name": template.name, "subject": template.subject, "body": template.body}
        return _page(request, current, editing=template, values=values | {"visibility": template.visibility})
    if not current.can_act:
        return _page(request, current, errors={"form": [_("You are viewing as another user.")]}, status=403)
    if request.POST.get("action") == "delete":
        library.email_template_archive(actor=current.actor, template=template)
        messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
        return redirect("email-templates")
    values = _posted(request)
    try:
        library.email_template_update(actor=current.actor, template=template, **values)
    except ValidationFailed as exc:
        errors = field_errors(exc.errors, {"template_name": "name"})
        return _page(request, current, editing=template, values=values, errors=errors, status=INVALID_STATUS)
    except Forbidden as exc:
        errors = {"visibility": [str(exc)]}
        return _page(request, current, editing=template, values=values, errors=errors, status=INVALID_STATUS)
    messages.success(request, _("Template “%(name)s” saved.") % {"name": values["name"].strip()})
    return redirect("email-templates")
