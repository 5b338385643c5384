"""Shared pieces of the HTML views: who is acting, whom we are viewing as, htmx helpers."""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import policy
from .errors import Forbidden

VIEW_AS_SESSION_KEY = "tend_view_as"


@dataclass(frozen=True)
class Viewing:
    """The signed-in `actor` and the `user` whose workspace is shown (the same unless View as)."""

    actor: policy.Actor
    user: object

    @property
    def is_view_as(self) -> bool:
        return self.user.pk != self.actor.user.pk

    @property
    def can_act(self) -> bool:
        """Actions that would act as the viewed user are disabled while viewing as someone else."""
        return not self.is_view_as


def viewing(request: HttpRequest) -> Viewing:
    User = get_user_model()
    actor = policy.Actor(request.user)
    user = request.user
    other_id = request.session.get(VIEW_AS_SESSION_KEY)
    if other_id and policy.allows(actor, policy.Action.VIEW_AS):
        user = User.objects.filter(pk=other_id, is_active=True).first() or request.user
    return Viewing(actor=actor, user=user)


def workspace_view(view):
    """Signed in, with workspace access; Forbidden becomes a page that explains what is missing."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not policy.allows(request.user, policy.Action.USE_WORKSPACE):
            return explain_forbidden(
                request, _("You need access to the Customer Success workspace. Ask a super admin.")
            )
        try:
            return view(request, *args, **kwargs)
        except Forbidden as exc:
            return explain_forbidden(request, str(exc))

    return wrapper


def explain_forbidden(request: HttpRequest, reason: str):
    template = "core/_forbidden.html" if getattr(request, "htmx", False) else "core/forbidden.html"
    return render(request, template, {"reason": reason}, status=403)
