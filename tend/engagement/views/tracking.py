"""What recipients' mail clients reach: the open pixel and the click redirect. No sign-in: the
signed token is the permission, and a bad one is a plain 404."""

import base64

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tend.core import clock

from ..mail import tracking

_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
@require_safe
def email_open(request, token: str):
    try:
        email = tracking.email_for_open(token)
    except tracking.BadToken as exc:
        raise Http404 from exc
    if request.method == "GET":
        tracking.record_email_event(email, "opened", clock.now())
    return HttpResponse(_PIXEL, content_type="image/gif")


@never_cache
@require_safe
def email_click(request, token: str):
    url = request.GET.get("u", "")
    try:
        click = tracking.click_for(token, url)
    except tracking.BadToken as exc:
        raise Http404 from exc
    if request.method == "GET":
        tracking.record_email_event(click.email, "clicked", clock.now(), url=click.url)
    return HttpResponseRedirect(click.url)
