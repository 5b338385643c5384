"""Sign-in, personal preferences (language, time zone) and View as."""

import urllib.parse
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tend.core import policy
from tend.core.errors import ValidationFailed
from tend.core.web import VIEW_AS_SESSION_KEY, explain_forbidden

from .models import LANGUAGE_CHOICES, User
from .services import user_update_preferences


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(label=gettext_lazy("Email"), widget=forms.EmailInput(attrs={"autofocus": True}))

    def clean_username(self) -> str:
        # Emails are stored lower-cased; people type them any way.
        return self.cleaned_data["username"].strip().lower()


class LoginView(auth_views.LoginView):
    template_name = "directory/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=LANGUAGE_CHOICES)
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"), choices=[(z, z) for z in sorted(zoneinfo.available_timezones())]
    )


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    form = PreferencesForm(
        request.POST or None, initial={"language": request.user.language, "time_zone": request.user.time_zone}
    )
    if request.method == "POST" and form.is_valid():
        try:
            user_update_preferences(user=request.user, **form.cleaned_data)
        except ValidationFailed as exc:
            for error in exc.errors:
                form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            translation.activate(request.user.language)
            messages.success(request, _("Your preferences are saved."))
            return redirect("preferences")
    return render(request, "directory/preferences.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def view_as(request):
    if not policy.allows(request.user, policy.Action.VIEW_AS):
        return explain_forbidden(request, _("You need the “Manage Customer Success settings” permission."))
    if request.method == "POST":
        if request.POST.get("stop"):
            request.session.pop(VIEW_AS_SESSION_KEY, None)
            messages.info(request, _("You are back to your own workspace."))
            return redirect("/")
        target = User.objects.filter(pk=request.POST.get("user") or 0, is_active=True).first()
        if target is None:
            messages.error(request, _("Choose a user."))
            return redirect("view-as")
        request.session[VIEW_AS_SESSION_KEY] = target.pk
        return redirect("/")
    users = User.objects.filter(is_active=True, cs_workspace_access=True).exclude(pk=request.user.pk)
    return render(
        request, "directory/view_as.html", {"users": users, "current": request.session.get(VIEW_AS_SESSION_KEY)}
    )


class LocalizedPasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form; the email goes out in the language the user chose in Tend (not the
    language of whoever asked for it), from TEND_EMAIL_FROM."""

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        user = context.get("user")
        with translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE):
            super().send_mail(
                subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name
            )


class PasswordResetView(auth_views.PasswordResetView):
    """ "Forgot your password?": a link by email, valid for PASSWORD_RESET_TIMEOUT and only until used."""

    template_name = "directory/password_reset.html"
    email_template_name = "directory/password_reset_email.txt"
    subject_template_name = "directory/password_reset_subject.txt"
    form_class = LocalizedPasswordResetForm

    def form_valid(self, form):
        # With TEND_BASE_URL the link points at the address users reach Tend at, whatever Host
        # the request named; without it, at the request's own address.
        base = urllib.parse.urlsplit(settings.TEND_BASE_URL) if settings.TEND_BASE_URL else None
        form.save(
            domain_override=base.netloc if base else None,
            use_https=base.scheme == "https" if base else self.request.is_secure(),
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            extra_email_context={"site_name": "Tend"},
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "directory/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "directory/password_reset_confirm.html"


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "directory/password_reset_complete.html"
