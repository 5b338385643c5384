"""What the demo generator plans before writing: records and the companies with details of their own."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from tend.crm.models import Stage


@dataclass(slots=True)
class Rec:
    """A record to insert: lighter than a model instance, which matters at 100k rows."""

    type_name: str
    name: str
    owner: int
    created_at: dt.datetime
    props: dict
    stage: Stage | None = None
    last_activity_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    stage_entered_at: dt.datetime | None = None  # when it entered its stage (default: created)
    id: int | None = None


@dataclass(slots=True)
class Company:
    """A company that gets contacts, deals, tickets, services and engagements of its own."""

    record: Rec
    region: str
    csm: int
    cs_stage: str
    plan: str
    mrr: int
    start: dt.date
    renewal: dt.date
    domain: str
    children: list = field(default_factory=list)  # (Rec, label) associated with the company
    engagements: list = field(default_factory=list)  # (engagement, [Rec, …])
    contacts: list = field(default_factory=list)  # contact _Recs, primary first


def local(day: dt.date, minute: int, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """`minute` minutes after midnight of `day` in `tz`, as a UTC instant."""
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=tz).astimezone(dt.UTC)
