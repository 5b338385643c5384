"""NPS and other survey responses: recorded all or nothing, and each account's `nps` property kept
at its latest NPS answer."""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from tend.core import clock, hooks, policy
from tend.core.errors import FieldError
from tend.core.policy import Actor
from tend.crm.models import Association, ChangeSource, ObjectType, Record
from tend.crm.registry import registry_for
from tend.crm.services import records_write
from tend.cs_settings.queries import workspace_settings
from tend.usage.ingest.parse import parse_timestamp
from tend.usage.models import SurveyResponse
from tend.usage.settings import actor_user

from .queries import account_nps

INSERT_CHUNK = 500  # survey responses per INSERT


SURVEY_SOURCE = ChangeSource.SYSTEM


@dataclass
class SurveyResult:
    """Outcome of recording survey responses: how many were created, how many were already there
    (same externalId), the errors by row, and the accounts touched."""

    created: int = 0
    duplicates: int = 0
    errors: list[FieldError] = field(default_factory=list)
    responses: list = field(default_factory=list)
    account_ids: set[int] = field(default_factory=set)
    dry_run: bool = False

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "dryRun": self.dry_run,
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass
class _Answer:
    where: str
    contact_id: int | None
    email: str | None
    account_id: int | None
    score: int
    comment: str
    responded_at: dt.datetime
    external_id: str | None
    survey: str


def _parse_score(raw: object, errors: list[FieldError], where: str) -> int | None:
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        raw = int(raw.strip())
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if raw is None or raw == "":
        errors.append(FieldError(f"{where}score", _("Enter a score from 0 to 10."), "required"))
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= 10:
        errors.append(FieldError(f"{where}score", _("The score must be a whole number from 0 to 10."), "invalid"))
        return None
    return raw


def _parse_id(raw: object, errors: list[FieldError], field_name: str) -> int | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw
    errors.append(FieldError(field_name, _("Enter a record id (a whole number)."), "invalid"))
    return None


def _clean_answer(i: int, item: object, where: str, now: dt.datetime, errors: list[FieldError]) -> _Answer | None:
    if not isinstance(item, dict):
        errors.append(FieldError(where.rstrip(".") or "body", _("Each response must be a JSON object.")))
        return None
    before = len(errors)
    contact_id = _parse_id(item.get("contactId"), errors, f"{where}contactId")
    account_id = _parse_id(item.get("accountId"), errors, f"{where}accountId")
    email = item.get("email")
    if email is not None and not isinstance(email, str):
        errors.append(FieldError(f"{where}email", _("Enter an email address.")))
        email = None
    email = (email or "").strip().lower() or None
    if contact_id is None and email is None and account_id is None and len(errors) == before:
        errors.append(
            FieldError(f"{where}contactId", _("Give the contact (contactId or email) or the accountId."), "required")
        )
    score = _parse_score(item.get("score"), errors, where)
    comment = item.get("comment") or ""
    if not isinstance(comment, str):
        errors.append(FieldError(f"{where}comment", _("Enter text.")))
        comment = ""
    elif len(comment) > 5000:
        errors.append(FieldError(f"{where}comment", _("Enter at most %(n)d characters.") % {"n": 5000}))
    responded_at = now
    raw_at = item.get("respondedAt")
    if raw_at not in (None, ""):
        try:
            responded_at = parse_timestamp(raw_at)
        except (ValueError, TypeError, OverflowError):
            errors.append(
                FieldError(f"{where}respondedAt", _("Enter a date and time in ISO 8601, e.g. 2026-05-01T09:30:00Z."))
            )
        else:
            if responded_at > now + dt.timedelta(minutes=5):
                errors.append(FieldError(f"{where}respondedAt", _("The response time is in the future.")))
    external_id = item.get("externalId")
    if external_id is not None and not isinstance(external_id, str | int):
        errors.append(FieldError(f"{where}externalId", _("Enter text.")))
    external_id = str(external_id).strip() if external_id not in (None, "") else None
    if external_id and len(external_id) > 200:
        errors.append(FieldError(f"{where}externalId", _("Enter at most %(n)d characters.") % {"n": 200}))
    survey = item.get("survey") or "nps"
    if not isinstance(survey, str) or len(survey) > 64:
        errors.append(FieldError(f"{where}survey", _("Enter a survey name of at most 64 characters.")))
    if len(errors) > before or score is None:  # no score: _parse_score said why
        return None
    return _Answer(where, contact_id, email, account_id, score, comment, responded_at, external_id, survey.strip())


