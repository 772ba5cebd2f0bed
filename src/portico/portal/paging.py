"""Paging long lists without counting every row on every page view.

A customer with 10,000 invoices should not pay for counting all of them each time the list opens.
`CountCappedPaginator` counts at most `cap` rows (an index-only scan of a bounded range); past the
cap it says "more than 1,000", and each page fetches one row beyond its end to know whether a
next page exists. Up to the cap it is Django's paginator, exact, with "Page n of m".
"""

from __future__ import annotations

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

COUNT_CAP = 1000


class CappedPage(Page):
    def __init__(self, object_list, number, paginator, has_more: bool):
        super().__init__(object_list, number, paginator)
        self._has_more = has_more

    def has_next(self) -> bool:
        return self._has_more


class CountCappedPaginator(Paginator):
    def __init__(self, object_list, per_page, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        """The number of rows, or `cap + 1` when there are more than `cap` (see `capped`)."""
        rows = self.object_list
        if hasattr(rows, "order_by"):  # a queryset: count a bounded, unordered range
            return rows.order_by()[: self.cap + 1].count()
        return len(rows)

    @property
    def capped(self) -> bool:
        """True when there are more rows than the paginator counted: the total is not shown."""
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        if self.capped:  # unknown: every page past the cap is found by asking for it
            return 0
        return super().num_pages

    def validate_number(self, number) -> int:
        if not self.capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number) -> Page:
        if not self.capped:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, has_more=len(rows) > self.per_page)

    def get_page(self, number) -> Page:
        try:
            return self.page(self.validate_number(number))
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            if not self.capped:
                return self.page(self.num_pages)
            # Past the end of a long list (an old bookmark): count exactly once, go to the last page.
            total = self.object_list.order_by().count()
            return self.page(max(1, -(-total // self.per_page)))
