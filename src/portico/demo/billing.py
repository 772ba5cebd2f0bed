"""Demo ledger: one-time invoices in every state, credit notes, advances, partial payments and a
refund for RenoTech's customers (Acme Interiors gets a long history), a few GBP invoices at
Northwind.

Each customer's history is a script that yields "days ago" before each step; the scripts are
interleaved in date order with the clock moved to each step's moment, so gapless numbers follow
the dates, as they would have in real life. Everything goes through the services and is dated
relative to now, so "overdue" stays true. Idempotent: a customer that already has one-time
invoices is left alone.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterator
from decimal import Decimal

from portico.billing import services
from portico.billing.models import BillingSettings, Invoice, Payment
from portico.billing.services import LineInput
from portico.catalog.models import Item, TaxRate
from portico.core import clock
from portico.core.audit import Actor
from portico.core.money import Money

ACTOR = Actor.system("demo")
Script = Iterator[int]  # yields how many days ago its next step happens


class _Ledger:
    """One customer's ledger at the (moved) current moment."""

    def __init__(self, customer):
        self.customer = customer
        self.currency = customer.currency

    def money(self, amount: str) -> Money:
        return Money.from_decimal(amount, self.currency)

    def today(self) -> dt.date:
        return clock.today(self.customer.organization.time_zone)

    def invoice(self, *lines: LineInput, finalize: bool = True, memo: str = "", po: str = "") -> Invoice:
        invoice = services.create_invoice(
            customer=self.customer, lines=lines, actor=ACTOR, memo=memo, purchase_order=po
        )
        return services.finalize_invoice(invoice=invoice, actor=ACTOR) if finalize else invoice

    def pay(
        self, amount: str, *allocations: tuple[Invoice, str], method=Payment.Method.BANK_TRANSFER, **kw
    ) -> Payment:
        return services.record_payment(
            customer=self.customer,
            amount=self.money(amount),
            allocations=[(invoice, self.money(part)) for invoice, part in allocations],
            method=method,
            received_on=self.today(),
            actor=ACTOR,
            **kw,
        )

    def pay_in_full(self, invoice: Invoice, **kw) -> Payment:
        invoice.refresh_from_db()
        amount = str(invoice.balance.decimal)
        return self.pay(amount, (invoice, amount), **kw)

    def card(self, invoice: Invoice) -> Payment:
        """Paid in full by card through the test gateway, for real: the charge is the gateway's, so
        staff can refund it to the card from the console."""
        from portico.payments.gateways import CardDetails, gateway_for

        invoice.refresh_from_db()
        gateway = gateway_for(self.customer.organization, "test")
        card = CardDetails(
            number="4242 4242 4242 4242", exp_month=12, exp_year=self.today().year + 3, cvc="123"
        )
        charge = gateway.charge(
            source=gateway.tokenize(card).token,
            amount=invoice.balance,
            idempotency_key=f"demo:{invoice.organization_id}:{invoice.number}",
            description=f"{self.customer} · {invoice.number}",
        )
        return self.pay_in_full(
            invoice,
            method=Payment.Method.CARD,
            channel=Payment.Channel.ONLINE,
            gateway="test",
            gateway_reference=charge.reference,
            card_brand="visa",
            card_last4="4242",
        )

    def credit(self, description: str, amount: str, invoice: Invoice | None = None, apply: bool = False):
        if invoice is not None:
            invoice.refresh_from_db()
        return services.issue_credit_note(
            customer=self.customer,
            lines=[LineInput(description=description, unit_price=self.money(amount))],
            invoice=invoice,
            reason=description,
            apply_to_invoice=apply,
            actor=ACTOR,
        )


def _catalog(organization, currency: str, tax: tuple[str, str, bool], items: list[tuple[str, str]]) -> dict:
    name, percent, inclusive = tax
    rate, _ = TaxRate.all_tenants.get_or_create(
        organization=organization,
        name=name,
        defaults={"percent": Decimal(percent), "is_inclusive": inclusive},
    )
    catalog = {}
    for item_name, price in items:
        catalog[item_name], _ = Item.all_tenants.get_or_create(
            organization=organization,
            name=item_name,
            defaults={
                "currency": currency,
                "unit_price_minor": Money.from_decimal(price, currency).minor,
                "tax_rate": rate,
            },
        )
    return catalog


