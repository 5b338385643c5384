from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "tend.crm"
    label = "crm"
    verbose_name = _("Records")

    def ready(self) -> None:
        # Like Django's own permissions and content types: schema rows that must exist after
        # every migrate. Not business logic, so a signal is the right seam here.
        from .standard_objects import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="tend.crm.standard_objects")
