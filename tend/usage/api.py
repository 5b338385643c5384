"""/api/v1 endpoints of the usage app.

Ingestion speaks the Segment HTTP tracking API: `/ingest/track`, `/identify`, `/group`, `/page`,
`/screen`, `/batch` — and the same under `/ingest/v1/…`, the paths Segment's client libraries call
when their host is set to `<tend>/api/v1/ingest`. Authenticate as Segment does (HTTP Basic, the
write key as the user name, empty password; the write key is a Tend write-scope API token) or with
`Authorization: Bearer`. Also: an account's daily usage, and NPS / survey responses (JSON and CSV).
"""

from datetime import UTC
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Body, Router
from ninja.responses import Status
from ninja.security import HttpBasicAuth

from tend.core import policy
from tend.core.api import SessionAuth, parse_after, parse_limit, problem
from tend.core.errors import ValidationFailed
from tend.directory.auth import TokenAuth
from tend.directory.services import token_authenticate

from . import csv_import, queries
from .ingest.parse import MAX_BATCH_BYTES, PayloadTooLarge, decode_body
from .ingest.store import events_ingest
from .surveys import survey_responses_record

router = Router(tags=["usage"])


class WriteKeyAuth(HttpBasicAuth):
    """Segment's auth: HTTP Basic with the write key (a Tend API token) as the user name."""

    def authenticate(self, request: HttpRequest, username: str, password: str):
        api_token = token_authenticate(username.strip()) if username else None
        if api_token is None:
            return None
        return policy.Actor(api_token.user, policy.Scope(api_token.scope))


INGEST_AUTH = [TokenAuth(), WriteKeyAuth()]
SINGLE_KINDS = ("track", "identify", "group", "page", "screen")
_BODY_DOC = {
    "requestBody": {
        "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
        "required": True,
    }
}


