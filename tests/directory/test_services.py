"""Directory services: users and API tokens (hashed at rest, revocable, scoped), and `tend token`."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tend.core.errors import NotFound, ValidationFailed
from tend.directory.models import ApiToken, User
from tend.directory.services import token_authenticate, token_create, token_revoke, user_create

pytestmark = pytest.mark.django_db


NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def fields(excinfo) -> list[str]:
    return [e.field for e in excinfo.value.errors]


def users() -> list[dict]:
    return list(User.objects.order_by("pk").values())


# --------------------------------------------------------------------------- users


class TestUserCreate:
    def test_creates_a_user_with_normalised_email(self):
        user = user_create(
            email="  Kim.Sato@Example.JP ",
            password="correct horse battery",
            full_name="Kim Sato",
            time_zone="Asia/Tokyo",
            language="ja",
            has_service_seat=True,
        )

        user.refresh_from_db()
        assert (user.email, user.time_zone, user.language, user.has_service_seat) == (
            "kim.sato@example.jp",
            "Asia/Tokyo",
            "ja",
            True,
        )
        assert (user.cs_workspace_access, user.manage_cs_settings, user.is_superuser, user.is_staff) == (
            True,
            False,
            False,
            False,
        )
        assert user.check_password("correct horse battery")
        assert "correct horse battery" not in user.password

    def test_a_super_admin_manages_settings(self):
        user = user_create(email="root@example.com", is_superuser=True, cs_workspace_access=False)

        assert (user.cs_workspace_access, user.manage_cs_settings, user.is_staff, user.has_service_seat) == (
            True,
            True,
            True,
            False,
        )
        assert not user.has_usable_password()

    @pytest.mark.parametrize("time_zone", ["Mars/Olympus_Mons", "CET+1", "", "asia/tokyo"])
    def test_rejects_an_unknown_time_zone(self, time_zone):
        with pytest.raises(ValidationFailed) as excinfo:
            user_create(email="kim@example.com", time_zone=time_zone)

        assert fields(excinfo) == ["time_zone"]
        assert User.objects.count() == 0

    def test_time_zone_message_names_the_value(self):
        with pytest.raises(ValidationFailed) as excinfo:
            user_create(email="kim@example.com", time_zone="Mars/Olympus_Mons")

        assert excinfo.value.errors[0].message == "Mars/Olympus_Mons is not a known time zone."

    def test_rejects_a_duplicate_email_ignoring_case(self):
        user_create(email="kim@example.com")
        before = users()

        with pytest.raises(ValidationFailed) as excinfo:
            user_create(email="KIM@example.com", full_name="Another Kim")

        assert fields(excinfo) == ["email"]
        assert users() == before

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"email": "not-an-email"}, ["email"]),
            ({"email": ""}, ["email"]),
            ({"email": "kim@example.com", "language": "fr"}, ["language"]),
            ({"email": "bad", "time_zone": "Nowhere/Else"}, ["email", "time_zone"]),
        ],
    )
    def test_names_every_bad_field(self, kwargs, expected):
        with pytest.raises(ValidationFailed) as excinfo:
            user_create(**kwargs)

        assert sorted(fields(excinfo)) == expected
        assert User.objects.count() == 0


# --------------------------------------------------------------------------- tokens


class TestTokens:
    def test_the_raw_key_is_returned_once_and_only_its_hash_is_stored(self, csm):
        token, raw_key = token_create(user=csm, name=" CRM sync ")

        row = ApiToken.objects.filter(pk=token.pk).values().get()
        assert raw_key.startswith("tend_")
        assert len(raw_key) == len("tend_") + 43
        assert (row["name"], row["scope"], row["user_id"], row["prefix"]) == ("CRM sync", "read", csm.pk, raw_key[:11])
        assert row["key_hash"] == hashlib.sha256(raw_key.encode()).hexdigest()
        assert [column for column, value in row.items() if raw_key in str(value)] == []
        assert [column for column, value in row.items() if raw_key[len("tend_") :] in str(value)] == []

    def test_keys_are_unique(self, csm):
        keys = {token_create(user=csm, name=f"t{i}")[1] for i in range(20)}

        assert len(keys) == 20
        assert ApiToken.objects.values("key_hash").distinct().count() == 20

    def test_a_token_needs_a_name(self, csm):
        with pytest.raises(ValidationFailed) as excinfo:
            token_create(user=csm, name="  ")

        assert [(e.field, e.code) for e in excinfo.value.errors] == [("name", "required")]
        assert ApiToken.objects.count() == 0

    def test_authenticate_returns_the_token_with_its_scope(self, clock, csm):
        read_token, read_key = token_create(user=csm, name="read")
        write_token, write_key = token_create(user=csm, name="write", write=True)

        assert token_authenticate(read_key) == read_token
        assert token_authenticate(read_key).can_write is False
        authenticated = token_authenticate(write_key)
        assert (authenticated, authenticated.user, authenticated.can_write) == (write_token, csm, True)

    @pytest.mark.parametrize("key", ["", "tend_", "tend_not-a-real-key", "Bearer tend_x", "nonsense"])
    def test_unknown_keys_do_not_authenticate(self, csm, key):
        token_create(user=csm, name="t")

        assert token_authenticate(key) is None

    def test_a_near_miss_does_not_authenticate(self, csm):
        _token, raw_key = token_create(user=csm, name="t")

        assert token_authenticate(raw_key[:-1]) is None
        assert token_authenticate(raw_key + "x") is None
        assert token_authenticate(raw_key.upper()) is None

    def test_revoked_tokens_do_not_authenticate(self, clock, csm):
        token, raw_key = token_create(user=csm, name="t")

        revoked = token_revoke(token_id=token.pk)

        assert revoked.revoked_at == NOW
        token.refresh_from_db()
        assert (token.revoked_at, token.is_active) == (NOW, False)
        assert token_authenticate(raw_key) is None

    def test_tokens_of_inactive_users_do_not_authenticate(self, csm):
        _token, raw_key = token_create(user=csm, name="t")
        csm.is_active = False
        csm.save()

        assert token_authenticate(raw_key) is None

    def test_revoke_twice_or_someone_elses_token_is_not_found(self, clock, csm, viewer):
        token, raw_key = token_create(user=csm, name="t")

        with pytest.raises(NotFound):
            token_revoke(token_id=token.pk, user=viewer)
        assert token_authenticate(raw_key) == token

        token_revoke(token_id=token.pk, user=csm)
        with pytest.raises(NotFound):
            token_revoke(token_id=token.pk)
        with pytest.raises(NotFound):
            token_revoke(token_id=999_999)

    def test_last_used_at_is_written_at_most_once_a_minute(self, clock, csm, django_assert_num_queries):
        token, raw_key = token_create(user=csm, name="t")
        assert token.last_used_at is None

        with django_assert_num_queries(2):  # the lookup, then the first "used" stamp
            token_authenticate(raw_key)
        token.refresh_from_db()
        assert token.last_used_at == NOW

        clock.move_to(NOW + dt.timedelta(seconds=59))
        with django_assert_num_queries(1):  # the lookup only
            assert token_authenticate(raw_key).last_used_at == NOW
        clock.move_to(NOW + dt.timedelta(seconds=60))
        token_authenticate(raw_key)
        token.refresh_from_db()
        assert token.last_used_at == NOW

        clock.move_to(NOW + dt.timedelta(seconds=61))
        assert token_authenticate(raw_key).last_used_at == NOW + dt.timedelta(seconds=61)
        token.refresh_from_db()
        assert token.last_used_at == NOW + dt.timedelta(seconds=61)


# --------------------------------------------------------------------------- the `token` command


class TestTokenCommand:
    def test_create_prints_only_the_key_which_authenticates_with_write_scope(self, csm):
        out, err = StringIO(), StringIO()

        call_command("token", "create", "CSM@example.com", "--name", "CI pipeline", "--write", stdout=out, stderr=err)

        printed = out.getvalue()
        assert printed.endswith("\n")
        assert printed.count("\n") == 1
        key = printed.strip()
        token = token_authenticate(key)
        assert (token.user, token.name, token.scope, token.can_write) == (csm, "CI pipeline", "write", True)
        assert err.getvalue() == ""
        assert ApiToken.objects.count() == 1

    def test_create_without_write_is_read_only(self, csm):
        out = StringIO()

        call_command("token", "create", "csm@example.com", "--name", "BI", stdout=out)

        token = token_authenticate(out.getvalue().strip())
        assert (token.scope, token.can_write) == ("read", False)

    def test_create_for_an_unknown_user_fails_and_creates_nothing(self, csm):
        out = StringIO()

        with pytest.raises(CommandError, match="No user with email nobody@example.com"):
            call_command("token", "create", "nobody@example.com", "--name", "x", stdout=out)

        assert out.getvalue() == ""
        assert ApiToken.objects.count() == 0

    def test_list_never_shows_the_key_and_revoke_works(self, csm):
        out = StringIO()
        call_command("token", "create", "csm@example.com", "--name", "CI", "--write", stdout=out)
        key = out.getvalue().strip()
        token = ApiToken.objects.get()

        listing = StringIO()
        call_command("token", "list", "csm@example.com", stdout=listing)
        assert listing.getvalue() == f"{token.pk}\t{key[:11]}…\tCI\twrite\tactive\n"

        revoked = StringIO()
        call_command("token", "revoke", str(token.pk), stdout=revoked)
        assert revoked.getvalue() == f"Revoked token {token.pk} (CI).\n"
        assert token_authenticate(key) is None
