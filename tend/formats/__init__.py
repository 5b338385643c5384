"""Date and time formats where Tend differs from Django's (settings.FORMAT_MODULE_PATH)."""
