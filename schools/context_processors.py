from .selectors import is_authoriser, schools_for_user, user_roles


def navigation(request):
    """What the navigation bar needs: the user's roles and whether a school is in closure mode."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = user_roles(user)
    closure = [s.name for s in schools_for_user(user).filter(closure_mode=True)]
    return {
        "nav_roles": roles,
        "nav_is_authoriser": is_authoriser(roles),
        "nav_closure_schools": closure,  # R-CLO-1: every page shows closure mode.
    }
