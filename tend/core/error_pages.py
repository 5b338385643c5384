"""The error pages: 403, 404 and 500 as styled pages in the viewer's language, and as problem
documents (never HTML) for the API's paths. The 500 page renders without a request context, so
that it shows when the database is what failed."""

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from .api import problem

API_PREFIXES = ("/api/",)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem(400, _("Bad request"), _("The request could not be understood."))
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem(403, _("Forbidden"), str(exception) or _("You may not do this."))
    return render(request, "403.html", {"reason": str(exception)}, status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem(404, _("Not found"), _("Nothing exists at this address."))
    return render(request, "404.html", {"request_path": request.path}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return problem(500, _("Server error"), _("Something went wrong on our side. Try again in a moment."))
    return HttpResponseServerError(loader.get_template("500.html").render({}))