def _fresh(customer) -> bool:
    return not Invoice.all_tenants.filter(customer=customer, source=Invoice.Source.ONE_TIME).exists()


def _run(scripts: list[Script], now: dt.datetime) -> None:
    """Interleave the scripts' steps, oldest first, each at its own moment."""
    queue: list[tuple[int, int, Script]] = []
    for order, script in enumerate(scripts):
        days = next(script, None)
        if days is not None:
            heapq.heappush(queue, (-days, order, script))
    while queue:
        negative_days, order, script = heapq.heappop(queue)
        clock.freeze(now - dt.timedelta(days=-negative_days))
        days = next(script, None)
        if days is not None:
            heapq.heappush(queue, (-days, order, script))


def extend(demo) -> None:
    now = clock.now()
    BillingSettings.all_tenants.get_or_create(organization=demo.renotech)
    BillingSettings.all_tenants.get_or_create(organization=demo.northwind, defaults={"invoice_prefix": "NW-"})
    scripts = []
    for key, script in [*_renotech_scripts(demo), *_northwind_scripts(demo)]:
        if _fresh(demo.customers[key]):
            scripts.append(script(_Ledger(demo.customers[key])))
    with clock.restored():  # the demo writes history in the past; the caller's clock is kept
        _run(scripts, now)


