"""/reports/…: the report library, builder, report page, chart fragment and exports."""

urlpatterns: list = []
