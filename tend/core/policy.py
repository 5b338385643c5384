"""The one permission policy. Every check in Tend — HTML views, the API, the CLI — asks here.

A request acts as an `Actor`: a user plus how they authenticated. A signed-in browser session
carries the user's full permissions; an API token carries them too, capped by its scope (a read
token never writes). Background work, automation, imports and the demo act as `SYSTEM`: Tend
itself, no user, allowed only `SYSTEM_ACTIONS`. A service given no actor at all raises TypeError.
The matrix of roles × actions is tested in tests/core/test_policy.py.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import Forbidden

if TYPE_CHECKING:
    # django-stubs' alias for settings.AUTH_USER_MODEL: typed as the user without importing an app.
    from django.contrib.auth.models import _User


class Action(StrEnum):
    USE_WORKSPACE = "use_workspace"  # read records, engagements, pipelines, the directory
    USE_WORK_TABS = "use_work_tabs"  # the Customers, Services, Revenue, Tasks… tabs of the UI
    EDIT_RECORDS = "edit_records"  # create, update, archive, restore, merge, associate
    MANAGE_SCHEMA = "manage_schema"  # object types, property definitions, pipelines
    MANAGE_CS_SETTINGS = "manage_cs_settings"  # workspace settings, default views
    VIEW_AS = "view_as"  # see the workspace as another user
    MANAGE_USERS = "manage_users"  # users, seats, permissions, teams
    MANAGE_HEALTH_PROFILES = "manage_health_profiles"  # create, edit, activate health-score profiles
    EDIT_SAVED_VIEW = "edit_saved_view"  # rename, refilter, share, delete one saved view (the target)
    VIEW_SHARED = "view_shared"  # see one report or dashboard (the target): its owner, everyone or its teams
    EDIT_SHARED = "edit_shared"  # change, share or archive one report or dashboard (the target)
    EDIT_ENGAGEMENT = "edit_engagement"  # change or archive one logged note, call or email (the target)
    EDIT_EMAIL_TEMPLATE = "edit_email_template"  # change, share or archive one email template (the target)
    READ_NOTIFICATIONS = "read_notifications"  # see the notifications of one user (the target)
    MANAGE_NOTIFICATIONS = "manage_notifications"  # mark read, choose kinds and the digest: one user's (the target)


READ_ACTIONS = frozenset({Action.USE_WORKSPACE, Action.USE_WORK_TABS, Action.VIEW_SHARED, Action.READ_NOTIFICATIONS})
_TARGET_ACTIONS = frozenset(
    {
        Action.EDIT_SAVED_VIEW,
        Action.VIEW_SHARED,
        Action.EDIT_SHARED,
        Action.EDIT_ENGAGEMENT,
        Action.EDIT_EMAIL_TEMPLATE,
        Action.READ_NOTIFICATIONS,
        Action.MANAGE_NOTIFICATIONS,
    }
)


class Scope(StrEnum):
    SESSION = "session"
    READ = "read"
    WRITE = "write"
    SYSTEM = "system"  # Tend itself (see SYSTEM)


@dataclass(frozen=True)
class Actor:
    user: "_User | None"
    scope: Scope = Scope.SESSION

    @classmethod
    def system(cls) -> "Actor":
        return SYSTEM

    @property
    def is_system(self) -> bool:
        return self.scope == Scope.SYSTEM

    @property
    def can_write(self) -> bool:
        return self.scope in (Scope.SESSION, Scope.WRITE, Scope.SYSTEM)


# Tend itself: history rows it writes have no user (shown as "Tend").
SYSTEM = Actor(None, Scope.SYSTEM)

# What background work needs: reading the workspace, writing records, engagements (anyone's) and
# associations (automation, survey answers, imports, the demo), defining properties (imports).
# Nothing about users, settings, views or profiles: those are a person's decisions.
SYSTEM_ACTIONS = frozenset({Action.USE_WORKSPACE, Action.EDIT_RECORDS, Action.EDIT_ENGAGEMENT, Action.MANAGE_SCHEMA})


def _role_allows(user, action: Action) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    superuser = user.is_superuser
    workspace = superuser or user.cs_workspace_access
    settings_manager = superuser or user.manage_cs_settings
    match action:
        case Action.USE_WORKSPACE:
            return workspace
        case Action.USE_WORK_TABS:
            # A super admin without a Service seat reaches only the Summary tab and settings.
            return workspace and (user.has_service_seat or not superuser)
        case Action.EDIT_RECORDS | Action.MANAGE_HEALTH_PROFILES:
            # Working records needs an assigned Service seat, for super admins too (a super
            # admin without a seat reaches the Summary tab and settings only).
            return workspace and user.has_service_seat
        case Action.MANAGE_SCHEMA | Action.MANAGE_CS_SETTINGS | Action.VIEW_AS:
            return settings_manager
        case Action.MANAGE_USERS:
            return superuser
    return False


def _target_allows(user, action: Action, target) -> bool:
    """Rules about one object. The target is duck-typed so that core imports no app."""
    match action:
        case Action.EDIT_SAVED_VIEW | Action.EDIT_EMAIL_TEMPLATE:
            # Owners edit their private views; views shared with everyone belong to settings managers.
            if target is None or not _role_allows(user, Action.USE_WORKSPACE):
                return False
            if target.visibility == "everyone":
                return _role_allows(user, Action.MANAGE_CS_SETTINGS)
            return target.owner_id == user.pk
        case Action.VIEW_SHARED:
            # Reports and dashboards: the owner, everyone (with workspace access), or the members
            # of its teams; settings managers see every shared one, since they administer sharing.
            if target is None or not _role_allows(user, Action.USE_WORKSPACE):
                return False
            if target.owner_id == user.pk or target.access == "everyone":
                return True
            if target.access == "teams":
                if _role_allows(user, Action.MANAGE_CS_SETTINGS):
                    return True
                return bool(set(target.team_ids) & set(user.teams.values_list("pk", flat=True)))
            return False
        case Action.EDIT_SHARED:
            # Like saved views: owners edit their private ones; shared ones belong to settings managers.
            if target is None or not _role_allows(user, Action.USE_WORKSPACE):
                return False
            if target.access == "private":
                return target.owner_id == user.pk
            return _role_allows(user, Action.MANAGE_CS_SETTINGS)
        case Action.EDIT_ENGAGEMENT:
            # What a person logged (a note, a call, a sent email) is theirs to correct; settings
            # managers tidy up after anyone. Both need the seat that writing records needs.
            if target is None or not _role_allows(user, Action.EDIT_RECORDS):
                return False
            return target.owner_id == user.pk or _role_allows(user, Action.MANAGE_CS_SETTINGS)
        case Action.READ_NOTIFICATIONS:
            # One's own bell; View as shows the viewed user's (read-only) to whoever may View as.
            if target is None or not _role_allows(user, Action.USE_WORKSPACE):
                return False
            return target.pk == user.pk or _role_allows(user, Action.VIEW_AS)
        case Action.MANAGE_NOTIFICATIONS:
            # Read is what the person notified has seen: nobody marks it for them, View as included.
            if target is None or not _role_allows(user, Action.USE_WORKSPACE):
                return False
            return target.pk == user.pk
    return True


def allows(actor: Actor | object, action: Action, target: object = None) -> bool:
    """Whether the actor (or a bare user, acting through a session) may perform `action`
    (on `target`, for the actions about one object)."""
    if not isinstance(actor, Actor):
        actor = Actor(actor)
    if actor.is_system:
        return action in SYSTEM_ACTIONS
    if action not in READ_ACTIONS and not actor.can_write:
        return False
    if action in _TARGET_ACTIONS:
        return _target_allows(actor.user, action, target)
    return _role_allows(actor.user, action)


_REASONS = {
    Action.USE_WORKSPACE: gettext_lazy("You need access to the Customer Success workspace."),
    Action.USE_WORK_TABS: gettext_lazy(
        "Super admins without an assigned Service seat can use the Summary tab, View as and the settings only. "
        "Ask for a Service seat to work customers, services and revenue."
    ),
    Action.EDIT_RECORDS: gettext_lazy("You need an assigned Service seat to change records."),
    Action.MANAGE_SCHEMA: gettext_lazy("You need the “Manage Customer Success settings” permission."),
    Action.MANAGE_CS_SETTINGS: gettext_lazy("You need the “Manage Customer Success settings” permission."),
    Action.VIEW_AS: gettext_lazy("You need the “Manage Customer Success settings” permission."),
    Action.MANAGE_USERS: gettext_lazy("Only super admins manage users."),
    Action.MANAGE_HEALTH_PROFILES: gettext_lazy(
        "You need an assigned Service seat to create or edit health score profiles."
    ),
    Action.EDIT_SAVED_VIEW: gettext_lazy(
        "Only its owner changes a private view; views shared with everyone need the "
        "“Manage Customer Success settings” permission."
    ),
    Action.VIEW_SHARED: gettext_lazy("This is shared with other teams; ask its owner for access."),
    Action.EDIT_SHARED: gettext_lazy(
        "Only its owner changes a private report or dashboard; shared ones need the "
        "“Manage Customer Success settings” permission."
    ),
    Action.EDIT_ENGAGEMENT: gettext_lazy(
        "Only the person who logged it, or someone with the “Manage Customer Success settings” "
        "permission, changes or deletes a note, call or email; changing it also needs a Service seat."
    ),
    Action.EDIT_EMAIL_TEMPLATE: gettext_lazy(
        "Only its owner changes a private email template; templates shared with everyone need the "
        "“Manage Customer Success settings” permission."
    ),
    Action.READ_NOTIFICATIONS: gettext_lazy("These are another person's notifications."),
    Action.MANAGE_NOTIFICATIONS: gettext_lazy(
        "Only the person notified marks their notifications as read or changes their notification settings."
    ),
}
_WORKSPACE_ACTIONS = frozenset(
    {
        Action.USE_WORKSPACE,
        Action.USE_WORK_TABS,
        Action.EDIT_RECORDS,
        Action.MANAGE_HEALTH_PROFILES,
        Action.EDIT_SAVED_VIEW,
        Action.VIEW_SHARED,
        Action.EDIT_SHARED,
        Action.EDIT_ENGAGEMENT,
        Action.EDIT_EMAIL_TEMPLATE,
        Action.READ_NOTIFICATIONS,
        Action.MANAGE_NOTIFICATIONS,
    }
)


def require(actor: Actor | object, action: Action, target: object = None) -> None:
    """Raise Forbidden with a reason a person can act on, unless `allows`. No actor at all is a
    programming error (TypeError): background work passes `SYSTEM`."""
    if actor is None:
        raise TypeError("An actor is required; background work acts as policy.SYSTEM.")
    if allows(actor, action, target):
        return
    if isinstance(actor, Actor) and actor.is_system:
        # Never shown to a person (no UI acts as SYSTEM), so not translated.
        raise Forbidden(f"Tend's background work may not {action.value}; a person with the permission must.")
    if isinstance(actor, Actor) and not actor.can_write and action not in READ_ACTIONS:
        raise Forbidden(_("This API token is read-only."))
    user = actor.user if isinstance(actor, Actor) else actor
    if action in _WORKSPACE_ACTIONS and not _role_allows(user, Action.USE_WORKSPACE):
        # Without workspace access a seat would not help, whatever the action's own reason says.
        raise Forbidden(str(_REASONS[Action.USE_WORKSPACE]))
    raise Forbidden(str(_REASONS[action]))
