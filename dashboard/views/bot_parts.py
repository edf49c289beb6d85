"""POSTs of the bot page's sections: add, change or delete a stance, holding, memory or chat membership."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from bots.models import Bot
from bots.services import bot_knowledge_save
from dashboard.forms_bots import BotMembershipAddForm
from dashboard.views.bots import KNOWLEDGE, BotDetailView, Knowledge
from dashboard.views.editing import membership_post


class BotKnowledgeView(BotDetailView):
    """Add (action=add), change (edit) or delete a stance, holding or memory; errors show inline on the bot page."""

    def spec(self) -> Knowledge:
        try:
            return KNOWLEDGE[self.kwargs["kind"]]
        except KeyError:
            raise Http404("No such section.") from None

    def get_permission_required(self) -> tuple[str]:
        return self.sub_permission(f"bots.{self.spec().model._meta.model_name}")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect(f"{self.page_url()}#{self.spec().kind}")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        spec = self.spec()
        bot = get_object_or_404(Bot, pk=self.kwargs["pk"])
        if self.kwargs["action"] == "add":
            instance: Any = spec.model(bot=bot)
            prefix = spec.noun
        else:
            instance = get_object_or_404(spec.model, pk=self.kwargs["item"], bot=bot)
            prefix = f"{spec.noun}-{instance.pk}"
        if self.kwargs["action"] == "delete":
            return self.delete_and_redirect(instance, success=f"Deleted {spec.noun}.", anchor=spec.kind)
        form = spec.form(request.POST, instance=instance, prefix=prefix)
        return self.save_or_rerender(
            form,
            lambda: bot_knowledge_save(instance=instance, **form.cleaned_data),
            success=f"Saved {spec.noun}.",
            anchor=spec.kind,
            unique_field=spec.unique_field,
        )


class BotMembershipView(BotDetailView):
    """Add the bot to a chat, change a membership (enabled, talkativeness) or remove it; errors show inline."""

    def get_permission_required(self) -> tuple[str]:
        return self.sub_permission("chats.membership")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect(f"{self.page_url()}#memberships")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        bot = get_object_or_404(Bot, pk=self.kwargs["pk"])
        response: HttpResponse = membership_post(self, scope={"bot": bot}, add_form_class=BotMembershipAddForm)
        return response