def _renotech_scripts(demo) -> list[tuple[str, Callable[[_Ledger], Script]]]:
    items = _catalog(
        demo.renotech,
        "USD",
        ("IL sales tax", "8.25", False),
        [
            ("Design consultation (hour)", "150.00"),
            ("Tile installation (m²)", "65.00"),
            ("Electrical inspection", "320.00"),
            ("Project management (hour)", "95.00"),
            ("Cabinet set", "4200.00"),
            ("Site clean-up", "250.00"),
        ],
    )

    def item(name, quantity=1, **overrides):
        return LineInput.of_item(items[name], quantity, **overrides)

    def acme(ledger: _Ledger) -> Script:
        # paid long ago, by transfer and by card
        yield 330
        first = ledger.invoice(
            item("Design consultation (hour)", 6), item("Electrical inspection"), po="PO-1001"
        )
        yield 310
        ledger.pay_in_full(first, reference="TR-88412")
        yield 300
        second = ledger.invoice(item("Tile installation (m²)", 24), item("Site clean-up"))
        yield 290
        ledger.card(second)
        # paid in two instalments
        yield 270
        third = ledger.invoice(item("Cabinet set"), item("Project management (hour)", 12))
        yield 255
        ledger.pay("2500.00", (third, "2500.00"), reference="TR-90017")
        # issued twice by mistake: the copy is voided
        yield 240
        fourth = ledger.invoice(item("Electrical inspection"))
        duplicate = ledger.invoice(item("Electrical inspection"))
        yield 239
        services.void_invoice(invoice=duplicate, actor=ACTOR, reason="Issued twice")
        yield 230
        ledger.pay_in_full(third, reference="TR-90544")
        yield 225
        ledger.card(fourth)
        # a damaged delivery: a credit note applied to its invoice, the rest paid
        yield 200
        fifth = ledger.invoice(
            item("Tile installation (m²)", 40, discount_percent=Decimal(5)), memo="Bathroom, 2nd floor"
        )
        yield 190
        ledger.credit("Cracked tiles replaced at our cost", "300.00", invoice=fifth, apply=True)
        yield 180
        ledger.pay_in_full(fifth, reference="TR-93120")
        yield 170
        sixth = ledger.invoice(item("Design consultation (hour)", 10), item("Project management (hour)", 8))
        yield 150
        ledger.pay_in_full(sixth, method=Payment.Method.CHECK, reference="Cheque 004512")
        # paid too much: the rest stays as an advance, partly used later, partly refunded
        yield 140
        seventh = ledger.invoice(item("Site clean-up", 2))
        yield 130
        advance = ledger.pay("1000.00", (seventh, str(seventh.total.decimal)), reference="TR-95501")
        yield 110
        eighth = ledger.invoice(item("Electrical inspection"))
        yield 109
        services.allocate_payment(
            payment=advance, allocations=[(eighth, ledger.money("200.00"))], actor=ACTOR
        )
        yield 100
        ledger.pay_in_full(eighth, reference="TR-96002")
        yield 95
        services.refund_payment(
            payment=advance,
            amount=ledger.money("100.00"),
            actor=ACTOR,
            reason="Returned at the customer's request",
        )
        # goodwill credit, partly used, with credit remaining
        yield 80
        goodwill = ledger.credit("Goodwill credit for the schedule delay", "400.00")
        yield 75
        ninth = ledger.invoice(item("Project management (hour)", 4))
        yield 74
        services.apply_credit(credit_note=goodwill, invoice=ninth, amount=ledger.money("150.00"), actor=ACTOR)
        yield 60
        ledger.pay_in_full(ninth, reference="TR-97310")
        # partially paid and overdue
        yield 65
        tenth = ledger.invoice(item("Cabinet set"), item("Tile installation (m²)", 12), po="PO-1040")
        yield 50
        ledger.pay("2000.00", (tenth, "2000.00"), reference="TR-98100")
        # overdue, nothing paid
        yield 45
        ledger.invoice(item("Electrical inspection"), item("Site clean-up"))
        # open: due soon, and due later
        yield 20
        ledger.invoice(item("Design consultation (hour)", 3))
        yield 3
        ledger.invoice(item("Project management (hour)", 10), item("Tile installation (m²)", 8), po="PO-1052")
        # an advance paid ahead of the next phase, and that phase's draft being prepared
        yield 2
        ledger.pay("750.00", reference="TR-99004")
        yield 1
        ledger.invoice(item("Cabinet set"), finalize=False, memo="Kitchen phase 2 — awaiting measurements")

    def bluebird(ledger: _Ledger) -> Script:
        yield 90
        paid = ledger.invoice(item("Design consultation (hour)", 2))
        yield 80
        ledger.card(paid)
        yield 40
        ledger.invoice(item("Electrical inspection"))  # overdue on 15-day terms
        yield 5
        ledger.invoice(item("Site clean-up"))

    def harbor(ledger: _Ledger) -> Script:
        yield 25
        partly = ledger.invoice(item("Tile installation (m²)", 30))
        yield 15
        ledger.pay("1000.00", (partly, "1000.00"), reference="TR-51002")
        yield 10
        ledger.credit("Loyalty credit", "120.00")
        yield 4
        ledger.pay("500.00", reference="Advance for spring work")

    def kline(ledger: _Ledger) -> Script:
        review = [
            LineInput("Architectural review (hour)", ledger.money("120.00"), Decimal(5)),
            LineInput("Site visit", ledger.money("300.00")),
        ]
        yield 60
        paid = ledger.invoice(*review)
        yield 50
        ledger.pay_in_full(paid, reference="SEPA-2231")
        yield 9
        ledger.invoice(*review)

    return [("acme", acme), ("bluebird", bluebird), ("harbor", harbor), ("kline", kline)]


def _northwind_scripts(demo) -> list[tuple[str, Callable[[_Ledger], Script]]]:
    items = _catalog(
        demo.northwind,
        "GBP",
        ("VAT", "20", True),
        [
            ("Brand workshop (day)", "1200.00"),
            ("Photography (half day)", "450.00"),
            ("Print layout", "300.00"),
        ],
    )

    def studio(with_recent: bool) -> Callable[[_Ledger], Script]:
        def script(ledger: _Ledger) -> Script:
            yield 75
            paid = ledger.invoice(LineInput.of_item(items["Brand workshop (day)"], 2))
            yield 60
            ledger.pay_in_full(paid, reference="BACS-1102")
            yield 40
            ledger.invoice(
                LineInput.of_item(items["Photography (half day)"]), LineInput.of_item(items["Print layout"])
            )
            if with_recent:
                yield 6
                ledger.invoice(LineInput.of_item(items["Print layout"], 3))

        return script

    return [("nw-acme", studio(True)), ("fjord", studio(False))]
