from django.contrib import admin

from .models import CalendarFeed


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_fetched_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__email", "prefix")
    readonly_fields = ("user", "prefix", "token_hash", "created_at", "last_fetched_at")
