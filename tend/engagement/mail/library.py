"""Email templates: reads scoped to the user and the writes (private to their owner or shared
with everyone, like saved views; the policy's EDIT_EMAIL_TEMPLATE decides who changes which)."""

from types import SimpleNamespace

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import FieldError, NotFound, ValidationFailed
from tend.core.policy import Actor
from tend.crm.models import ObjectType
from tend.crm.registry import registry_for
from tend.cs_settings.queries import workspace_settings

from ..models import EmailTemplate
from .variables import check_names


def templates_for(actor: Actor) -> QuerySet[EmailTemplate]:
    """The live templates the actor may use: their own and those shared with everyone."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    user_id = actor.user.pk if actor.user is not None else None
    mine_or_shared = Q(owner_id=user_id) | Q(visibility=EmailTemplate.Visibility.EVERYONE)
    return EmailTemplate.objects.filter(mine_or_shared, archived_at__isnull=True).select_related("owner")


def get_template_for_user(actor: Actor, template_id: object) -> EmailTemplate:
    try:
        pk = int(str(template_id))
    except ValueError:
        pk = 0
    template = templates_for(actor).filter(pk=pk).first()
    if template is None:
        raise NotFound(_("No email template %(id)s.") % {"id": template_id})
    return template


def _validated(name: str, subject: str, body: str, visibility: str) -> dict:
    errors = []
    name, subject = name.strip(), subject.strip()
    if not name:
        errors.append(FieldError("template_name", _("Name the template."), "required"))
    elif len(name) > 120:
        errors.append(FieldError("template_name", _("At most 120 characters.")))
    if not subject:
        errors.append(FieldError("subject", _("Enter a subject."), "required"))
    elif len(subject) > 255:
        errors.append(FieldError("subject", _("At most 255 characters.")))
    if not body.strip():
        errors.append(FieldError("body", _("Write the email."), "required"))
    if visibility not in EmailTemplate.Visibility.values:
        errors.append(FieldError("visibility", _("Choose who the template is shared with.")))
    errors.extend(
        check_names(
            {"subject": subject, "body": body},
            contact_registry=registry_for(ObjectType.objects.get(name="contacts")),
            company_registry=registry_for(workspace_settings().customer_object_type),
        )
    )
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    return {"name": name, "subject": subject, "body": body, "visibility": visibility}


def email_template_create(
    *, actor: Actor, name: str, subject: str, body: str, visibility: str = EmailTemplate.Visibility.PRIVATE
) -> EmailTemplate:
    """A new template owned by the actor; sharing it with everyone takes the settings permission."""
    user = actor.user
    policy.require(
        actor,
        policy.Action.EDIT_EMAIL_TEMPLATE,
        SimpleNamespace(owner_id=getattr(user, "pk", None), visibility=visibility),
    )
    values = _validated(name, subject, body, visibility)
    now = clock.now()
    template = EmailTemplate(owner=user, created_at=now, updated_at=now, **values)
    template.save()
    return template


def email_template_update(
    *, actor: Actor, template: EmailTemplate, name: str, subject: str, body: str, visibility: str
) -> EmailTemplate:
    policy.require(actor, policy.Action.EDIT_EMAIL_TEMPLATE, template)
    policy.require(
        actor, policy.Action.EDIT_EMAIL_TEMPLATE, SimpleNamespace(owner_id=template.owner_id, visibility=visibility)
    )
    for attr, value in _validated(name, subject, body, visibility).items():
        setattr(template, attr, value)
    template.updated_at = clock.now()
    template.save()
    return template


def email_template_archive(*, actor: Actor, template: EmailTemplate) -> None:
    policy.require(actor, policy.Action.EDIT_EMAIL_TEMPLATE, template)
    if template.archived_at is None:
        template.archived_at = clock.now()
        template.save(update_fields=["archived_at"])
