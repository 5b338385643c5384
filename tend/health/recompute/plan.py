"""A version's definition prepared for a recompute, and the compact form its breakdowns are stored in
(criterion key → measured value, None = no data; `expand` gives the full explanation back)."""

import json
import re
from typing import NamedTuple

from tend.health.models import ProfileVersion
from tend.health.scoring import NO_DATA, BatchScorer, Evaluation, compile_definition, criterion_change, evaluate

ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def to_json(value) -> str:
    """Compact JSON, as `json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)`
    (one encoder, not one per call)."""
    return ENCODER.encode(value)


def compact(evaluation: Evaluation) -> dict:
    return {c["key"]: c["value"] for g in evaluation.groups for c in g["criteria"]}


def expand(definition: dict, breakdown: dict) -> Evaluation:
    """The full explanation of a stored (compact) breakdown under its version's definition."""
    values = {k: (NO_DATA if v is None else v) for k, v in (breakdown or {}).items()}
    return evaluate(definition, values)


EXACT_TYPES = (int, float, str, bool, type(None))


class _Entry(NamedTuple):
    """A criterion's value as a plan memoises it."""

    points: float | None
    text: str  # the value's piece of the breakdown text, with its key
    exact: bool  # equal text means an equal value
    stored: object  # the value as stored (None for no data)


DECODED_MAX = 100_000


class Plan:
    """A version's definition prepared for a recompute and shared by its chunks: each criterion's
    points and JSON text per distinct value, memoised, so a breakdown is assembled as text and an
    unchanged one is known by equal text (both databases keep it as written) without decoding it."""

    def __init__(self, version: ProfileVersion):
        definition = version.definition
        self.definition = definition
        self.keys = [c["key"] for g in definition["groups"] for c in g["criteria"]]
        self.scorer = BatchScorer(compile_definition(definition))
        self.status_order = [s["key"] for s in definition["statuses"]]
        self.status_by_key = {s["key"]: s for s in definition["statuses"]}
        keys = self.keys
        # each criterion's text piece carries its key (and the braces, first and last)
        self.prefixes = [("{" if i == 0 else ",") + to_json(key) + ":" for i, key in enumerate(keys)]
        self.suffixes = [""] * len(keys)
        if keys:
            self.suffixes[-1] = "}"
        self.memos: list[dict] = [{} for _ in keys]  # (type, value) → (points, text piece, exact)
        self.criteria = [c for g in definition["groups"] for c in g["criteria"]]
        self.change_memos: list[dict] = [{} for _ in keys]  # (old, new) as (type, value) → JSON or None
        # A stored text in this form, cut into its values' texts (first match: a key's text, quotes
        # included, cannot occur inside a JSON string, and a cut inside a nested value leaves text
        # that does not decode).
        self.stored_form = (
            re.compile("".join(re.escape(prefix) + "(.*?)" for prefix in self.prefixes) + r"\}", re.DOTALL)
            if keys
            else None
        )
        self.decoded: dict[str, object] = {}  # a value's JSON text → the value

    def stored_values(self, text) -> tuple | None:
        """The values (definition order, None for no data) of a breakdown stored as this plan writes
        it, cut from its text rather than decoding it whole; None when the text is in another form
        (another version's, or the ORM's on SQLite): decode it then."""
        match = self.stored_form.fullmatch(text) if self.stored_form is not None and text.__class__ is str else None
        if match is None:
            return None
        pieces = match.groups()
        decoded = self.decoded
        try:
            return tuple(map(decoded.__getitem__, pieces))  # each value's text met before: most of them
        except KeyError:
            pass
        values = []
        for piece in pieces:
            try:
                value = decoded[piece]
            except KeyError:
                try:
                    value = json.loads(piece)
                except ValueError:
                    return None
                if len(decoded) >= DECODED_MAX:
                    decoded.clear()
                decoded[piece] = value
            values.append(value)
        return tuple(values)

    def changes_json(self, old_values: list, values: list) -> str:
        """`to_json(changes_from(definition, scorer, old breakdown, values))` from the old breakdown's
        values and the new ones (definition order, None or NO_DATA for no data), each criterion's entry
        made once per pair of values (a day moves many accounts the same way: one day less to renewal,
        one feature more)."""
        pieces = []
        for i, criterion in enumerate(self.criteria):
            old = old_values[i]
            if old is None:
                old = NO_DATA
            new = values[i]
            if new is None:
                new = NO_DATA
            if new.__class__ is old.__class__ and new == old:  # unmoved: most criteria, most days
                continue
            key = ((old.__class__, old), (new.__class__, new))
            memo = self.change_memos[i]
            try:
                piece = memo[key]
            except (KeyError, TypeError):
                change = criterion_change(criterion, self.scorer, i, old, new)
                piece = None if change is None else to_json(change)
                try:
                    memo[key] = piece
                except TypeError:  # an unhashable value
                    pass
            if piece is not None:
                pieces.append(piece)
        return "[" + ",".join(pieces) + "]"

    def _entry(self, i: int, value) -> _Entry:
        stored = None if value is NO_DATA else value
        # equal text means equal values except for NaN (NaN != NaN) and what JSON writes as a string
        exact = stored.__class__ in EXACT_TYPES and stored == stored
        return _Entry(
            self.scorer.points(i, value), self.prefixes[i] + to_json(stored) + self.suffixes[i], exact, stored
        )

    def columns(self, measured: list[tuple], ids: list[int]) -> tuple[list[tuple], list[str], list[tuple], set[int]]:
        """For the accounts `ids` (in order): their criteria's points (tuples, for the score), their
        breakdowns' JSON text, their breakdowns' values (tuples, None for no data, as
        `stored_values` reads them back) and the accounts whose text is not exact (rare)."""
        points_columns, text_columns = [None] * len(measured), [None] * len(measured)
        value_columns = [None] * len(measured)
        inexact: set[int] = set()
        for i, (_key, values, default) in enumerate(measured):
            memo = self.memos[i]
            entries = {}
            for account_id, value in values.items():
                key = (value.__class__, value)
                try:
                    entry = memo[key]
                except KeyError:
                    entry = self._entry(i, value)
                    if entry.exact:
                        memo[key] = entry
                except TypeError:  # an unhashable value
                    entry = self._entry(i, value)
                if not entry.exact:
                    inexact.add(account_id)
                entries[account_id] = entry
            missing = self._entry(i, default)
            if not missing.exact:
                inexact.update(a for a in ids if a not in entries)
            column = [entries.get(a, missing) for a in ids]
            points_columns[i] = [e.points for e in column]
            text_columns[i] = [e.text for e in column]
            value_columns[i] = [e.stored for e in column]
        if not measured:
            return [()] * len(ids), ["{}"] * len(ids), [()] * len(ids), inexact
        points = list(zip(*points_columns, strict=True))
        texts = list(map("".join, zip(*text_columns, strict=True)))
        return points, texts, list(zip(*value_columns, strict=True)), inexact
