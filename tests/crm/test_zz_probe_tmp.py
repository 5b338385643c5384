import json
import pytest
from tend.crm.models import ObjectType
from tend.crm.services import record_create
pytestmark = pytest.mark.django_db

def test_probe(api, csm):
    ot = ObjectType.objects.get(name="companies")
    for name, props in [("Acme", {"industry": "software", "city": "Rome", "csm": csm.pk}), ("Beta", {"city": "ROME"}), ("Gamma", {})]:
        record_create(actor=None, object_type=ot, properties={"name": name, **props})
    def s(body):
        r = api.post("/api/v1/objects/companies/search", json.dumps(body), content_type="application/json")
        j = r.json()
        return r.status_code, [x["properties"]["name"] for x in j.get("results", [])] if r.status_code == 200 else j
    f = lambda *fs: {"filterGroups": [{"filters": list(fs)}]}
    print(s(f({"propertyName": "industry", "operator": "NEQ", "value": "software"})))
    print(s(f({"propertyName": "city", "operator": "EQ", "value": "rome"})))
    print(s(f({"propertyName": "city", "operator": "CONTAINS_TOKEN", "value": "*om*"})))
    print(s(f({"propertyName": "csm", "operator": "IS_ME"})))
    print(s({"query": "et"}))
    print(s({"sorts": [{"propertyName": "city", "direction": "DESCENDING"}]}))
    print(s(f({"propertyName": "industry", "operator": "GT", "value": "x"}, {"propertyName": "mrr", "operator": "EQ", "value": "lots"})))
    print(s({"filterGroups": [{"filters": []}], "limit": 500}))
    print(s({"limit": 1}))
