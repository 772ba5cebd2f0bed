"""Forms of the sign-in flows that allauth does not cover (invitations) and the lockout wrappers
around allauth's own forms (ACCOUNT_FORMS / MFA_FORMS in settings), and a portal user's change of
their email address."""

from __future__ import annotations

from allauth.account.forms import LoginForm, ResetPasswordForm
from allauth.core import context as allauth_context
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from allauth.mfa.totp.forms import ActivateTOTPForm
from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portico.accounts import lockout
from portico.accounts.models import AuthFailure, User
from portico.core.audit import client_ip


def _organization():
    return getattr(allauth_context.request, "organization", None)


class PortalLoginForm(LoginForm):
    """allauth's sign-in form in the portal's words."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("Email")
        if "remember" in self.fields:
            self.fields["remember"].label = _("Keep me signed in")
            self.fields["remember"].help_text = _("Not on a shared or public computer.")


class LimitedResetPasswordForm(ResetPasswordForm):
    """allauth's reset request, limited per address and per IP. Never says whether the address exists."""

    def clean_email(self):
        email = super().clean_email()
        request = allauth_context.request
        kind = AuthFailure.Kind.RESET
        if lockout.is_locked(
            kind=kind, organization=_organization(), key=email, ip_address=client_ip(request)
        ):
            raise ValidationError(
                _(
                    "Too many password reset requests. For your security, wait %(minutes)d minutes "
                    "before asking again, and check your inbox and spam folder for the last email."
                )
                % {"minutes": lockout.minutes_of(kind)},
                code="too_many_resets",
            )
        lockout.record_failure(
            kind=kind, organization=_organization(), key=email, ip_address=client_ip(request)
        )
        return email


class _LimitedCodeMixin:
    """Wrong second-factor codes are counted per user; at the limit even a right code is refused."""

    def clean_code(self):
        request = allauth_context.request
        key = f"user:{self.user.pk}"
        kind = AuthFailure.Kind.MFA
        if lockout.is_locked(kind=kind, organization=_organization(), key=key, ip_address=None):
            raise ValidationError(
                _(
                    "Too many wrong codes. For your security, code entry is paused for %(minutes)d "
                    "minutes. Try again later, or use a recovery code after the pause."
                )
                % {"minutes": lockout.minutes_of(kind)},
                code="too_many_codes",
            )
        try:
            return super().clean_code()
        except ValidationError:
            lockout.record_failure(
                kind=kind, organization=_organization(), key=key, ip_address=client_ip(request)
            )
            raise


class LimitedAuthenticateForm(_LimitedCodeMixin, AuthenticateForm):
    pass


class LimitedReauthenticateForm(_LimitedCodeMixin, ReauthenticateForm):
    pass


class AcceptInvitationForm(SetPasswordForm):
    """Django's set-password form: both fields, and every AUTH_PASSWORD_VALIDATORS rule."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].label = _("Choose a password")
        self.fields["new_password2"].label = _("Type the password again")
        self.fields["new_password1"].widget.attrs["autofocus"] = True

    def save(self, commit=False):  # the service sets the password, in its transaction
        return self.user


class SingleUseActivateTOTPForm(ActivateTOTPForm):
    """Turning the authenticator app on uses up its code: the same code cannot then sign in."""

    def clean_code(self):
        from portico.accounts.totp import mark_user_code_used

        code = super().clean_code()
        if not mark_user_code_used(self.user.pk, code):
            raise ValidationError(
                _("This code was already used. Wait for the next code in your app."), code="code_used"
            )
        return code


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=_("New email address"), max_length=254)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if email == self.user.email:
            raise forms.ValidationError(_("That is already your email address."))
        if User.all_tenants.filter(organization=self.user.organization_id, email__iexact=email).exists():
            raise forms.ValidationError(
                _("Another login of this business already uses that address. Choose a different one.")
            )
        return email
