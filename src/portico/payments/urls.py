from django.urls import path

from portico.payments import views

app_name = "payments"

urlpatterns = [
    path("webhooks/<slug:gateway>/<slug:organization>/", views.webhook, name="webhook"),
]
