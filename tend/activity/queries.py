"""Reads of contact activity: contacts by id, email or an external-id property, their primary
companies, the Feed's pages (keyset-paged, newest first) and the API's list."""

import base64
import binascii
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from tend.core.errors import ValidationFailed
from tend.crm.models import _SAFE_KEY, Association, ObjectType, PropertyText, Record

from .models import SEQUENCE_TYPES, Activity, ActivityDismissal, ActivityType

CONTACTS, COMPANIES = "contacts", "companies"
CUSTOM = "custom"  # the type filter's value for every custom type
ENROLLED, NOT_ENROLLED = "enrolled", "not_enrolled"
# A book of at most this many companies reads their activity by company (an index range each) and
# sorts it; a larger one reads everyone's activity newest first and keeps its companies' rows.
SMALL_BOOK = 300


def _type_id(name: str) -> int | None:
    return ObjectType.objects.filter(name=name).values_list("pk", flat=True).first()


def _contacts() -> QuerySet[Record]:
    return Record.objects.filter(object_type_id=_type_id(CONTACTS), archived_at__isnull=True)


def contacts_by_id(ids: Iterable[int]) -> set[int]:
    """Which of these ids are active contacts."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return set(_contacts().filter(pk__in=wanted).values_list("pk", flat=True))


def contacts_by_email(emails: Iterable[str]) -> dict[str, int]:
    """{email (lower case): contact id} of active contacts, compared case-insensitively: one
    query through the contacts' lower-case email index (crm's record_email)."""
    wanted = sorted({e.strip().lower() for e in emails if e and e.strip()})
    if not wanted:
        return {}
    found: dict[str, int] = {}
    rows = (
        _contacts()
        .annotate(email_key=Lower(PropertyText("email", "properties")))
        .filter(email_key__in=wanted)
        .order_by()  # an ORDER BY id would walk the primary key instead of the email index
        .values_list("email_key", "pk")
    )
    for email, pk in sorted(rows, key=lambda row: row[1]):  # two contacts with one email: the first
        found.setdefault(str(email), pk)
    return found


def contacts_by_property(name: str, values: Iterable[str]) -> dict[str, int]:
    """{value: contact id} of active contacts whose property `name` (an external id) has these values."""
    wanted = sorted({v for v in values if v})
    if not wanted or not _SAFE_KEY.match(name or ""):
        return {}
    found: dict[str, int] = {}
    for pk, value in _contacts().filter(**{f"properties__{name}__in": wanted}).values_list("pk", f"properties__{name}"):
        found.setdefault(str(value), pk)
    return found


def primary_companies(contact_ids: Iterable[int]) -> dict[int, int]:
    """{contact id: company id}: the associated active company labelled "primary", else the first."""
    wanted = sorted(set(contact_ids))
    if not wanted:
        return {}
    links = Association.objects.filter(
        from_record_id__in=wanted,
        to_record__object_type_id=_type_id(COMPANIES),
        to_record__archived_at__isnull=True,
    ).values_list("from_record_id", "to_record_id", "label")
    out: dict[int, int] = {}
    for contact, company, _label in sorted(links, key=lambda link: (link[0], link[2] != "primary", link[1])):
        out.setdefault(contact, company)
    return out


# --------------------------------------------------------------------------- the Feed


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the last row's time and id (rows with the same time go by id)."""

    occurred_at: dt.datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.occurred_at.astimezone(dt.UTC).isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None, field_name: str = "before") -> "Cursor | None":
        if not text:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            when, _sep, pk = raw.partition("|")
            value = dt.datetime.fromisoformat(when)
            if value.tzinfo is None:
                raise ValueError
            return cls(value, int(pk))
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise ValidationFailed.single(field_name, _("This is not a cursor from a previous page.")) from exc


@dataclass(frozen=True)
class FeedFilters:
    types: tuple[str, ...] = ()  # type keys, and CUSTOM for every custom type
    sequence: str = ""  # ENROLLED / NOT_ENROLLED: the contact's latest sequence activity
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive
    search: str = ""  # contact, company or asset name


def _before(rows: QuerySet[Activity], cursor: Cursor | None) -> QuerySet[Activity]:
    if cursor is None:
        return rows
    # The first condition is the index range; the second drops the rows already shown at that time.
    return rows.filter(occurred_at__lte=cursor.occurred_at).filter(
        Q(occurred_at__lt=cursor.occurred_at) | Q(id__lt=cursor.id)
    )


