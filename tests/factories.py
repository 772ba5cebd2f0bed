"""factory_boy factories. Fixed values for money; each test builds what it needs."""

import factory

from portico.accounts.models import User
from portico.core.models import Organization
from portico.customers.models import ContactPerson, Customer, PortalRole

PASSWORD = "correct-horse-battery"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Business {n}")
    slug = factory.Sequence(lambda n: f"business{n}")
    base_currency = "USD"
    time_zone = "America/Chicago"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    display_name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"accounts{n}@customer.example")
    currency = factory.LazyAttribute(lambda o: o.organization.base_currency)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPerson

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.LazyAttribute(lambda o: o.customer.organization)
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Contact{n}")
    email = factory.Sequence(lambda n: f"person{n}@customer.example")
    has_portal_access = True
    portal_role = PortalRole.ADMIN


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def portal_user(contact: ContactPerson, password: str = PASSWORD) -> User:
    """The login of a contact person."""
    user = User(
        organization=contact.organization,
        email=contact.email,
        contact=contact,
        first_name=contact.first_name,
        last_name=contact.last_name,
    )
    user.set_password(password)
    user.save()
    return user


def staff_user(
    organization: Organization,
    email: str = "staff@business.example",
    password: str = PASSWORD,
    role: str = "owner",
) -> User:
    user = User(organization=organization, email=email, is_staff=True, staff_role=role)
    user.set_password(password)
    user.save()
    return user
