"""The versioned HTTP API, /api/v1, with its OpenAPI schema at /api/v1/openapi.json and docs at /api/v1/docs."""

from ninja import NinjaAPI

from tend.activity.api import router as activity_router
from tend.core.api import SessionAuth, install_problem_handlers
from tend.crm.api import collection_router, pipeline_router, schema_router
from tend.crm.api import router as records_router
from tend.directory.api import router as directory_router
from tend.directory.auth import TokenAuth
from tend.engagement.api import router as engagement_router
from tend.health.api import router as health_router
from tend.notifications.api import router as notifications_router
from tend.reports.api import router as reports_router
from tend.schedule.api import router as schedule_router
from tend.tasks.api import router as tasks_router
from tend.usage.api import router as usage_router

api = NinjaAPI(
    title="Tend API",
    version="1",
    description=(
        "The Tend customer success workspace API. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `tend token create EMAIL --name NAME [--write]`) or a signed-in session. "
        "Errors are RFC 9457 problem documents (`application/problem+json`) whose `errors` name each field."
    ),
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api-v1",
)
install_problem_handlers(api)
api.add_router("", schema_router)
api.add_router("", collection_router)
api.add_router("", records_router)
api.add_router("", pipeline_router)
api.add_router("", engagement_router)
api.add_router("", directory_router)
api.add_router("", tasks_router)
api.add_router("", schedule_router)
api.add_router("", usage_router)
api.add_router("", activity_router)
api.add_router("", health_router)
api.add_router("", reports_router)
api.add_router("", notifications_router)