def _document(request: HttpRequest):
    try:
        return decode_body(request.body, request.headers.get("Content-Encoding", ""))
    except PayloadTooLarge:
        return problem(
            413,
            _("Payload too large"),
            _("A request body may be at most %(n)d KB.") % {"n": MAX_BATCH_BYTES // 1024},
        )


def _single(kind: str):
    def endpoint(request):
        doc = _document(request)
        if hasattr(doc, "status_code"):
            return doc
        if not isinstance(doc, dict):
            raise ValidationFailed.single("body", _("Send one %(kind)s message as a JSON object.") % {"kind": kind})
        result = events_ingest(actor=request.auth, messages=[doc], kind=kind)
        if result.errors:
            error = result.errors[0]
            return problem(
                422,
                _("Invalid input"),
                error["message"],
                [{"field": error["field"], "message": error["message"], "code": "invalid"}],
            )
        return result.as_dict()

    endpoint.__name__ = f"ingest_{kind}"
    return endpoint


def ingest_batch(request):
    doc = _document(request)
    if hasattr(doc, "status_code"):
        return doc
    if not isinstance(doc, dict) or not isinstance(doc.get("batch"), list):
        raise ValidationFailed.single("batch", _('Send {"batch": [messages…]}.'), "required")
    context = doc.get("context") if isinstance(doc.get("context"), dict) else None
    messages = doc["batch"]
    if context:
        # Segment merges a batch-level context into each message's own.
        messages = [
            {**m, "context": {**context, **(m.get("context") or {})}}
            if isinstance(m, dict) and isinstance(m.get("context") or {}, dict)
            else m
            for m in messages
        ]
    result = events_ingest(actor=request.auth, messages=messages, sent_at=doc.get("sentAt"))
    return result.as_dict()


for _prefix in ("/ingest", "/ingest/v1"):
    for _kind in SINGLE_KINDS:
        router.post(
            f"{_prefix}/{_kind}",
            auth=INGEST_AUTH,
            summary=f"Segment {_kind} call" + (" (client-library path)" if "v1" in _prefix else ""),
            openapi_extra=_BODY_DOC,
            operation_id=f"ingest_{_kind}" + ("_v1" if "v1" in _prefix else ""),
            include_in_schema=True,
        )(_single(_kind))
    router.post(
        f"{_prefix}/batch",
        auth=INGEST_AUTH,
        summary="Segment batch of up to 2,500 messages / 500 KB"
        + (" (client-library path)" if "v1" in _prefix else ""),
        openapi_extra=_BODY_DOC,
        operation_id="ingest_batch" + ("_v1" if "v1" in _prefix else ""),
    )(ingest_batch)


# --------------------------------------------------------------------------- usage


def _day(value) -> str:
    return value.isoformat()


@router.get("/accounts/{account_id}/usage", summary="Daily usage rollups of a customer account")
def account_usage(request, account_id: str, days: int = 30):
    record = queries.get_account(request.auth, account_id)
    summary = queries.usage_summary(record, days=days)
    return {
        **summary,
        "from": _day(summary["from"]),
        "to": _day(summary["to"]),
        "series": [{**p, "day": _day(p["day"])} for p in summary["series"]],
    }


# --------------------------------------------------------------------------- survey responses


def _iso(value):
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z") if value else None


def response_out(r) -> dict:
    return {
        "id": r.pk,
        "survey": r.survey,
        "score": r.score,
        "comment": r.comment,
        "contactId": r.contact_id,
        "accountId": r.account_id,
        "respondedAt": _iso(r.responded_at),
        "externalId": r.external_id,
        "createdAt": _iso(r.created_at),
    }


@router.post("/surveys/responses", response={200: dict, 201: dict}, summary="Record one survey response or a batch")
def create_responses(request, payload: Body[dict[str, Any]]):
    batch = "responses" in payload
    items = payload["responses"] if batch else [payload]
    if not isinstance(items, list):
        raise ValidationFailed.single("responses", _("responses must be a list."))
    if len(items) > csv_import.MAX_ROWS:
        raise ValidationFailed.single(
            "responses", _("Send at most %(n)d responses at once.") % {"n": csv_import.MAX_ROWS}
        )
    result = survey_responses_record(actor=request.auth, items=items, where_prefix="responses" if batch else "")
    if result.errors:
        raise ValidationFailed(errors=result.errors, detail=result.errors[0].message)
    body = {**result.as_dict(), "results": [response_out(r) for r in result.responses]}
    return Status(201 if result.created else 200, body)


@router.get("/surveys/responses", summary="List survey responses, newest first (cursor paging)")
def list_responses(request, accountId: int | None = None, limit: int | None = None, after: str | None = None):
    limit = parse_limit(limit, default=20, maximum=100)
    offset = parse_after(after)
    page = list(queries.survey_responses_for(request.auth, account_id=accountId)[offset : offset + limit + 1])
    result = {"results": [response_out(r) for r in page[:limit]]}
    if len(page) > limit:
        result["paging"] = {"next": {"after": str(offset + limit)}}
    return result


@router.post(
    "/surveys/responses/import",
    response={200: dict, 201: dict, 422: dict},
    summary="Import survey responses from CSV (atomic; row-by-row errors; ?dry_run=true)",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}},
    auth=[TokenAuth(), SessionAuth()],
)
def import_responses(request, dry_run: bool = False):
    if len(request.body) > csv_import.MAX_BYTES:
        return problem(
            413, _("Payload too large"), _("A CSV file may be at most %(n)d MB.") % {"n": csv_import.MAX_BYTES >> 20}
        )
    outcome = csv_import.import_csv(actor=request.auth, data=request.body, dry_run=dry_run)
    if outcome.errors:
        return problem(
            422,
            _("Invalid input"),
            _("Nothing was imported: %(n)d rows have errors.") % {"n": len({e["row"] for e in outcome.errors})},
            outcome.errors,
        )
    return Status(200 if dry_run or not outcome.created else 201, outcome.as_dict())
