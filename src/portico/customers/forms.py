"""Portal forms about the customer: company details and addresses, contact persons."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.core.formfields import LongSelect
from portico.customers.models import ADDRESS_PARTS, ContactPerson, Customer, PortalRole
from portico.customers.validation import clean_address, country_choices, validate_phone

COMPANY_FIELDS = [
    "company_name",
    "email",
    "phone",
    "tax_id",
    *[f"billing_{p}" for p in ADDRESS_PARTS],
    *[f"shipping_{p}" for p in ADDRESS_PARTS],
]


class CompanyForm(forms.ModelForm):
    """The customer's own record, as a portal admin may edit it. Addresses are checked per country."""

    class Meta:
        model = Customer
        fields = COMPANY_FIELDS
        labels = {"email": _("Billing email"), "tax_id": _("Tax id (VAT, EIN, GST…)")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_addresses = "billing_line1" in self.fields
        if self.has_addresses:
            for prefix in ("billing", "shipping"):
                self.fields[f"{prefix}_country"] = forms.ChoiceField(
                    label=_("Country"),
                    required=False,
                    choices=[("", "—"), *country_choices()],
                    widget=LongSelect,
                )
            self.fields["billing_line1"].label = _("Street address")
            self.fields["shipping_line1"].label = _("Street address")
            self.fields["billing_postal_code"].widget.attrs["autocomplete"] = "postal-code"
        self.fields["email"].required = True
        for name, attr in (("phone", "tel"), ("email", "email")):
            self.fields[name].widget.attrs["autocomplete"] = attr

    def clean_phone(self):
        value = self.cleaned_data.get("phone", "").strip()
        validate_phone(value)
        return value

    def clean_tax_id(self):
        value = self.cleaned_data.get("tax_id", "").strip().upper()
        if value and not all(c.isalnum() or c in " -./" for c in value):
            raise forms.ValidationError(
                _("A tax id has letters, digits, spaces, dashes, dots or slashes only.")
            )
        return value

    def clean(self):
        data = super().clean()
        if not self.has_addresses:
            return data
        for prefix, required in (("billing", True), ("shipping", False)):
            for field, error in clean_address(data, prefix, required=required).items():
                self.add_error(field, error)
            for part in ADDRESS_PARTS:
                name = f"{prefix}_{part}"
                if isinstance(data.get(name), str):
                    data[name] = data[name].strip()
            if data.get(f"{prefix}_postal_code"):
                data[f"{prefix}_postal_code"] = data[f"{prefix}_postal_code"].upper()
        return data

    def address_groups(self):
        if not self.has_addresses:
            return []
        return [
            (_("Billing address"), [self[f"billing_{p}"] for p in ADDRESS_PARTS]),
            (_("Shipping address (leave empty if the same)"), [self[f"shipping_{p}"] for p in ADDRESS_PARTS]),
        ]


class CompanyDetailsForm(CompanyForm):
    """The company's details without its addresses: for a portal whose configuration keeps the
    addresses with the business (`profile.addresses` switched off)."""

    class Meta(CompanyForm.Meta):
        fields = [f for f in COMPANY_FIELDS if not f.startswith(("billing_", "shipping_"))]


class ContactForm(forms.ModelForm):
    """A contact person of the customer, as a portal admin adds or edits them."""

    invite = forms.BooleanField(
        label=_("Invite them to the portal now (they receive a link to set a password)"), required=False
    )

    class Meta:
        model = ContactPerson
        fields = ["first_name", "last_name", "email", "phone", "portal_role"]
        help_texts = {"portal_role": _("What they may do once they have portal access.")}

    def __init__(self, *args, customer: Customer, **kwargs):
        self.customer = customer
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["invite"]
            del self.fields["portal_role"]  # changed on its own, with reauthentication
        else:
            self.fields["portal_role"].initial = PortalRole.VIEWER
        self.fields["email"].widget.attrs["autocomplete"] = "off"

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        others = ContactPerson.all_tenants.filter(customer=self.customer, email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("Another contact person of your company already has this email."))
        return email

    def clean_phone(self):
        value = self.cleaned_data.get("phone", "").strip()
        validate_phone(value)
        return value


class PersonalDetailsForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["phone"].widget.attrs["autocomplete"] = "tel"

    def clean_phone(self):
        value = self.cleaned_data.get("phone", "").strip()
        validate_phone(value)
        return value
