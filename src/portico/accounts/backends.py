from allauth.account.auth_backends import AuthenticationBackend

from portico.core import tenancy


def belongs_here(user) -> bool:
    """A login is valid only on its own organization's host (platform users on the platform host)."""
    organization = tenancy.current_organization()
    return user.organization_id == (organization.pk if organization is not None else None)


class TenantAuthenticationBackend(AuthenticationBackend):
    """allauth's email + password backend, refusing users of any other organization."""

    def _check_password(self, user, password):
        if user is not None and not belongs_here(user):
            return None
        return super()._check_password(user, password)

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and belongs_here(user) else None
