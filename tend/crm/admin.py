from django.contrib import admin

from .models import ObjectType, Pipeline, PropertyDefinition, Stage


class ReadOnly:
    """Schema is changed through the API (services validate every change); the admin only shows it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass


@admin.register(ObjectType)
class ObjectTypeAdmin(ReadOnlyAdmin):
    list_display = ["name", "label_singular", "label_plural", "primary_property", "built_in"]


@admin.register(PropertyDefinition)
class PropertyDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["object_type", "name", "label", "type", "required", "unique", "built_in", "archived_at"]
    list_filter = ["object_type", "type", "built_in"]


class StageInline(ReadOnly, admin.TabularInline):
    model = Stage
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(ReadOnlyAdmin):
    list_display = ["label", "object_type", "display_order", "archived_at"]
    inlines = [StageInline]
