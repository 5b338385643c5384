"""HTML URLs of records: /records/<object type>/<id>/… (the API lives under /api/v1/)."""

from django.urls import path

from . import picker
from .views import associations, edit, history, merge, record, timeline

RECORD = "records/<str:object_type>/<int:record_id>/"

urlpatterns = [
    path("records/picker/", picker.record_picker_search, name="record-picker-search"),
    path(RECORD, record.record_detail, name="record-detail"),
    path(f"{RECORD}preview/", record.record_preview, name="record-preview"),
    path(f"{RECORD}timeline/", timeline.record_timeline, name="record-timeline"),
    path(f"{RECORD}history/", history.record_history, name="record-history"),
    path(f"{RECORD}properties/<str:name>/", edit.property_row, name="record-property"),
    path(f"{RECORD}properties/<str:name>/edit/", edit.property_edit, name="record-property-edit"),
    path(f"{RECORD}properties/<str:name>/history/", history.property_history, name="record-property-history"),
    path(f"{RECORD}follow/", record.record_follow, name="record-follow"),
    path(f"{RECORD}merge/", merge.record_merge, name="record-merge"),
    path(f"{RECORD}merge/search/", merge.record_merge_search, name="record-merge-search"),
    path(f"{RECORD}associations/", associations.record_associations, name="record-associations"),
    path(f"{RECORD}associations/search/", associations.association_search, name="record-association-search"),
    path(f"{RECORD}associations/remove/", associations.association_remove, name="record-association-remove"),
]
