"""Walking the portal as a signed-in customer: every `/portal/` route from the URL conf (so a new page
is walked without anyone listing it), its path parameters filled with the customer's own objects, and
the forms each page renders, read with the standard library's HTML parser."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portico.billing.models import StatementExport
from portico.core import clock
from tests.billing.factories import credit_note, open_invoice, pay
from tests.engagement.factories import web_tab
from tests.engagement.review_factories import review
from tests.factories import ContactFactory

# Path parameters that are secrets mailed to someone (not objects of the customer): a made-up value
# walks the page's "not found / expired" answer.
SECRET_PARAMETERS = {"token": "no-such-token", "key": "no-such-key", "uidb36": "zz", "pk": 999999}
# A single sign-on connection's key (allauth's `provider_id` and SAML `organization_slug`): the walk
# reaches the "no such connection here" answer; tests/accounts/test_sso_*.py walk real ones.
SECRET_PARAMETERS |= {"provider_id": "no-such-connection", "organization_slug": "no-such-connection"}


@dataclass
class World:
    """The signed-in customer's objects, one of each kind a portal URL addresses."""

    open_invoice: object
    paid_invoice: object
    payment: object
    credit_note: object
    colleague: object
    statement_export: object
    payment_method: object
    subscription: object = None
    project: object = None
    web_tab: object = None
    review: object = None
    document: object = None
    share_link: object = None
    conversation: object = None

    @property
    def conversation_file(self):
        return self.conversation.messages.get().attachments.get()

    def parameters(self, name: str) -> dict:
        """Values of the path parameters, by the route's name (`number` means a payment's on a receipt)."""
        values = {
            **SECRET_PARAMETERS,
            "number": self.open_invoice.number,
            "contact_id": self.colleague.public_id,
            "public_id": self.statement_export.public_id,
            "method_id": self.payment_method.public_id,
            "tab_id": self.web_tab.pk if self.web_tab is not None else 999999,
            "review_id": self.review.public_id if self.review is not None else "no-such-review",
            "document_id": self.document.public_id if self.document is not None else "nosuchdocument",
            "link_id": self.share_link.public_id if self.share_link is not None else "nosuchlink",
            "thread_id": self.conversation.public_id if self.conversation is not None else "no-such-thread",
            "attachment_id": self.conversation_file.public_id if self.conversation else "no-such-file",
        }
        if name.endswith("payment_receipt"):
            values["number"] = self.payment.number
        if name.startswith("portal:subscription") and self.subscription is not None:
            values["number"] = self.subscription.number
        if self.project is not None:
            values["code"] = self.project.code
        return values


def build_world(customer) -> World:
    """Invoices open, partly paid and paid, a payment, a credit note, a colleague, a ready statement PDF,
    a saved card, a subscription and an embedded web tab."""
    clock.freeze(dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC))
    due = open_invoice(customer, 30000)
    partly = open_invoice(customer, 20000)
    paid = open_invoice(customer, 12000)
    payment = pay(customer, 17000, (paid, 12000), (partly, 5000))
    note = credit_note(customer, 2500)
    colleague = ContactFactory(customer=customer, email="colleague@acme.example", portal_role="viewer")
    export = StatementExport.all_tenants.create(
        organization=customer.organization,
        customer=customer,
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 3, 10),
        currency=customer.currency,
        line_count=3,
        status=StatementExport.Status.READY,
        file=ContentFile(b"%PDF-1.4 statement", name="statement.pdf"),
        created_at=clock.now(),
        finished_at=clock.now(),
    )
    world = World(
        due, paid, payment, note, colleague, export, saved_card(customer), a_subscription(customer),
        a_project(customer), web_tab(customer.organization), review(customer),
        conversation=a_conversation(customer, colleague),
    )  # fmt: skip
    world.document, world.share_link = a_document_and_link(customer)
    return world


def a_document_and_link(customer):
    """A document shared with the customer and an open share link of theirs to it."""
    from tests.engagement.factories_documents import share_link, shared_document

    document = shared_document(customer.organization, title="Contract", customer=customer)
    return document, share_link(customer.organization, document=document, customer=customer).link


def a_conversation(customer, colleague):
    """A thread of the customer's about its open invoice (started by a colleague: any contact's)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.engagement.conversation_factories import conversation

    invoice = customer.invoices.exclude(number="").order_by("pk").first()
    photo = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(16), content_type="image/png")
    return conversation(colleague, about=invoice, attachments=[photo])


def a_subscription(customer):
    """A live subscription of the customer (3 seats and an addon), for the subscription pages."""
    from tests.subscriptions.factories import subscribe, world

    w = world(customer.organization)
    return subscribe(customer, w.starter, quantity=3, addons=[(w.storage, 2)])


def a_project(customer):
    """An hourly project whose customer approves its hours: time invoiced, approved and awaiting
    approval, for the project pages (and their approve and dispute forms)."""
    from portico.projects import services
    from tests.projects.factories import ACTOR, logged, project, staff, task

    row = project(customer, code="WALK-1", name="Kitchen remodel", requires_customer_approval=True)
    design = task(row, "Design")
    riley = staff(customer.organization, "Riley", email=f"walk-{customer.pk}@renotech.example")
    logged(row, design, riley, "2.50", on=dt.date(2026, 3, 2))
    services.invoice_project(project=row, actor=ACTOR)
    logged(row, design, riley, "1.25", on=dt.date(2026, 3, 3))
    logged(row, design, riley, "0.75", on=dt.date(2026, 3, 4), approve=False)
    return row


def saved_card(customer, number: str = "4242 4242 4242 4242", exp_year: int = 2030, **fields):
    """A card saved through the test gateway, as the portal's add-card page saves it."""
    from portico.core.audit import Actor
    from portico.payments import methods
    from portico.payments.gateways import CardDetails

    card = CardDetails(number=number, exp_month=12, exp_year=exp_year, cvc="123", name="Maria Lopez")
    return methods.save_method(
        organization=customer.organization,
        customer=customer,
        actor=Actor.system("tests"),
        card=card,
        **fields,
    )


