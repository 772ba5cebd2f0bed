from portico.core.money import Money


def money_property(field_name: str, currency_attr: str = "currency"):
    """Expose an integer `<name>_minor` field as a `Money` attribute, read and write."""

    def getter(self) -> Money:
        return Money(getattr(self, field_name), getattr(self, currency_attr))

    def setter(self, value: Money) -> None:
        if value.currency != getattr(self, currency_attr):
            raise ValueError(f"{field_name} is in {getattr(self, currency_attr)}, not {value.currency}")
        setattr(self, field_name, value.minor)

    return property(getter, setter)
