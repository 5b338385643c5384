"""HTML URLs of records: /records/<object type>/<id>/… (the API lives under /api/v1/)."""

from django.urls import path

from . import picker, views

RECORD = "records/<str:object_type>/<int:record_id>/"

urlpatterns = [
    path("records/picker/", picker.record_picker_search, name="record-picker-search"),
    path(RECORD, views.record_detail, name="record-detail"),
    path(f"{RECORD}preview/", views.record_preview, name="record-preview"),
    path(f"{RECORD}timeline/", views.record_timeline, name="record-timeline"),
    path(f"{RECORD}history/", views.record_history, name="record-history"),
    path(f"{RECORD}properties/<str:name>/", views.property_row, name="record-property"),
    path(f"{RECORD}properties/<str:name>/edit/", views.property_edit, name="record-property-edit"),
    path(f"{RECORD}properties/<str:name>/history/", views.property_history, name="record-property-history"),
    path(f"{RECORD}follow/", views.record_follow, name="record-follow"),
    path(f"{RECORD}merge/", views.record_merge, name="record-merge"),
    path(f"{RECORD}merge/search/", views.record_merge_search, name="record-merge-search"),
    path(f"{RECORD}associations/", views.record_associations, name="record-associations"),
    path(f"{RECORD}associations/search/", views.association_search, name="record-association-search"),
    path(f"{RECORD}associations/remove/", views.association_remove, name="record-association-remove"),
]
