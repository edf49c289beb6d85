"""The crowd page: download the whole crowd as one document; upload one, preview the dry run, then apply it."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from dashboard.views.access import RoleRequiredMixin
from engine.portability import CHANGE_SETTING, EXPORT_PERMISSIONS, IMPORT_PERMISSIONS
from engine.portability.exporting import crowd_export
from engine.portability.importing import CrowdImportError, crowd_import, crowd_load

# The previewed document waits in the session until the operator applies it (or uploads another).
SESSION_KEY = "crowd_import_document"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class CrowdUploadForm(forms.Form):
    """The crowd document to preview."""

    document = forms.FileField(label="Crowd document (JSON)", help_text="A file written by Export crowd.")


class CrowdExportView(RoleRequiredMixin, View):
    """The crowd document as a download (never a token)."""

    permission_required = EXPORT_PERMISSIONS

    def get(self, request: HttpRequest) -> HttpResponse:
        body = json.dumps(crowd_export(), ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        name = f"piyasa-crowd-{timezone.localtime():%Y%m%d-%H%M}.json"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class CrowdView(RoleRequiredMixin, TemplateView):
    """Export and import: an upload is previewed as a dry run first; "Apply" imports the previewed document."""

    template_name = "dashboard/crowd.html"
    permission_required = EXPORT_PERMISSIONS

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", CrowdUploadForm())
        context["can_import"] = all(self.user_may(name) for name in IMPORT_PERMISSIONS)
        context["can_change_settings"] = self.user_may(CHANGE_SETTING)
        context["nav"] = "bots"
        return context

    def post(self, request: HttpRequest) -> HttpResponseBase:
        if not all(self.user_may(name) for name in IMPORT_PERMISSIONS):
            return self.handle_no_permission()
        if request.POST.get("action") == "apply":
            return self.apply(request)
        return self.preview(request)

    def preview(self, request: HttpRequest) -> HttpResponse:
        form = CrowdUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        upload = form.cleaned_data["document"]
        try:
            if upload.size > MAX_DOCUMENT_BYTES:
                raise CrowdImportError([f"document: larger than {MAX_DOCUMENT_BYTES // 1024 // 1024} MB"])
            data = crowd_load(upload.read())
            result = crowd_import(data=data, dry_run=True, apply_settings=self.user_may(CHANGE_SETTING))
        except CrowdImportError as error:
            request.session.pop(SESSION_KEY, None)
            context = self.get_context_data(form=form, errors=error.errors, file_name=upload.name)
            return self.render_to_response(context, status=400)
        request.session[SESSION_KEY] = data
        return self.render_to_response(self.get_context_data(report=result.as_dict(), file_name=upload.name))

    def apply(self, request: HttpRequest) -> HttpResponseBase:
        data = request.session.get(SESSION_KEY)
        if data is None:
            messages.error(request, "Nothing to apply: upload the document and preview it first.")
            return redirect("dashboard:crowd")
        try:
            result = crowd_import(data=data, apply_settings=self.user_may(CHANGE_SETTING))
        except CrowdImportError as error:
            # The crowd changed since the preview in a way the document no longer fits.
            return self.render_to_response(self.get_context_data(errors=error.errors), status=400)
        request.session.pop(SESSION_KEY, None)
        report = result.as_dict()
        messages.success(request, f"Imported {len(report['bots'])} bot(s) and {len(report['chats'])} chat(s).")
        return redirect("dashboard:bot-list")
