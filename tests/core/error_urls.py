"""Tend's URLs plus two that fail, for the error page tests."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from tend.urls import handler403, handler404, handler500  # noqa: F401
from tend.urls import urlpatterns as tend_urlpatterns


def boom(request):
    raise RuntimeError("boom")


def refuse(request):
    raise PermissionDenied


urlpatterns = [
    path("boom/", boom),
    path("api/v1/boom/", boom),
    path("refuse/", refuse),
    *tend_urlpatterns,
]
