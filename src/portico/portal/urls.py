from django.urls import include, path

from portico.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("", include("portico.accounts.portal_urls")),  # security/, profile/
]
