"""Domain errors of the catalog: `DomainError`s (see `core/errors.py`), each with a message fit to
show staff or the customer, a stable `code` from `Code` below for the API, and the form `field` it
concerns. Raised before anything is written."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.errors import DomainError


class Code(models.TextChoices):
    """The codes of the catalog's errors."""

    CATALOG_ERROR = "catalog_error"
    INVALID_PRICING = "invalid_pricing"
    INVALID_TIERS = "invalid_tiers"
    COUPON_REFUSED = "coupon_refused"
    COUPON_NOT_FOUND = "coupon_not_found"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_USED_UP = "coupon_used_up"
    COUPON_NOT_APPLICABLE = "coupon_not_applicable"
    COUPON_ARCHIVED = "coupon_archived"


class CatalogError(DomainError):
    code = Code.CATALOG_ERROR
    message = _("This catalog entry is not valid.")


class InvalidPricing(CatalogError):
    """A plan's or addon's price does not fit its pricing model."""

    code = Code.INVALID_PRICING
    message = _("Check the price: it does not fit the pricing model.")


class InvalidTiers(CatalogError):
    """Tiers that do not cover every quantity exactly once, in ascending order."""

    code = Code.INVALID_TIERS
    field = "tiers"
    message = _("Check the tiers: each ends above the previous one and the last has no upper limit.")


class CouponRefused(CatalogError):
    """A coupon code that cannot be redeemed here; the message says why, for the customer."""

    code = Code.COUPON_REFUSED
    field = "coupon_code"
    message = _("That coupon code cannot be used here.")


class CouponNotFound(CouponRefused):
    code = Code.COUPON_NOT_FOUND
    message = _("That coupon code does not exist. Check its spelling.")


class CouponExpired(CouponRefused):
    code = Code.COUPON_EXPIRED
    message = _("That coupon code has expired.")


class CouponUsedUp(CouponRefused):
    code = Code.COUPON_USED_UP
    message = _("That coupon code has already been used as many times as it allows.")


class CouponNotApplicable(CouponRefused):
    code = Code.COUPON_NOT_APPLICABLE
    message = _("That coupon code cannot be used for this plan.")


class CouponArchived(CouponRefused):
    code = Code.COUPON_ARCHIVED
    message = _("That coupon code is no longer offered.")
