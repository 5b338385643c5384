"""/dashboards/…: the Dashboards tab, the dashboard library and one dashboard."""

urlpatterns: list = []
