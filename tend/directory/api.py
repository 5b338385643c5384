"""/api/v1 read endpoints of the directory: users and teams."""

from django.utils.translation import gettext as _
from ninja import Router

from tend.core import policy
from tend.core.errors import NotFound

from .models import Team, User

router = Router(tags=["directory"])


def user_out(user: User) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "fullName": user.full_name,
        "timeZone": user.time_zone,
        "language": user.language,
        "managerId": user.manager_id,
        "hasServiceSeat": user.has_service_seat,
        "superAdmin": user.is_superuser,
        "csWorkspaceAccess": user.cs_workspace_access,
        "manageCsSettings": user.manage_cs_settings,
        "active": user.is_active,
        "teams": [t.pk for t in user.teams.all()],
    }


@router.get("/users", summary="List users")
def list_users(request):
    policy.require(request.auth, policy.Action.USE_WORKSPACE)
    return {"results": [user_out(u) for u in User.objects.prefetch_related("teams").order_by("pk")]}


@router.get("/users/me", summary="The authenticated user")
def me(request):
    return user_out(request.auth.user)


@router.get("/users/{user_id}", summary="Get a user")
def get_user(request, user_id: int):
    policy.require(request.auth, policy.Action.USE_WORKSPACE)
    user = User.objects.prefetch_related("teams").filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No user %(id)s.") % {"id": user_id})
    return user_out(user)


@router.get("/teams", summary="List teams")
def list_teams(request):
    policy.require(request.auth, policy.Action.USE_WORKSPACE)
    teams = Team.objects.prefetch_related("members").order_by("pk")
    return {"results": [{"id": t.pk, "name": t.name, "members": [m.pk for m in t.members.all()]} for t in teams]}
