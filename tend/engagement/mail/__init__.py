"""Email from records: template variables, sending through Django's email backends, tracking."""
