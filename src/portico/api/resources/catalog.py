"""The catalog: tax rates, items, products, plans, addons, coupons and their codes — list, retrieve,
create, update, and `archive` / `restore` as actions, through `catalog.services` (the models' own
rules, tiers checked by `catalog.pricing`, audited as in the console).

Every kind is declared once as a `Kind` (its model, schemas, serializer and relations); `register`
builds its operations, so all kinds behave alike. Amounts are integers in minor units beside the
entry's `currency`; unit prices (finer than a cent) are decimal strings (`catalog_schemas`)."""

# No `from __future__ import annotations` here: ninja reads the views' annotations, which name the
# schemas of each kind from inside `register`.

import inspect
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ninja import Query, Router, Schema, Status

from portico.api import ids
from portico.api.resources import actor, responses
from portico.api.resources.catalog_schemas import (
    AddonIn,
    AddonOut,
    AddonUpdate,
    CouponCodeIn,
    CouponCodeOut,
    CouponCodeUpdate,
    CouponIn,
    CouponOut,
    CouponUpdate,
    ItemIn,
    ItemOut,
    ItemUpdate,
    PlanIn,
    PlanOut,
    PlanUpdate,
    ProductIn,
    ProductOut,
    ProductUpdate,
    TaxRateIn,
    TaxRateOut,
    TaxRateUpdate,
    addon_out,
    coupon_code_out,
    coupon_out,
    item_out,
    plan_out,
    product_out,
    tax_rate_out,
)
from portico.api.schemas import ListParams, changed, list_of, paginate
from portico.catalog import services
from portico.catalog.models import Addon, Coupon, CouponCode, Item, Plan, Product, TaxRate
from portico.catalog.pricing import Tier

# -- one declaration per kind ---------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str  # plural, as in the URL
    model: type
    create: type[Schema]
    update: type[Schema]
    out: type[Schema]
    serialize: Any
    references: dict[str, type] = field(default_factory=dict)  # body field → the model it names
    many: dict[str, type] = field(default_factory=dict)  # body field → the model of its list of ids
    parent: tuple[str, type] | None = None  # nested under a parent: (its field, its model)
    related: tuple[str, ...] = ()  # select_related
    prefetch: tuple[str, ...] = ()  # prefetch_related: what the serializer reads per row


KINDS = [
    Kind("tax_rates", TaxRate, TaxRateIn, TaxRateUpdate, TaxRateOut, tax_rate_out),
    Kind("items", Item, ItemIn, ItemUpdate, ItemOut, item_out, {"tax_rate": TaxRate}, related=("tax_rate",)),
    Kind("products", Product, ProductIn, ProductUpdate, ProductOut, product_out),
    Kind(
        "plans",
        Plan,
        PlanIn,
        PlanUpdate,
        PlanOut,
        plan_out,
        {"product": Product, "tax_rate": TaxRate},
        related=("product", "tax_rate"),
        prefetch=("tiers",),
    ),
    Kind(
        "addons",
        Addon,
        AddonIn,
        AddonUpdate,
        AddonOut,
        addon_out,
        {"tax_rate": TaxRate},
        {"plans": Plan},
        related=("tax_rate",),
        prefetch=("tiers", "plans"),
    ),
    Kind(
        "coupons",
        Coupon,
        CouponIn,
        CouponUpdate,
        CouponOut,
        coupon_out,
        {},
        {"plans": Plan, "addons": Addon},
        prefetch=("plans", "addons"),
    ),
    Kind(
        "coupon_codes",
        CouponCode,
        CouponCodeIn,
        CouponCodeUpdate,
        CouponCodeOut,
        coupon_code_out,
        parent=("coupon", Coupon),
        related=("coupon",),
    ),
]


def _parse(kind: Kind, data: dict) -> tuple[dict, dict, list[Tier] | None]:
    """A body as the model's fields, its many-to-many relations and its tiers; ids of other
    objects are looked up in the active organization (another's answers 404, naming the field)."""
    data = dict(data)
    tiers = data.pop("tiers", None)
    if tiers is not None:
        # an update's tiers come without the fields left at their defaults (`exclude_unset`)
        tiers = [
            Tier(t.get("up_to"), t.get("unit_price", Decimal(0)), t.get("flat_fee_minor", 0)) for t in tiers
        ]
    related = {}
    for name, model in kind.many.items():
        if name in data:
            related[name] = [
                ids.get(model.objects.all(), value, field=name) for value in data.pop(name) or []
            ]
    for name, model in kind.references.items():
        if name in data:
            value = data.pop(name)
            data[name] = ids.get(model.objects.all(), value, field=name) if value is not None else None
    for name, value in list(data.items()):
        if isinstance(value, str):
            data[name] = value.strip()
    return data, related, tiers


def _signed(view, **params):
    """Give a view built for every kind the signature ninja reads: `request`, then the named
    parameters (the path's id, the body, the query) with their types."""
    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    parameters += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)
        for name, annotation in params.items()
    ]
    view.__signature__ = inspect.Signature(parameters)
    return view