def portal_routes() -> list[tuple[str, str]]:
    """(URL name with its namespace, route) of every pattern under /portal/, from `portico.urls`."""
    found = []

    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                route = prefix + str(pattern.pattern)
                if route.startswith("portal/"):
                    found.append(((f"{namespace}:{pattern.name}").lstrip(":"), route))

    walk(get_resolver("portico.urls").url_patterns, "", "")
    return found


def portal_urls(world: World) -> list[str]:
    """Every portal route as a path, its parameters filled from `world`."""
    return [reverse(name, kwargs=_kwargs_for(name, world) or None) for name, _route in portal_routes()]


def _kwargs_for(name: str, world: World) -> dict:
    """The route's path parameters (read from the resolver, RegexPattern groups included)."""
    values = world.parameters(name)
    resolver = get_resolver("portico.urls")
    *namespaces, view_name = name.split(":")
    for namespace in namespaces:
        resolver = resolver.namespace_dict[namespace][1]
    possibilities = resolver.reverse_dict.getlist(view_name)
    parameters = set()
    for possibility in possibilities:
        for _result, params in possibility[0]:
            parameters.update(params)
    missing = parameters - values.keys()
    assert not missing, f"{name}: no value for the path parameter(s) {missing}; add them to World"
    return {p: values[p] for p in parameters}


# -- forms ------------------------------------------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # as the browser would send them
    names: list[str] = field(default_factory=list)  # every named control, in order
    options: dict[str, list[str]] = field(default_factory=dict)  # each select's option values

    dates: set[str] = field(default_factory=set)  # the type=date inputs

    def filled_in(self) -> Form | None:
        """The form with every select at its last option ("Custom dates", where the free fields count)
        and every empty date input given a date, so a hostile value in one field is not hidden behind
        another's "required"; None when that is how it was rendered."""
        last = {name: values[-1] for name, values in self.options.items() if values}
        fields = [(n, last.get(n, v) or ("2026-01-01" if n in self.dates else "")) for n, v in self.fields]
        if fields == self.fields:
            return None
        return Form(self.method, self.action, fields, self.names, self.options, self.dates)

    def data(self, replace: str | None = None, value: str | list[str] = "") -> dict[str, list[str]]:
        """The rendered values, with one field's replaced (a list is sent as repeated keys)."""
        data: dict[str, list[str]] = {}
        for name, rendered in self.fields:
            data.setdefault(name, []).append(rendered)
        if replace is not None:
            data[replace] = list(value) if isinstance(value, list) else [value]
        return data


class FormParser(HTMLParser):
    """Forms with their controls: inputs (checked boxes only), selects (the selected or first option),
    textareas, and the first named submit button; and the query parameters of same-page links."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.link_parameters: set[str] = set()
        self._form: Form | None = None
        self._select: tuple[str, list[str], list[str]] | None = None  # name, options, selected
        self._option_value: str | None = None
        self._textarea: str | None = None
        self._textarea_text: list[str] = []
        self._has_button = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and "?" in a.get("href", ""):
            target = urlsplit(urljoin(self.page_url, a["href"]))
            if target.path == urlsplit(self.page_url).path:
                self.link_parameters.update(k for k, _v in parse_qsl(target.query, keep_blank_values=True))
        if tag == "form":
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self._form = Form(method=a.get("method", "get").lower(), action=action)
            self._has_button = False
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image", "button", "reset"):
                if kind == "submit" and not self._has_button:
                    self._has_button = True
                    form.fields.append((name, a.get("value", "")))
                    form.names.append(name)
                return
            form.names.append(name)
            if kind == "date":
                form.dates.add(name)
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            form.fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "button" and name and a.get("type", "submit") == "submit" and not self._has_button:
            self._has_button = True
            form.fields.append((name, a.get("value", "")))
            form.names.append(name)
        elif tag == "select" and name:
            self._select = (name, [], [])
            form.names.append(name)
        elif tag == "option" and self._select is not None:
            self._option_value = a.get("value")
            if self._option_value is not None:
                self._select[1].append(self._option_value)
                if "selected" in a:
                    self._select[2].append(self._option_value)
        elif tag == "textarea" and name:
            self._textarea, self._textarea_text = name, []
            form.names.append(name)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea_text.append(data)

    def handle_endtag(self, tag):
        form = self._form
        if form is None:
            return
        if tag == "select" and self._select is not None:
            name, options, selected = self._select
            form.options[name] = options
            for value in selected or options[:1]:
                form.fields.append((name, value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            form.fields.append((self._textarea, "".join(self._textarea_text).lstrip("\n")))
            self._textarea = None
        elif tag == "form":
            self.forms.append(form)
            self._form = None


def parse_page(url: str, html: str) -> FormParser:
    parser = FormParser(url)
    parser.feed(html)
    parser.close()
    return parser
