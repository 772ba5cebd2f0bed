import secrets
from dataclasses import dataclass

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from portico.core import tenancy
from portico.core.fields import PublicIdField
from portico.core.tenancy import TenantModel


@dataclass(frozen=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""

    def __bool__(self) -> bool:
        return any((self.line1, self.city, self.postal_code, self.country))

    def lines(self, *, home_country: str = "") -> list[str]:
        """Laid out for its country (`customers.addresses`); `home_country` is the sender's."""
        from portico.customers.addresses import address_lines

        return address_lines(self, home_country=home_country)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


ADDRESS_PARTS = ("line1", "line2", "city", "region", "postal_code", "country")


class Customer(TenantModel):
    """A business's customer: who invoices are addressed to and whose contacts use the portal."""

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    public_id = PublicIdField()
    display_name = models.CharField(_("display name"), max_length=200)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MinValueValidator(0)]
    )
    tax_id = models.CharField(_("tax id"), max_length=64, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    billing_line1 = models.CharField(_("address"), max_length=200, blank=True)
    billing_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    billing_city = models.CharField(_("city"), max_length=100, blank=True)
    billing_region = models.CharField(_("state / region"), max_length=100, blank=True)
    billing_postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    billing_country = models.CharField(_("country"), max_length=2, blank=True)
    shipping_line1 = models.CharField(_("address"), max_length=200, blank=True)
    shipping_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    shipping_city = models.CharField(_("city"), max_length=100, blank=True)
    shipping_region = models.CharField(_("state / region"), max_length=100, blank=True)
    shipping_postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    shipping_country = models.CharField(_("country"), max_length=2, blank=True)

    # Statements by email (billing.statement_mail): None is off; else last month's statement is
    # emailed on this day of each month (1–28, so every month has it), in the organization's zone.
    statement_day = models.PositiveSmallIntegerField(
        _("statement email day"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_(
            "Email the customer last month's statement on this day of each month (1–28). Blank: off."
        ),
    )

    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name", "id"]
        indexes = [models.Index(fields=["organization", "display_name"])]
        constraints = [
            models.CheckConstraint(  # a day every month has (the form says so too)
                condition=Q(statement_day__isnull=True) | Q(statement_day__gte=1, statement_day__lte=28),
                name="customer_statement_day_in_every_month",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    def _address(self, prefix: str) -> Address:
        return Address(**{part: getattr(self, f"{prefix}_{part}") for part in ADDRESS_PARTS})

    @property
    def billing_address(self) -> Address:
        return self._address("billing")

    @property
    def shipping_address(self) -> Address:
        return self._address("shipping")

    @property
    def primary_contact(self):
        return self.contacts.filter(is_primary=True).first()


def new_public_id() -> str:
    """A random, unguessable id for addressing a row in URLs (never the sequential primary key)."""
    return secrets.token_urlsafe(9)  # 12 characters


class PortalRole(models.TextChoices):
    ADMIN = "admin", _("Admin — manage contacts and access, and everything else")
    BILLING = "billing", _("Billing — pay, manage subscriptions and cards")
    VIEWER = "viewer", _("Viewer — read only")


class ContactPerson(TenantModel):
    """A person at a customer. With portal access, they log in to the customer's portal."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    has_portal_access = models.BooleanField(_("portal access"), default=False)
    portal_role = models.CharField(
        _("portal role"), max_length=10, choices=PortalRole.choices, default=PortalRole.VIEWER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "first_name", "last_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary=True), name="one_primary_contact_per_customer"
            ),
            models.UniqueConstraint(Lower("email"), "customer", name="contact_email_unique_per_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
