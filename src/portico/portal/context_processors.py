def organization(request):
    context = {"organization": getattr(request, "organization", None)}
    portal = getattr(request, "portal", None)
    if portal is not None:
        from portico.portal.nav import portal_nav

        context["portal"] = portal
        context["portal_nav"] = portal_nav(request)
    return context
