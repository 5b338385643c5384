"""What a notification says, composed when it is shown (bell, page, digest, API) in the reader's
language from its `key` and `params`; no sentence is stored. Apps above register the texts of
their own keys (health: "health.alert") with `composer`."""

from collections.abc import Callable

from django.urls import reverse
from django.utils.translation import gettext as _

from .models import Notification

Composer = Callable[[Notification], str]
_COMPOSERS: dict[str, Composer] = {}


def composer(key: str) -> Callable[[Composer], Composer]:
    """Register the function that words notifications of `key`."""

    def register(function: Composer) -> Composer:
        _COMPOSERS[key] = function
        return function

    return register


def record_name(n: Notification) -> str:
    if n.record_id is not None and n.record is not None:
        return n.record.name or f"#{n.record_id}"
    return str(n.params.get("record") or "")


def actor_name(n: Notification) -> str:
    return n.actor.display_name if n.actor_id is not None and n.actor is not None else "Tend"


def notification_text(n: Notification) -> str:
    """The sentence in the active language (no query when the list selected record and actor)."""
    function = _COMPOSERS.get(n.key)
    try:
        if function is not None:
            return function(n)
    except (KeyError, TypeError, ValueError):
        pass  # params of another shape: the general sentence below
    if n.record_id is not None:
        return _("Something changed on %(record)s") % {"record": record_name(n)}
    return _("You have a new notification")


def notification_url(n: Notification) -> str:
    """Where it opens: its own link, else the record's page, else the notifications page."""
    if n.url:
        return n.url
    if n.record_id is not None and n.record is not None:
        return reverse("record-detail", args=[n.record.object_type.name, n.record_id])
    return reverse("notifications")


@composer("task_assigned")
def _task_assigned(n: Notification) -> str:
    subject = n.params["subject"]
    record = record_name(n)
    if n.actor_id is None:
        if record:
            return _("You were assigned a task on %(record)s: %(subject)s") % {"record": record, "subject": subject}
        return _("You were assigned a task: %(subject)s") % {"subject": subject}
    if record:
        return _("%(actor)s assigned you a task on %(record)s: %(subject)s") % {
            "actor": actor_name(n),
            "record": record,
            "subject": subject,
        }
    return _("%(actor)s assigned you a task: %(subject)s") % {"actor": actor_name(n), "subject": subject}


@composer("mention")
def _mention(n: Notification) -> str:
    excerpt = n.params.get("excerpt", "")
    record = record_name(n)
    if record:
        text = _("%(actor)s mentioned you in a note on %(record)s") % {"actor": actor_name(n), "record": record}
    else:
        text = _("%(actor)s mentioned you in a note") % {"actor": actor_name(n)}
    return _("%(text)s: “%(excerpt)s”") % {"text": text, "excerpt": excerpt} if excerpt else text


@composer("workflow.message")
def _workflow(n: Notification) -> str:
    return _("%(workflow)s: %(message)s") % {"workflow": n.params["workflow"], "message": n.params["message"]}


@composer("custom")
def _custom(n: Notification) -> str:
    return str(n.params["text"])