def filtered(rows: QuerySet[Activity], filters: FeedFilters) -> QuerySet[Activity]:
    if filters.types:
        wanted = Q(type__in=[t for t in filters.types if t != CUSTOM])
        if CUSTOM in filters.types:
            wanted |= ~Q(type__in=ActivityType.values)
        rows = rows.filter(wanted)
    if filters.since is not None:
        rows = rows.filter(occurred_at__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(occurred_at__lt=filters.until)
    if filters.search:
        q = filters.search
        rows = rows.filter(Q(contact__name__icontains=q) | Q(company__name__icontains=q) | Q(asset_name__icontains=q))
    if filters.sequence in (ENROLLED, NOT_ENROLLED):
        latest = (
            Activity.objects.filter(contact_id=OuterRef("contact_id"), type__in=SEQUENCE_TYPES)
            .order_by("-occurred_at", "-id")
            .values("type")[:1]
        )
        rows = rows.alias(sequence_state=Subquery(latest))
        enrolled = Q(sequence_state=ActivityType.SEQUENCE_ENROLLED.value)
        rows = (
            rows.filter(enrolled) if filters.sequence == ENROLLED else rows.filter(~enrolled | Q(sequence_state=None))
        )
    return rows


def feed_page(
    *,
    companies: QuerySet | list[int],
    small_book: bool,
    user_id: int,
    filters: FeedFilters,
    cursor: Cursor | None,
    limit: int,
) -> tuple[list[Activity], Cursor | None]:
    """One page of the activity of `companies` (company ids, or a queryset of them) that `user_id` has not
    dismissed, newest first, after `cursor`; and the cursor of the next page, if there is one.
    One query, whatever the page size: the contact and company come with each row."""
    dismissed = ActivityDismissal.objects.filter(user_id=user_id, activity_id=OuterRef("pk"))
    related = ("contact", "contact__object_type", "company", "company__object_type")
    if small_book:
        assert isinstance(companies, list)
        rows = filtered(_before(Activity.objects.all(), cursor), filters).filter(~Exists(dismissed))
        ids = _newest_ids(sorted(set(companies)), rows, limit + 1)
        page = sorted(
            Activity.objects.filter(pk__in=ids).select_related(*related),
            key=lambda a: (a.occurred_at, a.pk),
            reverse=True,
        )
    else:
        # `company_id + 0` keeps the planner off the company index: for a large book, reading
        # the time index newest first and keeping the book's rows stops after a page.
        rows = Activity.objects.alias(book_company=F("company_id") + 0).filter(book_company__in=companies)
        rows = filtered(_before(rows, cursor), filters).filter(~Exists(dismissed))
        page = list(rows.select_related(*related).order_by("-occurred_at", "-id")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, (Cursor(page[-1].occurred_at, page[-1].pk) if more and page else None)


_COMPANY = object()  # stands for the company id in the per-company query's parameters (SQLite)


def _newest_ids(companies: list[int], rows: QuerySet[Activity], limit: int) -> list[int]:
    """The ids of the newest `limit` of `rows` among the companies' (the Feed's filters, cursor
    and dismissals applied), read company by company from the (company, occurred_at, id) index —
    at most `limit` entries each — and merged: a small book never reads its older rows.
    PostgreSQL: one LATERAL query per company id; SQLite: a UNION ALL of per-company selects."""
    if not companies:
        return []
    newest = rows.order_by("-occurred_at", "-id").values_list("id", "occurred_at")
    merge = f"ORDER BY page.occurred_at DESC, page.id DESC LIMIT {int(limit)}"
    if connection.vendor == "postgresql":
        per_company = newest.filter(company_id=RawSQL("book.company_id", ()))[:limit]
        sql, params = per_company.query.sql_with_params()
        statement = (
            f"SELECT page.id FROM unnest(%s::bigint[]) AS book(company_id) CROSS JOIN LATERAL ({sql}) AS page {merge}"
        )
        values: list = [companies, *params]
    else:
        per_company = newest.filter(company_id=RawSQL("%s", (_COMPANY,)))[:limit]
        sql, params = per_company.query.sql_with_params()
        statement = (
            "SELECT page.id FROM ("
            + " UNION ALL ".join([f"SELECT * FROM ({sql})"] * len(companies))
            + f") AS page {merge}"
        )
        values = [company if p is _COMPANY else p for company in companies for p in params]
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        return [row[0] for row in cursor.fetchall()]


def activity_list(
    *,
    contact_id: int | None = None,
    company_id: int | None = None,
    types: tuple[str, ...] = (),
    cursor: Cursor | None,
    limit: int,
) -> tuple[list[Activity], Cursor | None]:
    """The API's list: every contact's activity (or one contact's or company's), newest first."""
    rows = Activity.objects.all()
    if contact_id is not None:
        rows = rows.filter(contact_id=contact_id)
    if company_id is not None:
        rows = rows.filter(company_id=company_id)
    rows = filtered(_before(rows, cursor), FeedFilters(types=types))
    page = list(rows.order_by("-occurred_at", "-id")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, (Cursor(page[-1].occurred_at, page[-1].pk) if more and page else None)
