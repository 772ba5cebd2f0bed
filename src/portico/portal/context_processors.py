def organization(request):
    organization = getattr(request, "organization", None)
    context = {"organization": organization}
    if organization is not None:
        from portico.core.branding import brand_of

        context["brand"] = brand_of(organization)
    portal = getattr(request, "portal", None)
    if portal is not None:
        from portico.portal.nav import portal_nav

        context["portal"] = portal
        context["portal_nav"] = portal_nav(request)
    return context
