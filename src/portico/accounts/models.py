from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from portico.core import tenancy
from portico.core.tenancy import TenantModel, TenantSettingsModel


class UserManager(BaseUserManager):
    """Scoped like tenant data: on a tenant's host only that organization's users exist.

    That is what keeps a session from crossing tenants: Django loads the session's user through
    this manager, so a user of another organization simply is not found on this host.
    """

    use_in_migrations = True

    def get_queryset(self):
        qs = super().get_queryset()
        organization = tenancy.current_organization()
        if organization is not None:
            qs = qs.filter(organization_id=organization.pk)
        return qs

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True, organization=None)
        return self.create_user(email, password, **fields)


class StaffRole(models.TextChoices):
    """What a staff member may do in the console (declared per admin in `console/roles.py`)."""

    OWNER = "owner", _("Owner")
    ADMINISTRATOR = "administrator", _("Administrator")
    FINANCE = "finance", _("Finance")
    SUPPORT = "support", _("Support")
    READ_ONLY = "read_only", _("Read-only")


class User(AbstractBaseUser, PermissionsMixin):
    """A login. Portal users belong to one contact person; staff to one organization.

    Platform superusers have no organization and work only on the platform host.
    """

    organization = models.ForeignKey(
        "core.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )
    email = models.EmailField(_("email"))
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    contact = models.OneToOneField(
        "customers.ContactPerson", null=True, blank=True, on_delete=models.CASCADE, related_name="user"
    )
    is_staff = models.BooleanField(_("console staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # the least a new staff member may do until an owner says otherwise
    staff_role = models.CharField(
        _("staff role"), max_length=20, choices=StaffRole.choices, default=StaffRole.READ_ONLY
    )
    date_joined = models.DateTimeField(auto_now_add=True)

    objects = UserManager()
    all_tenants = BaseUserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        base_manager_name = "all_tenants"
        constraints = [
            models.UniqueConstraint(
                Lower("email"), "organization", name="user_email_unique_per_organization"
            ),
            models.UniqueConstraint(
                Lower("email"), condition=Q(organization__isnull=True), name="platform_user_email_unique"
            ),
            models.CheckConstraint(
                condition=Q(contact__isnull=True) | Q(organization__isnull=False),
                name="portal_user_has_organization",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def is_portal_user(self) -> bool:
        return self.contact_id is not None

    @property
    def is_platform_admin(self) -> bool:
        return self.is_superuser and self.organization_id is None


class AccessPolicy(TenantSettingsModel):
    """How one organization's logins are run: invitations, auto-invite and required second factors."""

    organization = models.OneToOneField(
        "core.Organization", on_delete=models.CASCADE, related_name="access_policy"
    )
    invitation_days = models.PositiveSmallIntegerField(
        _("invitation link valid for (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    auto_invite_contacts = models.BooleanField(
        _("invite new contacts automatically"),
        default=False,
        help_text=_("A contact person added with portal access gets an invitation email at once."),
    )
    portal_mfa_required = models.BooleanField(
        _("require a second factor for portal users"),
        default=False,
        help_text=_("Users without an authenticator app or passkey are taken to set one up first."),
    )
    staff_mfa_required = models.BooleanField(_("require a second factor for console staff"), default=False)

    class Meta(TenantSettingsModel.Meta):
        verbose_name = _("access policy")
        verbose_name_plural = _("access policies")

    def __str__(self) -> str:
        return f"Access policy of {self.organization}"


def access_policy_of(organization) -> AccessPolicy:
    return tenancy.related_setting(organization, "access_policy", AccessPolicy)


class Invitation(TenantModel):
    """A single-use, expiring link that lets a contact person set their portal password.

    Only a hash of the token is stored: the link in the email is the one copy of the secret.
    """

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    contact = models.ForeignKey(
        "customers.ContactPerson", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("sent to"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "contact", "-created_at"])]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def customer(self):
        return self.contact.customer

    def status_at(self, moment) -> str:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if moment >= self.expires_at:
            return self.Status.EXPIRED
        return self.Status.PENDING

    @property
    def status(self) -> str:
        from portico.core import clock

        return self.status_at(clock.now())


class AuthFailure(TenantModel):
    """One failed sign-in, second-factor code or reset request, counted for lockout.

    Kept in the database (not a per-process cache) so that every app server worker sees the same
    count, and timed by `core.clock` so tests move time instead of sleeping.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("Password sign-in")
        MFA = "mfa", _("Second-factor code")
        RESET = "reset", _("Password reset request")

    # Null for sign-ins on the platform host (platform admins), which has no organization.
    organization = models.ForeignKey(
        "core.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=254)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(fields=["kind", "organization", "key", "at"]),
            models.Index(fields=["kind", "organization", "ip_address", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} {self.at:%Y-%m-%d %H:%M}"


class UsedTotpCode(models.Model):
    """A TOTP code already accepted for a user: refused if presented again within its window.

    In the database rather than allauth's default per-process cache, so a code replayed against
    another app server worker is refused too (RFC 6238 §5.2: one-time use).
    """

    # No index of its own: a composite index or unique constraint leads with it.
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+", db_index=False)
    code = models.CharField(max_length=16)
    used_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code"], name="totp_code_used_once")]

    def __str__(self) -> str:
        return f"TOTP code used by {self.user_id}"


class SignInThrottle(TenantModel):
    """Password attempts of one bucket: an account from unknown browsers, an account from one known
    device, or one client address across accounts (accounts/lockout.py).

    One row per bucket, changed only by conditional `UPDATE`s, so concurrent attempts cannot all
    read the same count: each attempt is counted before its password is checked.
    """

    # Null for sign-ins on the platform host (platform admins), which has no organization.
    organization = models.ForeignKey(
        "core.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # "<organization id or ->|account|<email>|<client>" or "<organization id or ->|ip|<address>".
    key = models.CharField(max_length=400, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"


# -- single sign-on (accounts/sso.py) -----------------------------------------------------------


def _sso_key() -> str:
    import secrets

    return "sso" + secrets.token_hex(8)


def parse_email_domains(text: str) -> list[str]:
    """`acme.example, Acme.co.uk` (commas, spaces or lines) → `["acme.example", "acme.co.uk"]`."""
    import re

    seen: list[str] = []
    for part in re.split(r"[\s,;]+", text or ""):
        domain = part.strip().lstrip("@").rstrip(".").lower()
        if domain and domain not in seen:
            seen.append(domain)
    return seen


def domain_of(email: str) -> str:
    return (email or "").rpartition("@")[2].strip().rstrip(".").lower()


class SsoConnection(TenantModel):
    """One identity provider a business's customers may sign in to the portal with.

    Each connection is served to allauth as a `SocialApp` built on the fly for the organization whose
    host the request is on (`sso.PortalSocialAccountAdapter.list_apps`): there are no global provider
    settings, and a connection of one organization does not exist on another's host. `key` is the
    connection's id in URLs (`/portal/account/oidc/<key>/…`, `/portal/account/saml/<key>/…`) and in
    allauth's `SocialAccount.provider`, unique across organizations.
    """

    organization = tenancy.organization_key()  # led by the unique constraint below

    class Protocol(models.TextChoices):
        OIDC = "oidc", _("OpenID Connect")
        SAML = "saml", _("SAML 2.0")

    class TokenAuth(models.TextChoices):
        AUTO = "", _("As the provider advertises")
        POST = "client_secret_post", _("Client secret in the request body")
        BASIC = "client_secret_basic", _("Client secret in the Authorization header")

    key = models.CharField(max_length=40, unique=True, default=_sso_key, editable=False)
    name = models.CharField(
        _("name"), max_length=80, help_text=_("Shown to customers: “Sign in with <name>”.")
    )
    protocol = models.CharField(_("protocol"), max_length=4, choices=Protocol.choices)
    is_active = models.BooleanField(_("active"), default=True)
    listed = models.BooleanField(
        _("show a button on the sign-in page"),
        default=False,
        help_text=_(
            "Off: people reach this connection by typing their email address under “Sign in with "
            "single sign-on” (the connection's name is not shown to everyone)."
        ),
    )
    email_domains = models.TextField(
        _("email domains"),
        blank=True,
        help_text=_(
            "Only addresses at these domains may use this connection (one per line or comma separated). "
            "Empty: any address of a chosen customer."
        ),
    )
    customers = models.ManyToManyField(
        "customers.Customer",
        blank=True,
        related_name="+",
        verbose_name=_("customers"),
        help_text=_("Only contacts of these customers may use it. None chosen: any customer."),
    )
    create_contacts = models.BooleanField(
        _("create contacts on first sign-in"),
        default=False,
        help_text=_(
            "Someone the identity provider vouches for but who is not a contact yet becomes a contact "
            "(viewer role) of the customer that owns their email domain."
        ),
    )
    # OpenID Connect
    discovery_url = models.URLField(
        _("issuer or discovery URL"),
        blank=True,
        max_length=500,
        help_text=_("The issuer (https://login.example.com) or its /.well-known/openid-configuration."),
    )
    client_id = models.CharField(_("client ID"), max_length=255, blank=True)
    client_secret = models.CharField(_("client secret"), max_length=500, blank=True)
    scopes = models.CharField(_("scopes"), max_length=255, default="openid email profile")
    use_pkce = models.BooleanField(_("use PKCE"), default=True)
    token_auth_method = models.CharField(
        _("client authentication"), max_length=20, choices=TokenAuth.choices, blank=True, default=""
    )
    # SAML
    idp_metadata_url = models.URLField(_("IdP metadata URL"), blank=True, max_length=500)
    idp_metadata_xml = models.TextField(
        _("IdP metadata XML"), blank=True, help_text=_("Paste it when the IdP has no metadata URL.")
    )
    idp_entity_id = models.CharField(_("IdP entity ID"), max_length=500, blank=True)
    idp_sso_url = models.URLField(_("IdP sign-in URL"), blank=True, max_length=500)
    idp_certificate = models.TextField(_("IdP signing certificate (PEM)"), blank=True)
    attribute_email = models.CharField(_("email attribute"), max_length=255, blank=True)
    attribute_email_verified = models.CharField(
        _("“email verified” attribute"),
        max_length=255,
        blank=True,
        help_text=_(
            "Empty: the identity provider is trusted for the addresses at this connection's email "
            "domains only, and an address at another domain is refused."
        ),
    )
    attribute_first_name = models.CharField(_("first name attribute"), max_length=255, blank=True)
    attribute_last_name = models.CharField(_("last name attribute"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("single sign-on connection")
        verbose_name_plural = _("single sign-on connections")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="sso_connection_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def domains(self) -> list[str]:
        return parse_email_domains(self.email_domains)

    @property
    def provider_id(self) -> str:
        """allauth's provider id for this connection (`SocialAccount.provider`)."""
        return self.key


# A connection's fields by protocol (the console's sections, the audit's changes)
SSO_OIDC_FIELDS = ["discovery_url", "client_id", "client_secret", "scopes", "use_pkce", "token_auth_method"]
SSO_SAML_FIELDS = [
    "idp_metadata_url",
    "idp_metadata_xml",
    "idp_entity_id",
    "idp_sso_url",
    "idp_certificate",
    "attribute_email",
    "attribute_email_verified",
    "attribute_first_name",
    "attribute_last_name",
]
SSO_COMMON_FIELDS = ["name", "protocol", "is_active", "listed", "email_domains", "create_contacts"]


class SsoAssertion(TenantModel):
    """A SAML assertion already used to sign in: the same assertion presented again is refused,
    whichever browser or app server it reaches (SAML Profiles §4.1.4.5)."""

    organization = tenancy.organization_key()
    connection = models.ForeignKey(SsoConnection, on_delete=models.CASCADE, related_name="+", db_index=False)
    assertion_id = models.CharField(max_length=255)
    expires_at = models.DateTimeField(null=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["connection", "assertion_id"], name="sso_assertion_used_once"),
        ]
        indexes = [models.Index(fields=["organization", "expires_at"])]

    def __str__(self) -> str:
        return self.assertion_id


class CustomerSso(TenantModel):
    """A customer's single sign-on rules: the email domains it owns, whether its contacts must sign
    in with single sign-on, and whether such a sign-in also asks for the portal's second factor."""

    organization = tenancy.organization_key()
    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="sso")
    email_domains = models.TextField(
        _("email domains of this customer"),
        blank=True,
        help_text=_(
            "A connection that creates contacts adds new people at these domains to this customer. "
            "A domain belongs to one customer."
        ),
    )
    sso_required = models.BooleanField(
        _("require single sign-on"),
        default=False,
        help_text=_("This customer's contacts cannot sign in with a password or passkey."),
    )
    sso_second_factor = models.BooleanField(
        _("single sign-on also asks for the portal's second factor"),
        default=False,
        help_text=_("Off: the identity provider's own sign-in (and its MFA) is enough."),
    )

    class Meta(TenantModel.Meta):
        verbose_name = _("single sign-on")
        verbose_name_plural = _("single sign-on")
        indexes = [models.Index(fields=["organization", "customer"])]

    def __str__(self) -> str:
        return f"Single sign-on of {self.customer_id}"

    @property
    def domains(self) -> list[str]:
        return parse_email_domains(self.email_domains)
