"""Chat editing (operators): a new chat, and a chat's settings with its bots (memberships)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import DetailView, TemplateView

from accounts.roles import CHANGE_SETTING
from chats.models import Chat, Membership
from dashboard.forms_bots import ChatMembershipAddForm
from dashboard.forms_chats import ChatForm, ChatOverridesForm
from dashboard.forms_common import add_service_errors, bound_or, make_read_only
from dashboard.views.access import RoleRequiredMixin
from dashboard.views.editing import EditPageMixin, membership_post, membership_section
from engine.selectors import settings_all


class ChatCreateView(RoleRequiredMixin, TemplateView):
    """A new Telegram or sandbox chat; its bots are added on its edit page afterwards."""

    template_name = "dashboard/chat_edit.html"
    permission_required = "chats.add_chat"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ChatForm())
        context["nav"] = "chats"
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ChatForm(request.POST)
        if form.is_valid():
            try:
                chat = form.save_through_service()
            except ValidationError as error:
                add_service_errors(form, error, unique_field="telegram_chat_id")
            else:
                messages.success(request, f"Chat {chat.title} created; add its bots below.")
                return redirect("dashboard:chat-edit", pk=chat.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ChatEditView(EditPageMixin, DetailView):
    """A chat's fields and its bots: add a bot, enable or disable it here, override its talkativeness."""

    template_name = "dashboard/chat_edit.html"
    permission_required = "chats.change_chat"
    model = Chat
    context_object_name = "chat"
    page_url_name = "dashboard:chat-edit"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        bound = kwargs.get("bound", {})
        chat: Chat = self.object
        context["form"] = bound_or(bound, "", lambda: ChatForm(instance=chat))
        overrides = bound_or(bound, "overrides", lambda: ChatOverridesForm(chat=chat, config=settings_all()))
        context["can_override"] = self.user_may(CHANGE_SETTING)  # runtime settings are admins', a chat's too
        context["overrides_form"] = overrides if context["can_override"] else make_read_only(overrides)
        memberships = list(chat.memberships.select_related("bot").order_by("bot__name"))

        def urls(membership: Membership | None) -> str:
            if membership is None:
                return reverse("dashboard:chat-membership-add", args=[chat.pk])
            return reverse("dashboard:chat-membership-edit", args=[chat.pk, membership.pk])

        def add_form() -> forms.BaseForm:
            return ChatMembershipAddForm(instance=Membership(chat=chat), prefix="membership")

        section = membership_section(self, memberships, bound=bound, add_form=add_form, urls=urls, show="bot")
        context["section"] = section
        context["can_delete"] = self.user_may("chats.delete_chat")
        context["nav"] = "chats"
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Save the chat's fields."""
        form = ChatForm(request.POST, instance=self.get_object())
        return self.save_or_rerender(
            form, form.save_through_service, success="Chat saved.", anchor="chat", unique_field="telegram_chat_id"
        )


class ChatOverridesView(ChatEditView):
    """Save the runtime settings the chat overrides (admins); errors show at their fields on the chat's edit page."""

    def get_permission_required(self) -> tuple[str, ...]:
        return ("chats.change_chat", CHANGE_SETTING)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect(f"{self.page_url()}#overrides")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = ChatOverridesForm(request.POST, chat=self.get_object(), config=settings_all())
        return self.save_or_rerender(form, form.save_through_service, success="Overrides saved.", anchor="overrides")


class ChatMembershipView(ChatEditView):
    """Add a bot to the chat, change a membership or remove it; errors show inline on the chat's edit page."""

    def get_permission_required(self) -> tuple[str]:
        return self.sub_permission("chats.membership")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect(f"{self.page_url()}#memberships")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        chat = get_object_or_404(Chat, pk=self.kwargs["pk"])
        response: HttpResponse = membership_post(self, scope={"chat": chat}, add_form_class=ChatMembershipAddForm)
        return response


class ChatDeleteView(RoleRequiredMixin, DetailView):
    """Delete a chat with its memberships, messages and turns (admins)."""

    permission_required = "chats.delete_chat"
    model = Chat

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return redirect("dashboard:chat-edit", pk=self.kwargs["pk"])

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        chat = self.get_object()
        chat.delete()
        messages.success(request, f"Chat {chat.title} deleted.")
        return redirect("dashboard:chat-list")
