from . import policy
from .web import viewing


def workspace(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "viewing": viewing(request),
        "can_manage_settings": policy.allows(user, policy.Action.MANAGE_CS_SETTINGS),
        "can_view_as": policy.allows(user, policy.Action.VIEW_AS),
        "can_use_work_tabs": policy.allows(user, policy.Action.USE_WORK_TABS),
        "can_use_workspace": policy.allows(user, policy.Action.USE_WORKSPACE),
    }
