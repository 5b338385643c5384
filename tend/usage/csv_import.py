"""CSV import of survey responses: columns email | contact_id (or account_id), score, comment,
responded_at, external_id (and optionally survey). Atomic: every row is checked, and unless all
are valid nothing is written; errors name the row (the header is row 1), the column and the reason.
A dry run does everything and rolls back, so its counts (created, duplicates) are exact."""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from tend.core.policy import Actor

from .surveys import survey_responses_record

MAX_BYTES = 10 * 1024 * 1024  # through the API; the management command reads any size
MAX_ROWS = 1000  # JSON batch limit of the API
CHUNK = 1000
COLUMNS = {
    "email": "email",
    "contact_id": "contactId",
    "account_id": "accountId",
    "score": "score",
    "comment": "comment",
    "responded_at": "respondedAt",
    "external_id": "externalId",
    "survey": "survey",
}
FIELD_TO_COLUMN = {v: k for k, v in COLUMNS.items()}


@dataclass
class ImportOutcome:
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    dry_run: bool = False
    errors: list[dict] = field(default_factory=list)  # {"row", "column", "field", "message", "code"}

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "created": self.created,
            "duplicates": self.duplicates,
            "dryRun": self.dry_run,
            "errors": self.errors,
        }


def _error(row: int, column: str, message: str, code: str = "invalid") -> dict:
    return {
        "row": row,
        "column": column,
        "field": f"row {row}.{column}" if row else column,
        "message": message,
        "code": code,
    }


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ""


def import_csv(
    *, actor: Actor, data: bytes | str, dry_run: bool = False, on_progress: Callable[[int, int], None] | None = None
) -> ImportOutcome:
    """Import survey responses from CSV text; see the module docstring."""
    outcome = ImportOutcome(dry_run=dry_run)
    text = _text(data)
    if not text.strip():
        outcome.errors.append(_error(0, "file", _("The file is empty or not UTF-8 text."), "required"))
        return outcome
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        outcome.errors.append(_error(0, "file", _("The file has no header row."), "required"))
        return outcome
    unknown = [h for h in header if h not in COLUMNS]
    for h in unknown:
        outcome.errors.append(
            _error(1, h or "?", _("Unknown column %(name)s; use %(known)s.") % {"name": h, "known": ", ".join(COLUMNS)})
        )
    if "score" not in header:
        outcome.errors.append(_error(1, "score", _("The score column is missing."), "required"))
    if not {"email", "contact_id", "account_id"} & set(header):
        outcome.errors.append(_error(1, "email", _("Add an email or a contact_id column (or account_id)."), "required"))
    if len(set(header)) != len(header):
        outcome.errors.append(_error(1, "file", _("A column appears twice.")))
    if outcome.errors:
        return outcome
    items: list[tuple[int, dict]] = []
    try:
        for line_no, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                outcome.errors.append(
                    _error(line_no, "file", _("Expected %(n)d cells, found %(m)d.") % {"n": len(header), "m": len(row)})
                )
                continue
            item = {COLUMNS[h]: cell.strip() for h, cell in zip(header, row, strict=True) if cell.strip() != ""}
            items.append((line_no, item))
    except csv.Error as exc:
        outcome.errors.append(_error(reader.line_num, "file", _("The CSV cannot be read: %(e)s") % {"e": exc}))
        return outcome
    outcome.rows = len(items) + len({e["row"] for e in outcome.errors})
    with transaction.atomic():
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            result = survey_responses_record(actor=actor, items=[item for _n, item in chunk])
            for error in result.errors:
                index, _sep, name = error.field.partition("].")
                line_no = chunk[int(index.split("[")[1])][0]
                outcome.errors.append(_error(line_no, FIELD_TO_COLUMN.get(name, name), error.message, error.code))
            outcome.created += result.created
            outcome.duplicates += result.duplicates
            if on_progress:
                on_progress(min(start + CHUNK, len(items)), len(items))
        if outcome.errors or dry_run:
            transaction.set_rollback(True)
    if outcome.errors:
        outcome.errors.sort(key=lambda e: (e["row"], e["column"]))
        outcome.created = outcome.duplicates = 0
    return outcome
