"""The demo team: its users (time zones and languages around the world) and teams."""

from dataclasses import dataclass

from tend.directory.models import User

DEMO_PASSWORD = "tend-demo-2026"


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    role: str  # admin | manager | csm
    time_zone: str
    language: str
    seat: bool
    team: str | None = None
    regions: tuple[str, ...] = ()  # company regions this CSM mostly looks after

    @property
    def role_label(self) -> str:
        if self.role == "admin":
            return "super admin"
        if self.role == "manager":
            return "CS manager (manages CS settings)"
        return "CSM" if self.seat else "CSM without a Service seat (read-only)"


ENTERPRISE, GROWTH = "Enterprise CS", "Growth CS"
DEMO_USERS = (
    DemoUser("admin@demo.tend", "Avery Admin", "admin", "UTC", "en", True),
    DemoUser("manager@demo.tend", "Morgan Lee", "manager", "Europe/London", "en-gb", True, ENTERPRISE),
    DemoUser("yuki@demo.tend", "Yuki Tanaka", "csm", "Asia/Tokyo", "ja", True, ENTERPRISE, ("ja",)),
    DemoUser("lena@demo.tend", "Lena Fischer", "csm", "Europe/Berlin", "de", True, ENTERPRISE, ("de",)),
    DemoUser("giulia@demo.tend", "Giulia Romano", "csm", "Europe/Rome", "it", True, ENTERPRISE, ("it",)),
    DemoUser("marcus@demo.tend", "Marcus Reed", "csm", "America/New_York", "en", True, GROWTH, ("us", "uk")),
    DemoUser("priya@demo.tend", "Priya Shah", "csm", "America/Los_Angeles", "en", True, GROWTH, ("us",)),
    DemoUser("sam@demo.tend", "Sam Carter", "csm", "America/Chicago", "en", False, GROWTH),
)
DEMO_TEAMS = (ENTERPRISE, GROWTH)


def demo_users():
    """The demo team's users that exist in this workspace."""
    return User.objects.filter(email__in=[u.email for u in DEMO_USERS])
