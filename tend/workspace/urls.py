from django.urls import path

from . import views

urlpatterns = [
    path("customers/", views.customers, name="customers"),
    path("customers/views/", views.view_create, name="customers-view-create"),
    path("customers/views/reorder/", views.views_reorder, name="customers-views-reorder"),
    path("customers/views/<int:view_id>/", views.view_update, name="customers-view-update"),
    path("customers/views/<int:view_id>/delete/", views.view_delete, name="customers-view-delete"),
    path("customers/views/<int:view_id>/default/", views.view_default, name="customers-view-default"),
]
