"""Sending an email from a record: recipients from its contacts (or typed), variables filled in,
through Django's email backend (TEND_EMAIL_URL), logged as an email engagement once it is sent."""

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMultiAlternatives, get_connection, make_msgid
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from tend.core import clock, policy
from tend.core.errors import FieldError, ValidationFailed
from tend.core.policy import Actor
from tend.crm import queries as crm_queries
from tend.crm.models import ObjectType, Record
from tend.crm.registry import registry_for
from tend.cs_settings.queries import workspace_settings
from tend.directory.models import User

from ..kinds import KINDS
from ..models import Email, TaskChange
from ..services import engagement_create
from . import tracking
from .variables import Variables, check, render

MAX_RECIPIENTS = 50
CONTACTS, COMPANIES = "contacts", "companies"


@dataclass(frozen=True)
class Recipient:
    """A contact the composer offers: its record and email address."""

    record: Record
    email: str
    name: str

    @property
    def label(self) -> str:
        return formataddr((self.name, self.email)) if self.name and self.name != self.email else self.email


def _associated(actor: Actor, record: Record, type_name: str) -> list[Record]:
    other = ObjectType.objects.filter(name=type_name).first()
    if other is None:
        return []
    return [link.to_record for link in crm_queries.associated_records(actor, record, other)]


def _contact_email(contact: Record) -> str:
    value = (contact.properties or {}).get("email")
    return value.strip() if isinstance(value, str) else ""


def recipients_for(actor: Actor, record: Record) -> list[Recipient]:
    """The record's contacts that have an email address (the record itself, if it is one)."""
    policy.require(actor, policy.Action.USE_WORKSPACE)
    contacts = [record] if record.object_type.name == CONTACTS else _associated(actor, record, CONTACTS)
    found = []
    for contact in contacts:
        if email := _contact_email(contact):
            found.append(Recipient(contact, email.lower(), str(contact)))
    return list({r.email: r for r in found}.values())


def _company_for(actor: Actor, record: Record, contact: Record | None) -> Record | None:
    customer_type = workspace_settings().customer_object_type
    if record.object_type_id == customer_type.pk:
        return record
    for source in (record, contact):
        if source is not None and (companies := _associated(actor, source, customer_type.name)):
            return companies[0]
    return None


def variables_for(actor: Actor, record: Record, to: list[str]) -> Variables:
    """What the variables of a message from `record` to `to` stand for: the first To recipient
    that is one of the record's contacts, its company (the record, when it is one) and its CSM."""
    workspace = workspace_settings()
    by_email = {r.email: r.record for r in recipients_for(actor, record)}
    contact = next((by_email[a] for a in to if a in by_email), None)
    company = _company_for(actor, record, contact)
    csm = None
    if company is not None:
        csm_id = (company.properties or {}).get(workspace.customer_csm_property) or company.owner_id
        csm = User.objects.filter(pk=csm_id, is_active=True).first() if isinstance(csm_id, int) else None
    contacts_type = ObjectType.objects.get(name=CONTACTS)
    return Variables(
        sender=actor.user,
        contact_registry=registry_for(contacts_type),
        company_registry=registry_for(workspace.customer_object_type),
        renewal_property=workspace.customer_renewal_property,
        contact=contact,
        company=company,
        csm=csm,
    )


def _addresses(raw: list[str], field: str, errors: list[FieldError]) -> list[str]:
    result = []
    for item in raw:
        for part in item.replace(";", ",").split(","):
            address = parseaddr(part.strip())[1] if part.strip() else ""
            if not part.strip():
                continue
            try:
                validate_email(address)
            except DjangoValidationError:
                errors.append(
                    FieldError(field, _("“%(address)s” is not a valid email address.") % {"address": part.strip()})
                )
                continue
            result.append(address.lower())
    return list(dict.fromkeys(result))


def _from_address(user) -> str:
    if settings.TEND_EMAIL_FROM_USER:
        return formataddr((user.full_name, user.email))
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    via = _("%(name)s (via Tend)") % {"name": user.full_name or user.email}
    return formataddr((via, address))


