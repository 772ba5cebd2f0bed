"""Customers and their contact persons: list (with filters), retrieve, create, update; a contact's
portal access as actions (`invite`, `grant_access`, `revoke_access`) — the services of the portal
and the console (`customers.services`, `accounts.services`), with their rules and audit."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from portico.accounts import services as access
from portico.api import ids
from portico.api.resources import actor, responses
from portico.api.schemas import Currency, ListParams, UtcDateTime, changed, list_of, paginate
from portico.api.validation import full_clean
from portico.customers import services
from portico.customers.models import ADDRESS_PARTS, ContactPerson, Customer, PortalRole

router = Router(tags=["customers"])
contacts_router = Router(tags=["contacts"])

# -- schemas --------------------------------------------------------------------------------------


class Address(Schema):
    line1: str = Field("", max_length=200)
    line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    region: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    country: str = Field("", max_length=2, description="ISO 3166-1 alpha-2, such as US")


class CustomerIn(Schema):
    display_name: str = Field(..., min_length=1, max_length=200)
    company_name: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    currency: Currency | None = Field(None, description="Default: the organization's base currency.")
    payment_terms_days: int = Field(30, ge=0, le=3650)
    tax_id: str = Field("", max_length=64)
    notes: str = Field("", max_length=10000)
    billing_address: Address | None = None
    shipping_address: Address | None = None


class CustomerUpdate(Schema):
    """Only the fields sent change."""

    display_name: str = Field(None, min_length=1, max_length=200)
    company_name: str = Field(None, max_length=200)
    email: str = Field(None, max_length=254)
    phone: str = Field(None, max_length=40)
    currency: Currency = None
    payment_terms_days: int = Field(None, ge=0, le=3650)
    tax_id: str = Field(None, max_length=64)
    notes: str = Field(None, max_length=10000)
    billing_address: Address = None
    shipping_address: Address = None
    is_active: bool = None


class CustomerOut(Schema):
    id: str
    object: Literal["customer"] = "customer"
    display_name: str
    company_name: str
    email: str
    phone: str
    currency: str
    payment_terms_days: int
    tax_id: str
    notes: str
    billing_address: Address
    shipping_address: Address
    is_active: bool
    created_at: dt.datetime


class CustomerFilters(ListParams):
    email: str | None = Field(None, max_length=254, description="Exact, whatever the case.")
    currency: str | None = Field(None, max_length=3)
    is_active: bool | None = None
    created_gte: UtcDateTime | None = Field(None, description="Created at or after (ISO 8601).")
    created_lt: UtcDateTime | None = Field(None, description="Created before (ISO 8601).")


Role = Literal[tuple(PortalRole.values)]


class ContactIn(Schema):
    first_name: str = Field(..., min_length=1, max_length=100)
    last_name: str = Field("", max_length=100)
    email: str = Field(..., min_length=3, max_length=254)
    phone: str = Field("", max_length=40)
    is_primary: bool = False
    portal_role: Role = PortalRole.VIEWER.value


class ContactUpdate(Schema):
    first_name: str = Field(None, min_length=1, max_length=100)
    last_name: str = Field(None, max_length=100)
    email: str = Field(None, min_length=3, max_length=254)
    phone: str = Field(None, max_length=40)
    is_primary: bool = None
    portal_role: Role = None


class ContactOut(Schema):
    id: str
    object: Literal["contact"] = "contact"
    customer: str
    first_name: str
    last_name: str
    email: str
    phone: str
    is_primary: bool
    has_portal_access: bool
    portal_role: str
    created_at: dt.datetime


# -- serializers and parsing ----------------------------------------------------------------------

# the model's field → the API's, for validation errors
CUSTOMER_NAMES = {
    f"{kind}_{part}": f"{kind}_address.{part}" for kind in ("billing", "shipping") for part in ADDRESS_PARTS
}


def customer_out(customer: Customer) -> dict:
    return {
        "id": ids.public_id(customer),
        "object": "customer",
        **{
            name: getattr(customer, name)
            for name in (
                "display_name",
                "company_name",
                "email",
                "phone",
                "currency",
                "payment_terms_days",
                "tax_id",
                "notes",
                "is_active",
                "created_at",
            )
        },
        "billing_address": customer.billing_address.as_dict(),
        "shipping_address": customer.shipping_address.as_dict(),
    }


def customer_fields(data: dict) -> dict:
    """An API body as the model's fields (addresses flattened to `billing_line1`…)."""
    fields = {}
    for name, value in data.items():
        if name in ("billing_address", "shipping_address"):
            prefix = name.removesuffix("_address")
            for part in ADDRESS_PARTS:
                fields[f"{prefix}_{part}"] = ((value or {}).get(part) or "").strip()
        elif isinstance(value, str):
            fields[name] = value.strip()
        else:
            fields[name] = value
    if fields.get("billing_country"):
        fields["billing_country"] = fields["billing_country"].upper()
    if fields.get("shipping_country"):
        fields["shipping_country"] = fields["shipping_country"].upper()
    return fields


def contact_out(contact: ContactPerson) -> dict:
    return {
        "id": ids.public_id(contact),
        "object": "contact",
        "customer": ids.public_id(contact.customer),
        **{
            name: getattr(contact, name)
            for name in (
                "first_name",
                "last_name",
                "email",
                "phone",
                "is_primary",
                "has_portal_access",
                "portal_role",
                "created_at",
            )
        },
    }


def contact_fields(data: dict) -> dict:
    fields = {name: value.strip() if isinstance(value, str) else value for name, value in data.items()}
    if isinstance(fields.get("email"), str):
        fields["email"] = fields["email"].lower()
    return fields


