"""The /api/v1 record endpoints: status codes, problem documents, paging, nothing changed on error."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.core.policy import SYSTEM
from tend.crm.models import Association, ObjectType, PropertyChange, Record
from tend.crm.services import association_link, record_create

pytestmark = pytest.mark.django_db

JSON = "application/json"


def post(client, url, body, **extra):
    return client.post(url, body, content_type=JSON, **extra)


def patch(client, url, body):
    return client.patch(url, body, content_type=JSON)


def make_company(name, **props):
    companies = ObjectType.objects.get(name="companies")
    return record_create(actor=SYSTEM, object_type=companies, properties={"name": name, **props}, source="system")


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


class TestAuthentication:
    def test_no_credentials_is_401_problem(self):
        body = assert_problem(Client().get("/api/v1/objects/companies"), 401)
        assert "token" in body["detail"].lower()

    def test_unknown_or_revoked_token_is_401(self, csm):
        from tend.directory.services import token_create, token_revoke

        token, key = token_create(user=csm, name="x")
        token_revoke(token_id=token.pk)
        assert_problem(Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/objects/companies"), 401)
        assert_problem(Client(HTTP_AUTHORIZATION="Bearer tend_nonsense").get("/api/v1/objects/companies"), 401)

    def test_session_reads_and_writes_need_csrf(self, csm):
        client = Client(enforce_csrf_checks=True)
        client.force_login(csm)
        assert client.get("/api/v1/objects/companies").status_code == 200
        assert_problem(post(client, "/api/v1/objects/companies", {"properties": {"name": "X"}}), 403)
        assert Record.objects.count() == 0

    def test_unknown_endpoint_is_404_problem(self, api):
        assert_problem(api.get("/api/v1/no-such-thing"), 404)

    def test_malformed_json_is_a_problem(self, api):
        response = api.post("/api/v1/objects/companies", "{oops", content_type=JSON)
        assert_problem(response, 400)


class TestRecordCrud:
    def test_create_returns_201_with_typed_values(self, api, csm):
        response = post(
            api,
            "/api/v1/objects/companies",
            {
                "properties": {
                    "name": "Acme",
                    "mrr": "1200.50",
                    "renewal_date": "2027-03-01",
                    "csm": csm.pk,
                    "cs_stage": "active",
                }
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["objectType"] == "companies"
        assert body["archived"] is False
        props = body["properties"]
        assert (props["name"], props["mrr"], props["renewal_date"], props["csm"], props["cs_stage"]) == (
            "Acme",
            1200.5,
            "2027-03-01",
            csm.pk,
            "active",
        )
        assert Record.objects.get(pk=body["id"]).properties["mrr"] == 1200.5

    def test_invalid_create_names_every_field_and_changes_nothing(self, api):
        response = post(
            api,
            "/api/v1/objects/companies",
            {"properties": {"name": "Bad", "mrr": "lots", "cs_stage": "sleepy", "nope": 1}},
        )
        body = assert_problem(response, 422)
        fields = {e["field"] for e in body["errors"]}
        assert fields == {"properties.mrr", "properties.cs_stage", "properties.nope"}
        assert Record.objects.count() == 0
        assert PropertyChange.objects.count() == 0

    def test_create_with_association_to_missing_record_changes_nothing(self, api):
        response = post(
            api, "/api/v1/objects/companies", {"properties": {"name": "A"}, "associations": [{"toId": 999}]}
        )
        assert_problem(response, 422, "associations[0].toId")
        assert Record.objects.count() == 0

    def test_create_with_association(self, api):
        contact = record_create(
            actor=SYSTEM,
            object_type=ObjectType.objects.get(name="contacts"),
            properties={"name": "Pat"},
            source="system",
        )
        response = post(
            api,
            "/api/v1/objects/companies",
            {"properties": {"name": "A"}, "associations": [{"toId": contact.pk, "label": "primary"}]},
        )
        assert response.status_code == 201
        company_id = response.json()["id"]
        listed = api.get(f"/api/v1/objects/companies/{company_id}/associations/contacts").json()
        assert listed == {"results": [{"toObjectId": contact.pk, "labels": ["primary"]}]}
        reverse = api.get(f"/api/v1/objects/contacts/{contact.pk}/associations/companies").json()
        assert reverse == {"results": [{"toObjectId": company_id, "labels": ["primary"]}]}

    def test_get_patch_delete_restore(self, api):
        record = make_company("Acme", mrr=100)
        url = f"/api/v1/objects/companies/{record.pk}"
        assert api.get(url).json()["properties"]["mrr"] == 100

        response = patch(api, url, {"properties": {"mrr": 250, "cs_stage": "at_risk"}})
        assert response.status_code == 200
        assert response.json()["properties"]["mrr"] == 250

        history = api.get(f"{url}/history?property=mrr").json()["results"]
        assert [(h["oldValue"], h["newValue"], h["source"]) for h in history] == [
            (100, 250, "api"),
            (None, 100, "system"),
        ]

        assert api.delete(url).status_code == 204
        archived = api.get(url).json()
        assert archived["archived"] is True
        assert api.get("/api/v1/objects/companies").json()["results"] == []
        assert api.get("/api/v1/objects/companies?archived=true").json()["results"][0]["id"] == record.pk
        assert_problem(patch(api, url, {"properties": {"mrr": 1}}), 422, "id")

        assert api.post(f"{url}/restore").json()["archived"] is False

    def test_invalid_patch_changes_nothing(self, api):
        record = make_company("Acme", mrr=100)
        response = patch(
            api, f"/api/v1/objects/companies/{record.pk}", {"properties": {"mrr": 5, "renewal_date": "next week"}}
        )
        assert_problem(response, 422, "properties.renewal_date")
        record.refresh_from_db()
        assert record.properties == {"mrr": 100}
        assert PropertyChange.objects.filter(record=record).count() == 2  # name and mrr at creation

    def test_missing_and_wrong_type_ids_are_404(self, api, contacts):
        record = make_company("Acme")
        assert_problem(api.get("/api/v1/objects/companies/987654"), 404)
        assert_problem(api.get(f"/api/v1/objects/contacts/{record.pk}"), 404)
        assert_problem(api.get("/api/v1/objects/companies/abc"), 404)
        assert_problem(api.get("/api/v1/objects/planets/1"), 404)

    def test_requested_properties_only_and_unknown_rejected(self, api):
        record = make_company("Acme", mrr=100, country="Japan")
        body = api.get(f"/api/v1/objects/companies/{record.pk}?properties=mrr,country").json()
        assert body["properties"] == {"mrr": 100, "country": "Japan"}
        assert_problem(api.get(f"/api/v1/objects/companies/{record.pk}?properties=mrr,bogus"), 422, "properties")


class TestListingAndSearch:
    def test_cursor_paging_visits_every_record_once(self, api):
        ids = [make_company(f"C{i}").pk for i in range(7)]
        seen, after = [], None
        while True:
            url = "/api/v1/objects/companies?limit=3" + (f"&after={after}" if after else "")
            body = api.get(url).json()
            seen += [r["id"] for r in body["results"]]
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                break
        assert seen == ids

    def test_limit_out_of_range_is_422(self, api):
        assert_problem(api.get("/api/v1/objects/companies?limit=101"), 422, "limit")
        assert_problem(api.get("/api/v1/objects/companies?after=-3"), 422, "after")

    def test_list_query_count_does_not_grow_with_page_size(self, api):
        for i in range(40):
            make_company(f"C{i}", mrr=i)
        api.get("/api/v1/objects/companies?limit=1")  # warm the token's last-used stamp
        counts = []
        for limit in (5, 40):
            with CaptureQueriesContext(connection) as ctx:
                assert len(api.get(f"/api/v1/objects/companies?limit={limit}").json()["results"]) == limit
            counts.append(len(ctx.captured_queries))
        assert counts[0] == counts[1]
        assert counts[1] <= 6

    def test_search_filters_sorts_and_pages(self, api, csm):
        make_company("Zeta", mrr=10, csm=csm.pk, cs_stage="active")
        make_company("Alpha", mrr=300, csm=csm.pk, cs_stage="at_risk")
        make_company("Beta", mrr=200, csm=csm.pk, cs_stage="active")
        make_company("Other", mrr=500, cs_stage="active")
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "csm", "operator": "IS_ME"},
                        {"propertyName": "mrr", "operator": "GTE", "value": 100},
                    ]
                }
            ],
            "sorts": [{"propertyName": "mrr", "direction": "DESCENDING"}],
            "limit": 1,
            "properties": ["name"],
        }
        first = post(api, "/api/v1/objects/companies/search", body).json()
        assert first["total"] == 2
        assert [r["properties"] for r in first["results"]] == [{"name": "Alpha"}]
        second = post(
            api, "/api/v1/objects/companies/search", {**body, "after": first["paging"]["next"]["after"]}
        ).json()
        assert [r["properties"]["name"] for r in second["results"]] == ["Beta"]
        assert "paging" not in second

    def test_search_query_text(self, api):
        make_company("Acme Robotics", domain="acme.io")
        make_company("Globex", domain="globex.com")
        body = post(api, "/api/v1/objects/companies/search", {"query": "globex"}).json()
        assert [r["properties"]["name"] for r in body["results"]] == ["Globex"]

    def test_invalid_search_is_422_naming_the_filter(self, api):
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "mrr", "operator": "GT", "value": 1},
                        {"propertyName": "cs_stage", "operator": "LT", "value": "x"},
                    ]
                }
            ]
        }
        assert_problem(post(api, "/api/v1/objects/companies/search", body), 422, "filterGroups[0].filters[1].operator")
        assert_problem(post(api, "/api/v1/objects/companies/search", {"limit": 201}), 422, "limit")
        empty_group = {"filterGroups": [{"filters": []}]}
        assert_problem(post(api, "/api/v1/objects/companies/search", empty_group), 422, "filterGroups[0].filters")


class TestBatches:
    def test_batch_create_is_all_or_nothing(self, api):
        inputs = [{"properties": {"name": "Good"}}, {"properties": {"name": "Bad", "mrr": "x"}}]
        body = assert_problem(post(api, "/api/v1/objects/companies/batch/create", {"inputs": inputs}), 422)
        assert [e["field"] for e in body["errors"]] == ["inputs[1].properties.mrr"]
        assert Record.objects.count() == 0

    def test_batch_create_duplicate_unique_values_within_the_batch(self, api):
        inputs = [{"properties": {"name": "A", "domain": "a.com"}}, {"properties": {"name": "B", "domain": "A.com"}}]
        assert_problem(
            post(api, "/api/v1/objects/companies/batch/create", {"inputs": inputs}), 422, "inputs[1].properties.domain"
        )
        assert Record.objects.count() == 0

    def test_batch_create_non_atomic_reports_row_by_row(self, api):
        inputs = [{"properties": {"name": "Good"}}, {"properties": {"name": "Bad", "mrr": "x"}}]
        response = post(api, "/api/v1/objects/companies/batch/create?atomic=false", {"inputs": inputs})
        assert response.status_code == 207
        body = response.json()
        assert [r["properties"]["name"] for r in body["results"]] == ["Good"]
        assert [e["field"] for e in body["errors"]] == ["inputs[1].properties.mrr"]
        assert list(Record.objects.values_list("name", flat=True)) == ["Good"]

    def test_batch_create_read_update_archive(self, api):
        created = post(
            api,
            "/api/v1/objects/companies/batch/create",
            {"inputs": [{"properties": {"name": f"C{i}"}} for i in range(3)]},
        )
        assert created.status_code == 201
        ids = [r["id"] for r in created.json()["results"]]
        read = post(
            api, "/api/v1/objects/companies/batch/read", {"inputs": [{"id": i} for i in ids], "properties": ["name"]}
        )
        assert [r["properties"]["name"] for r in read.json()["results"]] == ["C0", "C1", "C2"]
        updated = post(
            api,
            "/api/v1/objects/companies/batch/update",
            {"inputs": [{"id": i, "properties": {"mrr": 5}} for i in ids]},
        )
        assert updated.status_code == 200
        assert all(r["properties"]["mrr"] == 5 for r in updated.json()["results"])
        assert post(api, "/api/v1/objects/companies/batch/archive", {"inputs": [{"id": ids[0]}]}).status_code == 204
        assert Record.objects.filter(archived_at__isnull=True).count() == 2

    def test_batch_limits_and_missing_ids(self, api):
        too_many = {"inputs": [{"properties": {"name": str(i)}} for i in range(101)]}
        assert_problem(post(api, "/api/v1/objects/companies/batch/create", too_many), 422, "inputs")
        assert_problem(
            post(api, "/api/v1/objects/companies/batch/read", {"inputs": [{"id": 424242}]}), 422, "inputs[0].id"
        )
        assert Record.objects.count() == 0


class TestMerge:
    def test_merge_moves_links_and_the_old_id_resolves(self, api):
        primary = make_company("Acme", mrr=100)
        secondary = make_company("ACME Inc", mrr=999, country="Japan")
        contact = record_create(
            actor=SYSTEM,
            object_type=ObjectType.objects.get(name="contacts"),
            properties={"name": "Pat"},
            source="system",
        )
        association_link(secondary, contact)
        response = post(
            api, "/api/v1/objects/companies/merge", {"primaryObjectId": primary.pk, "objectIdToMerge": secondary.pk}
        )
        assert response.status_code == 200
        props = response.json()["properties"]
        assert (props["name"], props["mrr"], props["country"]) == ("Acme", 100, "Japan")
        assert api.get(f"/api/v1/objects/companies/{secondary.pk}").json()["id"] == primary.pk
        assert set(Association.objects.values_list("from_record_id", "to_record_id")) == {
            (primary.pk, contact.pk),
            (contact.pk, primary.pk),
        }

    def test_merge_with_itself_is_422(self, api):
        record = make_company("Acme")
        body = {"primaryObjectId": record.pk, "objectIdToMerge": record.pk}
        assert_problem(post(api, "/api/v1/objects/companies/merge", body), 422, "objectIdToMerge")


class TestAssociationsApi:
    def test_put_and_delete(self, api):
        company = make_company("Acme")
        contact = record_create(
            actor=SYSTEM,
            object_type=ObjectType.objects.get(name="contacts"),
            properties={"name": "Pat"},
            source="system",
        )
        url = f"/api/v1/objects/companies/{company.pk}/associations/contacts/{contact.pk}"
        assert api.put(url, {"label": "decision maker"}, content_type=JSON).status_code == 200
        assert Association.objects.count() == 2
        assert api.delete(url).status_code == 204
        assert Association.objects.count() == 0

    def test_self_association_is_422(self, api):
        company = make_company("Acme")
        url = f"/api/v1/objects/companies/{company.pk}/associations/companies/{company.pk}"
        assert_problem(api.put(url, {}, content_type=JSON), 422, "toId")
