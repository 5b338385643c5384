"""The bell (loaded by htmx after the page), the notifications page and the notification settings
section of the preferences page. View as shows the viewed user's notifications, read-only."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.core import policy
from tend.core.web import viewing, workspace_view

from . import queries, services
from .models import OPTIONAL_KINDS, Notification, NotificationSettings
from .text import notification_text, notification_url

BELL_SIZE = 8
PAGE_SIZE = 25


def _rows(items: list[Notification]) -> list[dict]:
    return [{"n": n, "text": notification_text(n), "url": notification_url(n)} for n in items]


def _context(request) -> dict:
    current = viewing(request)
    policy.require(current.actor, policy.Action.READ_NOTIFICATIONS, current.user)
    return {
        "current": current,
        "can_mark": policy.allows(current.actor, policy.Action.MANAGE_NOTIFICATIONS, current.user),
    }


@workspace_view
@require_GET
def bell(request):
    context = _context(request)
    user = context["current"].user
    count = queries.unread_count(user)
    page = queries.notifications_page(user, limit=BELL_SIZE)
    context.update(count=count, badge=queries.badge(count), rows=_rows(page.items))
    return render(request, "notifications/_bell.html", context)


@workspace_view
@require_GET
def notifications(request):
    context = _context(request)
    user = context["current"].user
    kind = request.GET.get("kind", "")
    if kind not in Notification.Kind.values:
        kind = ""
    unread = request.GET.get("unread") == "1"
    page = queries.notifications_page(
        user, kind=kind, unread=unread, cursor=request.GET.get("after", ""), limit=PAGE_SIZE
    )
    context.update(
        kind=kind,
        unread=unread,
        kinds=Notification.Kind.choices,
        rows=_rows(page.items),
        next_cursor=page.next_cursor,
        unread_count=queries.unread_count(user),
        active_tab="notifications",
    )
    template = "notifications/notifications.html#rows" if request.htmx and request.GET.get("after") else None
    return render(request, template or "notifications/notifications.html", context)


def _next(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@workspace_view
@require_POST
def open_notification(request, notification_id: int):
    """Mark it read and go where it points."""
    current = viewing(request)
    n = (
        Notification.objects.for_user(current.user)
        .select_related("record__object_type")
        .filter(pk=notification_id)
        .first()
    )
    if n is None:
        raise Http404
    if policy.allows(current.actor, policy.Action.MANAGE_NOTIFICATIONS, current.user):
        services.notifications_mark_read(actor=current.actor, user=current.user, ids=[n.pk])
    return HttpResponseRedirect(notification_url(n))


@workspace_view
@require_POST
def read_all(request):
    current = viewing(request)
    services.notifications_mark_read(actor=current.actor, user=current.user)
    if request.htmx:
        return bell(request)
    messages.success(request, _("All notifications are marked as read."))
    return redirect(_next(request, "/notifications/"))


class SettingsForm(forms.ModelForm):
    class Meta:
        model = NotificationSettings
        fields = [*OPTIONAL_KINDS, "digest"]


@workspace_view
@require_http_methods(["GET", "POST"])
def settings_section(request):
    """The "Notifications" section of the preferences page (always one's own, as preferences are)."""
    actor = policy.Actor(request.user)
    current = services.notification_settings_for(request.user)
    form = SettingsForm(request.POST or None, instance=current)
    saved = False
    if request.method == "POST" and form.is_valid():
        services.notification_settings_update(
            actor=actor, user=request.user, **{name: form.cleaned_data[name] for name in SettingsForm.Meta.fields}
        )
        saved = True
    return render(request, "notifications/_settings.html", {"form": form, "saved": saved})
