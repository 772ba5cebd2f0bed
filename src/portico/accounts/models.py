from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from portico.core import tenancy


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
