import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.brand_assets import validate_favicon, validate_logo
from portico.core.tenancy import TenantModel

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1f6feb."))
slug_label = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    _("Lowercase letters, digits and hyphens; it becomes part of the portal's address."),
)
RESERVED_SLUGS = {"www", "api", "admin", "console", "static", "media", "mail", "portal", "app"}


def new_verification_token() -> str:
    return secrets.token_urlsafe(24)


class Organization(models.Model):
    """A business using Portico: a tenant. Its customers see its portal on its own host."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=63, unique=True, validators=[slug_label])
    base_currency = models.CharField(max_length=3, default="USD")
    time_zone = models.CharField(max_length=64, default="UTC")
    locale = models.CharField(max_length=16, default="en_US")
    portal_title = models.CharField(max_length=200, blank=True)
    logo = models.FileField(upload_to="logos/", blank=True, validators=[validate_logo])
    favicon = models.FileField(upload_to="favicons/", blank=True, validators=[validate_favicon])
    brand_colour = models.CharField(max_length=7, default="#1f5fbf", validators=[hex_colour])
    portal_headline = models.CharField(
        _("portal headline"),
        max_length=200,
        blank=True,
        help_text=_("A line under the portal's name on its sign-in page and overview."),
    )
    custom_domain = models.CharField(max_length=253, unique=True, null=True, blank=True)
    domain_verification_token = models.CharField(max_length=64, default=new_verification_token)
    domain_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The seller's details printed on every invoice (the country also decides whether a customer's
    # address needs its country line).
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    address_city = models.CharField(_("city"), max_length=100, blank=True)
    address_region = models.CharField(_("state or region"), max_length=100, blank=True)
    address_postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    address_country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO code, e.g. US")
    )
    tax_id = models.CharField(_("tax id"), max_length=64, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.custom_domain:
            self.custom_domain = self.custom_domain.strip().lower().rstrip(".") or None
        super().save(*args, **kwargs)

    @property
    def address(self) -> dict:
        """The address parts, named as `customers.models.Address` names them."""
        return {
            "line1": self.address_line1,
            "line2": self.address_line2,
            "city": self.address_city,
            "region": self.address_region,
            "postal_code": self.address_postal_code,
            "country": self.address_country,
        }

    @property
    def display_title(self) -> str:
        return self.portal_title or self.name

    @property
    def host(self) -> str:
        if self.custom_domain and self.domain_verified_at:
            return self.custom_domain
        return f"{self.slug}.{settings.PORTICO_BASE_DOMAIN}"

    @property
    def portal_url(self) -> str:
        return self.public_url("/portal/")

    def public_url(self, path: str = "/portal/", *, port: int | None = None) -> str:
        """An absolute address on this organization's host; the port is `PORTICO_PUBLIC_PORT` unless given."""
        scheme = "https" if settings.PORTICO_HTTPS else "http"
        port = port or settings.PORTICO_PUBLIC_PORT
        default_port = 443 if settings.PORTICO_HTTPS else 80
        suffix = f":{port}" if port and int(port) != default_port else ""
        return f"{scheme}://{self.host}{suffix}{path}"


class AuditEvent(TenantModel):
    """Who did what to which object, from where. Written by `core.audit.audit`, never edited."""

    class ActorKind(models.TextChoices):
        STAFF = "staff", _("Staff")
        PORTAL = "portal", _("Portal user")
        SYSTEM = "system", _("System")
        API = "api", _("API key")

    # No index of its own: a composite index or unique constraint leads with it.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events", db_index=False
    )
    at = models.DateTimeField()  # indexed below, after the organization
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(  # a partial index below: the system and API keys have none
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # No index of its own: an index below leads with it.
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        db_index=False,
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # The trail grows by two rows a renewal, so only indexes the pages read by: the organization's
        # trail (the console), a customer's (the portal's activity), an object's (a subscription's
        # timeline, a login's sign-ins), and a login's own actions (cleared when it is deleted).
        indexes = [
            models.Index(fields=["organization", "-at"], name="audit_trail_idx"),
            models.Index(fields=["customer", "-at"], name="audit_customer_idx"),
            models.Index(fields=["organization", "object_type", "object_id", "-at"], name="audit_object_idx"),
            models.Index(
                fields=["actor_user"],
                condition=models.Q(actor_user__isnull=False),
                name="audit_actor_user_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


class OutboxEvent(TenantModel):
    """A domain event (`invoice.finalized`, `email.send`) written in the transaction of the change it
    reports, so it exists exactly when the change does. Written by `core.outbox.emit`, never edited."""

    # No index of its own: outbox_event_history_idx leads with it.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="outbox_events", db_index=False
    )
    topic = models.CharField(max_length=64)
    key = models.CharField(max_length=200, null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    # How many consumers it was handed to when emitted; 0 is an event stored for consumers to come.
    delivery_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Consumers find an event through its deliveries; the bill run writes thousands a batch, so
        # one index besides the key's: an organization's events in time (and their cleanup).
        indexes = [models.Index(fields=["organization", "created_at"], name="outbox_event_history_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key"],
                condition=models.Q(key__isnull=False),
                name="outbox_event_key_once_per_organization",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


class OutboxDelivery(TenantModel):
    """One event handed to one consumer, at least once: claimed under a lease, retried with backoff,
    `failed` (with its last error) after too many attempts, until staff retry it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_PROGRESS = "in_progress", _("In progress")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    # No index of its own: a composite index or unique constraint leads with it.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="outbox_deliveries", db_index=False
    )
    # No index of its own: a composite index or unique constraint leads with it.
    event = models.ForeignKey(
        OutboxEvent, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    consumer = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("outbox deliveries")
        constraints = [
            models.UniqueConstraint(fields=["event", "consumer"], name="outbox_delivery_once_per_consumer")
        ]
        indexes = [
            # The sweeper's two questions: what is due, and whose lease has run out.
            models.Index(
                fields=["available_at"], condition=models.Q(status="pending"), name="outbox_delivery_due"
            ),
            models.Index(
                fields=["claimed_until"],
                condition=models.Q(status="in_progress"),
                name="outbox_delivery_leased",
            ),
            models.Index(fields=["organization", "status", "-created_at"], name="outbox_delivery_by_status"),
        ]

    def __str__(self) -> str:
        return f"{self.event.topic} → {self.consumer}"