def _failure(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(sorted(exc.recipients))
        return _("The mail server refused the recipients %(addresses)s; nothing was sent.") % {"addresses": refused}
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _("The mail server refused the sender %(address)s; nothing was sent.") % {"address": exc.sender}
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return _("The mail server answered %(code)s %(detail)s; nothing was sent.") % {
            "code": exc.smtp_code,
            "detail": detail,
        }
    if isinstance(exc, ConnectionRefusedError):
        return _("The mail server refused the connection (is it running? see TEND_EMAIL_URL); nothing was sent.")
    return _("The email could not be sent: %(error)s. Nothing was sent.") % {"error": str(exc) or type(exc).__name__}


def email_send(
    *,
    actor: Actor,
    record: Record,
    to: list[str],
    cc: list[str],
    subject: str,
    body: str,
    track: bool = False,
    base_url: str = "",
    also: Sequence[int] = (),
) -> Email:
    """Send one email from `record` and log it (on the record, its contacts that received it and
    the records of `also`, e.g. the contact's company) as a sent email engagement with its Message-ID. Nothing is logged unless the mail server
    accepted it; a refusal raises ValidationFailed with the server's reason (field "send")."""
    policy.require(actor, policy.Action.EDIT_RECORDS)
    user = actor.user
    if user is None:
        raise ValidationFailed.single("send", _("Emails are sent by a person."))
    errors: list[FieldError] = []
    to_addresses = _addresses(to, "to", errors)
    cc_addresses = [a for a in _addresses(cc, "cc", errors) if a not in to_addresses]
    if not to_addresses and not any(e.field == "to" for e in errors):
        errors.append(FieldError("to", _("Choose or type at least one recipient."), "required"))
    if len(to_addresses) + len(cc_addresses) > MAX_RECIPIENTS:
        errors.append(FieldError("to", _("At most %(count)s recipients.") % {"count": MAX_RECIPIENTS}))
    if not subject.strip():
        errors.append(FieldError("subject", _("Enter a subject."), "required"))
    if not body.strip():
        errors.append(FieldError("body", _("Write the email."), "required"))
    variables = variables_for(actor, record, to_addresses)
    errors.extend(check(variables, {"subject": subject, "body": body}))
    if errors:
        raise ValidationFailed(errors=errors, detail=errors[0].message)
    rendered_subject = " ".join(render(variables, subject).split())[:255]
    rendered_body = render(variables, body)
    from_address = _from_address(user)
    domain = parseaddr(from_address)[1].rpartition("@")[2] or None
    message_id = make_msgid(domain=domain)
    track = track and settings.TEND_EMAIL_TRACKING and bool(base_url)
    links: list[str] = []
    text = rendered_body
    if track:
        text, html_body, links = tracking.tracked_bodies(rendered_body, base_url=base_url, message_id=message_id)
    message = EmailMultiAlternatives(
        subject=rendered_subject,
        body=text,
        from_email=from_address,
        to=to_addresses,
        cc=cc_addresses,
        reply_to=[formataddr((user.full_name, user.email))],
        headers={"Message-ID": message_id},
        connection=get_connection(fail_silently=False),
    )
    if track:
        message.attach_alternative(html_body, "text/html")
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        raise ValidationFailed.single("send", _failure(exc), "send_failed") from exc
    contacts = [r.record.pk for r in recipients_for(actor, record) if r.email in to_addresses + cc_addresses]
    with transaction.atomic():
        email = engagement_create(
            actor=actor,
            kind=KINDS["emails"],
            properties={
                "subject": rendered_subject,
                "body": rendered_body,
                "direction": Email.Direction.OUTBOUND,
                "from_address": parseaddr(from_address)[1],
                "to_addresses": to_addresses,
                "occurred_at": clock.now().isoformat(),
            },
            associations=list(dict.fromkeys([record.pk, *contacts, *also])),
            source=TaskChange.Source.UI,
        )
        assert isinstance(email, Email)
        Email.objects.filter(pk=email.pk).update(
            cc_addresses=cc_addresses,
            reply_to=user.email,
            message_id=message_id,
            tracked=track,
            links=links,
        )
    email.refresh_from_db()
    return email