def _customer(customer_id: str) -> Customer:
    return ids.get(Customer.objects.all(), customer_id)


def _contact(contact_id: str) -> ContactPerson:
    return ids.get(ContactPerson.objects.select_related("customer"), contact_id)


# -- customers ------------------------------------------------------------------------------------


@router.get("", response=responses({200: list_of(CustomerOut)}), summary="List customers")
def list_customers(request, filters: Query[CustomerFilters]):
    customers = Customer.objects.all()
    if filters.email:
        customers = customers.filter(email__iexact=filters.email.strip())
    if filters.currency:
        customers = customers.filter(currency=filters.currency.upper())
    if filters.is_active is not None:
        customers = customers.filter(is_active=filters.is_active)
    if filters.created_gte is not None:
        customers = customers.filter(created_at__gte=filters.created_gte)
    if filters.created_lt is not None:
        customers = customers.filter(created_at__lt=filters.created_lt)
    return paginate(customers, filters, customer_out)


@router.post("", response=responses({201: CustomerOut}), summary="Create a customer")
def create_customer(request, payload: CustomerIn):
    fields = customer_fields(payload.model_dump())
    fields["currency"] = fields.get("currency") or request.organization.base_currency
    candidate = Customer(organization=request.organization, **fields)
    full_clean(candidate, names=CUSTOMER_NAMES, exclude=["public_id"])
    customer = services.create_customer(organization=request.organization, data=fields, actor=actor(request))
    return Status(201, customer_out(customer))


@router.get("/{customer_id}", response=responses({200: CustomerOut}), summary="Retrieve a customer")
def get_customer(request, customer_id: str):
    return customer_out(_customer(customer_id))


@router.post("/{customer_id}", response=responses({200: CustomerOut}), summary="Update a customer")
def update_customer(request, customer_id: str, payload: CustomerUpdate):
    customer = _customer(customer_id)
    fields = customer_fields(changed(payload))
    candidate = Customer.objects.get(pk=customer.pk)
    for name, value in fields.items():
        setattr(candidate, name, value)
    full_clean(candidate, names=CUSTOMER_NAMES)
    customer = services.update_company(customer=customer, data=fields, actor=actor(request))
    return customer_out(customer)


# -- contacts -------------------------------------------------------------------------------------


@router.get(
    "/{customer_id}/contacts", response=responses({200: list_of(ContactOut)}), summary="List contacts"
)
def list_contacts(request, customer_id: str, params: Query[ListParams]):
    customer = _customer(customer_id)
    return paginate(
        ContactPerson.objects.filter(customer=customer).select_related("customer"), params, contact_out
    )


@router.post("/{customer_id}/contacts", response=responses({201: ContactOut}), summary="Add a contact")
def create_contact(request, customer_id: str, payload: ContactIn):
    customer = _customer(customer_id)
    fields = contact_fields(payload.model_dump())
    full_clean(
        ContactPerson(organization=customer.organization, customer=customer, **fields), exclude=["public_id"]
    )
    contact = services.add_contact(customer=customer, data=fields, actor=actor(request))
    return Status(201, contact_out(contact))


@contacts_router.get("/{contact_id}", response=responses({200: ContactOut}), summary="Retrieve a contact")
def get_contact(request, contact_id: str):
    return contact_out(_contact(contact_id))


DETAILS = ("first_name", "last_name", "email", "phone", "is_primary")


@contacts_router.post("/{contact_id}", response=responses({200: ContactOut}), summary="Update a contact")
def update_contact(request, contact_id: str, payload: ContactUpdate):
    contact = _contact(contact_id)
    fields = contact_fields(changed(payload))
    candidate = ContactPerson.objects.get(pk=contact.pk)
    for name, value in fields.items():
        setattr(candidate, name, value)
    full_clean(candidate)
    who = actor(request)
    details = {name: value for name, value in fields.items() if name in DETAILS}
    if details:
        services.update_contact(contact=contact, data=details, actor=who)
    if "portal_role" in fields:
        access.set_portal_role(contact=contact, role=fields["portal_role"], actor=who)
    return contact_out(_contact(contact_id))


@contacts_router.delete("/{contact_id}", response=responses({204: None}), summary="Remove a contact")
def delete_contact(request, contact_id: str):
    contact = _contact(contact_id)
    who = actor(request)
    if contact.has_portal_access:
        access.set_portal_access(contact=contact, enabled=False, actor=who)  # the last-admin guard
    services.remove_contact(contact=contact, actor=who)
    return Status(204, None)


@contacts_router.post(
    "/{contact_id}/invite", response=responses({200: ContactOut}), summary="Invite to the portal"
)
def invite_contact(request, contact_id: str):
    """Grant portal access and email a single-use link to set a password (earlier links stop working)."""
    contact = _contact(contact_id)
    access.invite_contact(contact=contact, actor=actor(request))
    return contact_out(_contact(contact_id))


@contacts_router.post(
    "/{contact_id}/grant_access", response=responses({200: ContactOut}), summary="Turn portal access on"
)
def grant_access(request, contact_id: str):
    """A contact without a password yet is sent an invitation."""
    contact = _contact(contact_id)
    access.set_portal_access(contact=contact, enabled=True, actor=actor(request))
    return contact_out(_contact(contact_id))


@contacts_router.post(
    "/{contact_id}/revoke_access", response=responses({200: ContactOut}), summary="Turn portal access off"
)
def revoke_access(request, contact_id: str):
    """Signs the contact out everywhere at once."""
    contact = _contact(contact_id)
    access.set_portal_access(contact=contact, enabled=False, actor=actor(request))
    return contact_out(_contact(contact_id))
