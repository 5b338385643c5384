from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _

from tend.api import api
from tend.core.api import problem
from tend.directory import views as directory_views


def health(request):
    return JsonResponse({"status": "ok"})


def api_not_found(request, rest=""):
    return problem(404, _("Not found"), _("No API endpoint at this address; see /api/v1/docs."))


urlpatterns = [
    path("healthz", health),
    path("login/", directory_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", directory_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", directory_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        directory_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("reset/done/", directory_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("me/preferences/", directory_views.preferences, name="preferences"),
    path("view-as/", directory_views.view_as, name="view-as"),
    path("", include("tend.summary.urls")),
    path("", include("tend.workspace.urls")),
    path("", include("tend.boards.urls")),
    path("", include("tend.tasks.urls")),
    path("", include("tend.schedule.urls")),
    path("", include("tend.feed.urls")),
    path("", include("tend.health.urls")),
    path("", include("tend.reports.urls")),
    path("settings/", include("tend.workspace.settings_urls")),
    path("", include("tend.engagement.urls")),
    path("", include("tend.notifications.urls")),
    path("", include("tend.crm.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
]

# Styled pages in the viewer's language; problem documents under /api/ (tend/core/error_pages.py).
handler400 = "tend.core.error_pages.bad_request"
handler403 = "tend.core.error_pages.permission_denied"
handler404 = "tend.core.error_pages.page_not_found"
handler500 = "tend.core.error_pages.server_error"
