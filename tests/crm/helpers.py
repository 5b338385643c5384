"""What the record-engine tests share: the frozen moment, making records, reading refusals and
everything a write may touch."""

import datetime as dt

from tend.core.policy import SYSTEM
from tend.crm import services
from tend.crm.models import Association, ChangeSource, ObjectType, PropertyChange, Record

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=2)


def make(object_type_name: str, name: str, **props) -> Record:
    object_type = ObjectType.objects.get(name=object_type_name)
    return services.record_create(
        actor=SYSTEM, object_type=object_type, properties={"name": name, **props}, source=ChangeSource.SYSTEM
    )


def fields(excinfo) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in excinfo.value.errors]


def state() -> dict:
    """Everything a record write may touch, to compare before and after a refused write."""
    return {
        "records": list(Record.objects.order_by("pk").values()),
        "history": list(PropertyChange.objects.order_by("pk").values()),
        "associations": list(Association.objects.order_by("pk").values("from_record", "to_record", "label")),
    }
