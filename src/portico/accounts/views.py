"""Accepting an invitation: the one sign-in page allauth does not provide."""

from allauth.account.utils import perform_login
from django.contrib.auth import logout
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from portico.accounts import services
from portico.accounts.errors import InvitationInvalid
from portico.accounts.forms import AcceptInvitationForm
from portico.core.audit import Actor


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
def accept_invitation(request, token):
    if getattr(request, "organization", None) is None:
        raise Http404
    try:
        invitation = services.invitation_for_token(token, request.organization)
    except InvitationInvalid as error:
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"reason": error.message, "status": error.status},
            status=410 if error.status in ("accepted", "revoked", "expired") else 404,
        )
    user = services.login_of_invited(invitation)
    form = AcceptInvitationForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(
                invitation=invitation,
                password=form.cleaned_data["new_password1"],
                actor=Actor.from_request(request),
            )
        except InvitationInvalid as error:
            return render(request, "accounts/invitation_invalid.html", {"reason": error.message}, status=410)
        if request.user.is_authenticated:
            logout(request)  # someone else's session in this browser must not carry over
        return perform_login(request, user, redirect_url="/portal/")
    return render(request, "accounts/accept_invitation.html", {"form": form, "invitation": invitation})
