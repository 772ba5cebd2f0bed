"""The portal pages of accounts (security, profile, contacts), included in the portal's URL namespace
(portal/urls.py)."""

from django.urls import path

from portico.portal import account_views as views

urlpatterns = [
    path("security/", views.security, name="security"),
    path("security/sessions/", views.sessions, name="security_sessions"),
    path("security/history/", views.login_history, name="security_history"),
    path("security/activity/", views.activity, name="security_activity"),
    path("profile/", views.profile, name="profile"),
    path("profile/email/", views.change_email, name="profile_email"),
    path("profile/email/confirm/<str:token>/", views.confirm_email, name="profile_email_confirm"),
    path("profile/company/", views.company, name="profile_company"),
    path("profile/contacts/", views.contacts, name="contacts"),
    path("profile/contacts/add/", views.add_contact, name="contact_add"),
    path("profile/contacts/<str:contact_id>/", views.edit_contact, name="contact_edit"),
    path("profile/contacts/<str:contact_id>/access/", views.contact_access, name="contact_access"),
]
