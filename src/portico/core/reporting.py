"""Error reports never carry card data.

Django's error reports (the emails to ADMINS, the debug page, any handler that formats a request)
show the POST data of the failing request unless the view marked parameters as sensitive. Card
fields are hidden here for every request, whatever view received them: a forgotten decorator, a
form posted to the wrong URL, or a hostile client cannot put a card number into a report.
"""

from django.views.debug import SafeExceptionReporterFilter

# What a card form posts (the portal's CardForm; Stripe's Elements post nothing of the card to us).
CARD_FIELDS = frozenset({"number", "cvc", "cvv", "exp_month", "exp_year", "card_number", "card_cvc"})


class CardSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if request is None or not any(name in parameters for name in CARD_FIELDS):
            return parameters
        cleansed = parameters.copy()
        for name in CARD_FIELDS & set(cleansed):
            cleansed[name] = self.cleansed_substitute
        return cleansed