def survey_responses_record(
    *, actor: Actor, items: list, dry_run: bool = False, source: str = "api", where_prefix: str = "responses"
) -> SurveyResult:
    """Record survey responses, all or nothing: every response is validated (contact by contactId
    or email, its company as the account unless accountId is given, score 0–10, respondedAt,
    externalId for idempotency) before anything is written; errors name each row and field and
    then nothing changes. Afterwards each touched account's `nps` property is set to its latest
    NPS answer and the accounts are marked for a health recompute."""
    policy.require(actor, policy.Action.EDIT_RECORDS)
    now = clock.now()
    result = SurveyResult(dry_run=dry_run)
    errors = result.errors
    answers = []
    for i, item in enumerate(items):
        answer = _clean_answer(i, item, f"{where_prefix}[{i}]." if where_prefix else "", now, errors)
        if answer is not None:
            answers.append(answer)
    customer_type_id = workspace_settings().customer_object_type_id
    contacts_type = ObjectType.objects.filter(name="contacts").first()
    contact_ids = {a.contact_id for a in answers if a.contact_id}
    emails = {a.email for a in answers if a.email}
    contacts_by_id, contacts_by_email = {}, {}
    if contacts_type is not None and (contact_ids or emails):
        found = Record.objects.filter(object_type=contacts_type, archived_at__isnull=True)
        for pk, email in found.filter(pk__in=sorted(contact_ids)).values_list("pk", "properties__email"):
            contacts_by_id[pk] = email
        if emails:
            for pk, email in found.filter(properties__email__in=sorted(emails)).values_list("pk", "properties__email"):
                contacts_by_email[str(email).lower()] = pk
            # Emails are compared case-insensitively; most are stored in lower case already.
            missing = emails - set(contacts_by_email)
            for email in sorted(missing)[:200]:
                found_pk = found.filter(properties__email__iexact=email).values_list("pk", flat=True).first()
                if found_pk is not None:
                    contacts_by_email[email] = found_pk
    for a in answers:
        if a.contact_id is not None and a.contact_id not in contacts_by_id:
            errors.append(
                FieldError(f"{a.where}contactId", _("No contact %(id)s.") % {"id": a.contact_id}, "not_found")
            )
        elif a.contact_id is None and a.email is not None:
            if a.email not in contacts_by_email:
                errors.append(
                    FieldError(
                        f"{a.where}email", _("No contact has the email %(email)s.") % {"email": a.email}, "not_found"
                    )
                )
            else:
                a.contact_id = contacts_by_email[a.email]
    companies_of: dict[int, int] = {}
    wanted = sorted({a.contact_id for a in answers if a.contact_id and a.account_id is None})
    if wanted:
        links = (
            Association.objects.filter(
                from_record_id__in=wanted,
                to_record__object_type_id=customer_type_id,
                to_record__archived_at__isnull=True,
            )
            .order_by("from_record_id", "-label", "to_record_id")  # "primary" before unlabelled
            .values_list("from_record_id", "to_record_id", "label")
        )
        for contact, company, label in links:
            if contact not in companies_of or label == "primary":
                companies_of.setdefault(contact, company)
    explicit = {a.account_id for a in answers if a.account_id}
    known_accounts = (
        set(
            Record.objects.filter(
                pk__in=sorted(explicit), object_type_id=customer_type_id, archived_at__isnull=True
            ).values_list("pk", flat=True)
        )
        if explicit
        else set()
    )
    for a in answers:
        if a.account_id is not None:
            if a.account_id not in known_accounts:
                errors.append(
                    FieldError(
                        f"{a.where}accountId", _("No customer account %(id)s.") % {"id": a.account_id}, "not_found"
                    )
                )
        elif a.contact_id is not None:
            a.account_id = companies_of.get(a.contact_id)
            if a.account_id is None:
                errors.append(
                    FieldError(
                        f"{a.where}contactId" if a.email is None else f"{a.where}email",
                        _("This contact is not associated with a customer account; give the accountId."),
                        "no_account",
                    )
                )
    external = {a.external_id for a in answers if a.external_id}
    existing = (
        set(SurveyResponse.objects.filter(external_id__in=sorted(external)).values_list("external_id", flat=True))
        if external
        else set()
    )
    if errors:
        errors.sort(key=_error_order)
        return result
    seen: set[str] = set()
    new = []
    user = actor_user(actor)
    for a in answers:
        if a.external_id and (a.external_id in existing or a.external_id in seen):
            result.duplicates += 1
            continue
        if a.external_id:
            seen.add(a.external_id)
        new.append(
            SurveyResponse(
                contact_id=a.contact_id,
                account_id=a.account_id,
                survey=a.survey,
                score=a.score,
                comment=a.comment,
                responded_at=a.responded_at,
                external_id=a.external_id,
                created_at=now,
                created_by=user,
            )
        )
    result.created = len(new)
    result.account_ids = {r.account_id for r in new if r.account_id}
    if dry_run:
        result.responses = new
        return result
    with transaction.atomic():
        result.responses = SurveyResponse.objects.bulk_create(new, batch_size=INSERT_CHUNK)
        nps_accounts = {r.account_id for r in new if r.account_id and r.survey == "nps"}
        if nps_accounts:
            account_nps_sync(account_ids=nps_accounts)
        if result.account_ids:
            hooks.accounts_changed(result.account_ids, reason="nps")
    return result


def _error_order(error: FieldError) -> tuple[int]:
    match = re.match(r"^\w+\[(\d+)\]", error.field)
    return (int(match.group(1)) if match else -1,)


def account_nps_sync(*, account_ids: Iterable[int]) -> int:
    """Set each account's `nps` property to its latest NPS answer (through the record services,
    so the property history shows the change, with source "system": Tend derived it from survey
    responses). Returns how many accounts changed."""
    latest = account_nps(sorted(set(account_ids)))
    records = Record.objects.filter(pk__in=list(latest), archived_at__isnull=True).select_related("object_type")
    inputs_by_type: dict = {}
    for record in records:
        value = latest[record.pk]["latest"]
        if record.properties.get("nps") != value:
            inputs_by_type.setdefault(record.object_type, []).append((record, {"nps": value}))
    changed = 0
    for object_type, inputs in inputs_by_type.items():
        if "nps" not in registry_for(object_type).specs:
            continue
        records_write(actor=policy.SYSTEM, object_type=object_type, inputs=inputs, source=SURVEY_SOURCE)
        changed += len(inputs)
    return changed
