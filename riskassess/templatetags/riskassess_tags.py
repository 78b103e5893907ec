from django import template

from riskassess.selectors import closure_monitors

register = template.Library()


@register.inclusion_tag("riskassess/includes/closure_monitor.html", takes_context=True)
def closure_monitor(context):
    """R-CLO-2, compact, for the DSL queue: nothing unless the signed-in user reads records at a
    school in closure mode."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"monitors": []}
    return {"monitors": closure_monitors(user=user, raise_if_none=False)}
