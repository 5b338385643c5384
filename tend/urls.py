from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import path, re_path
from django.utils.translation import gettext as _

from tend.api import api
from tend.core.api import problem


def health(request):
    return JsonResponse({"status": "ok"})


def api_not_found(request, rest=""):
    return problem(404, _("Not found"), _("No API endpoint at this address; see /api/v1/docs."))


def home(request):
    return redirect("/api/v1/docs")


urlpatterns = [
    path("", home),
    path("healthz", health),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
]