def _signer(**params):
    return lambda view: _signed(view, **params)


def _queryset(kind: Kind):
    return kind.model.objects.select_related(*kind.related).prefetch_related(*kind.prefetch)


def register(kind: Kind) -> Router:
    router = Router(tags=[kind.name])
    singular = kind.name.removesuffix("s")
    Create, Update, Out = kind.create, kind.update, kind.out
    path_id = f"{singular}_id"

    def get_entry(entry_id: str):
        return ids.get(_queryset(kind), entry_id)

    def create_entry(request, payload, parent=None):
        data, related, tiers = _parse(kind, payload.model_dump())
        if "currency" in data and not data["currency"]:
            # left out: the organization's currency where one is required, else none
            optional = kind.model._meta.get_field("currency").blank
            data["currency"] = "" if optional else request.organization.base_currency
        if parent is not None:
            data[kind.parent[0]] = parent
        entry = services.create_entry(
            model=kind.model,
            organization=request.organization,
            data=data,
            related=related,
            tiers=tiers,
            actor=actor(request),
        )
        return Status(201, kind.serialize(get_entry(ids.public_id(entry))))

    if kind.parent is None:

        @router.get(
            "",
            response=responses({200: list_of(Out)}),
            operation_id=f"list_{kind.name}",
            summary=f"List {kind.name}",
        )
        def list_entries(request, params: Query[ListParams]):
            return paginate(_queryset(kind), params, kind.serialize)

        @router.post(
            "",
            response=responses({201: Out}),
            operation_id=f"create_{singular}",
            summary=f"Create a {singular}",
        )
        def create(request, payload: Create):
            return create_entry(request, payload)

    @router.get(
        f"/{{{path_id}}}",
        response=responses({200: Out}),
        operation_id=f"get_{singular}",
        summary=f"Retrieve a {singular}",
    )
    @_signer(**{path_id: str})
    def retrieve(request, **path):
        return kind.serialize(get_entry(path[path_id]))

    @router.post(
        f"/{{{path_id}}}",
        response=responses({200: Out}),
        operation_id=f"update_{singular}",
        summary=f"Update a {singular}",
    )
    @_signer(payload=Update, **{path_id: str})
    def update(request, payload, **path):
        entry = get_entry(path[path_id])
        data, related, tiers = _parse(kind, changed(payload))
        services.update_entry(entry=entry, data=data, related=related, tiers=tiers, actor=actor(request))
        return kind.serialize(get_entry(path[path_id]))

    @router.post(
        f"/{{{path_id}}}/archive",
        response=responses({200: Out}),
        operation_id=f"archive_{singular}",
        summary=f"Archive a {singular}",
    )
    @_signer(**{path_id: str})
    def archive(request, **path):
        services.set_archived(entry=get_entry(path[path_id]), archived=True, actor=actor(request))
        return kind.serialize(get_entry(path[path_id]))

    @router.post(
        f"/{{{path_id}}}/restore",
        response=responses({200: Out}),
        operation_id=f"restore_{singular}",
        summary=f"Restore a {singular}",
    )
    @_signer(**{path_id: str})
    def restore(request, **path):
        services.set_archived(entry=get_entry(path[path_id]), archived=False, actor=actor(request))
        return kind.serialize(get_entry(path[path_id]))

    return router


def register_children(parent_router: Router, parent: Kind, child: Kind) -> None:
    """`GET|POST /<parents>/<id>/<children>`: a child kind listed and created under its parent."""
    parent_id = f"{parent.name.removesuffix('s')}_id"
    singular = child.name.removesuffix("s")
    segment = child.name.removeprefix(parent.name.removesuffix("s") + "_")
    Create, Out = child.create, child.out

    def parent_of(path):
        return ids.get(parent.model.objects.all(), path[parent_id])

    @parent_router.get(
        f"/{{{parent_id}}}/{segment}",
        response=responses({200: list_of(Out)}),
        operation_id=f"list_{child.name}",
        summary=f"List {child.name}",
    )
    @_signer(params=Query[ListParams], **{parent_id: str})
    def list_children(request, params, **path):
        entry = parent_of(path)
        return paginate(_queryset(child).filter(**{child.parent[0]: entry}), params, child.serialize)

    @parent_router.post(
        f"/{{{parent_id}}}/{segment}",
        response=responses({201: Out}),
        operation_id=f"create_{singular}",
        summary=f"Create a {singular}",
    )
    @_signer(payload=Create, **{parent_id: str})
    def create_child(request, payload, **path):
        entry = parent_of(path)
        data, related, tiers = _parse(child, payload.model_dump())
        data[child.parent[0]] = entry
        created = services.create_entry(
            model=child.model,
            organization=request.organization,
            data=data,
            related=related,
            tiers=tiers,
            actor=actor(request),
        )
        return Status(201, child.serialize(ids.get(_queryset(child), ids.public_id(created))))


routers = {f"/{kind.name}": register(kind) for kind in KINDS}
register_children(routers["/coupons"], KINDS[5], KINDS[6])
