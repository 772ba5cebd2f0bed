from django.http import HttpResponse
from django.urls import include, path

from portico.customers.models import Customer


def floor(request):
    """The floor: the same middleware stack (host → tenant, session, user) and one SELECT."""
    customer = Customer.objects.order_by("pk").values_list("display_name", flat=True).first()
    return HttpResponse(f"<!DOCTYPE html><title>floor</title><p>{customer}</p>")


urlpatterns = [path("bench/floor/", floor), path("", include("portico.urls"))]
