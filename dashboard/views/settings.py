"""Runtime settings: every key with its value; admins save the changed ones all at once (all or nothing)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.views.generic import TemplateView

from dashboard.forms_common import add_service_errors, make_read_only
from dashboard.forms_settings import SettingsForm, json_type
from dashboard.views.access import RoleRequiredMixin
from engine.runtime_settings import SPECS
from engine.selectors import settings_all

CHANGE_SETTING = "engine.change_setting"
JSON_TYPES = {"array", "object"}


class SettingsView(RoleRequiredMixin, TemplateView):
    """One typed field per runtime setting; read-only unless the role may change settings."""

    template_name = "dashboard/settings.html"
    permission_required = "engine.view_setting"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        can_change = self.user_may(CHANGE_SETTING)
        form = context.get("form") or SettingsForm(values=settings_all().values())
        if not can_change:
            make_read_only(form)
        context["form"] = form
        # Scalars first in a compact grid, then the lists and objects as JSON textareas.
        context["scalar_fields"] = [form[spec.key] for spec in SPECS if json_type(spec) not in JSON_TYPES]
        context["json_fields"] = [form[spec.key] for spec in SPECS if json_type(spec) in JSON_TYPES]
        context["can_change"] = can_change
        context["nav"] = "settings"
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not self.user_may(CHANGE_SETTING):
            return self.handle_no_permission()
        form = SettingsForm(request.POST, values=settings_all().values())
        if form.is_valid():
            try:
                changed = form.save_through_service()
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Saved {', '.join(changed)}." if changed else "Nothing changed.")
                return redirect("dashboard:settings")
        return self.render_to_response(self.get_context_data(form=form), status=400)
