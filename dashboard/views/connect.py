"""Connect a Telegram group, guided: paste bot tokens (getMe) → add the bots to the group → the discovered chat
appears → enable → preflight → start."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from accounts.roles import CONTROL_SIMULATION
from bots.models import Bot
from chats.models import Chat
from dashboard.views.access import RoleRequiredMixin
from engine.services import setting_set
from engine.services.capabilities import chat_capabilities_refresh, chat_enable
from engine.services.connect import (
    PERSONA_TEMPLATES,
    bot_check,
    bot_listens,
    bots_connect,
    chat_bots,
    connect_chats,
)
from engine.services.preflight import preflight_run

SESSION_KEY = "connect_bot_ids"  # the bots this operator's flow connected, for the add-to-group step


def session_bot_ids(request: HttpRequest) -> list[int]:
    """The ids of the bots connected in this session's flow."""
    return [int(pk) for pk in request.session.get(SESSION_KEY, [])]


def chat_rows(bot_ids: list[int]) -> list[dict[str, Any]]:
    """The chats the add-to-group step shows, JSON-ready."""
    return [
        {"id": chat.pk, "title": chat.title, "discovered": chat.is_discovered, "enabled": chat.is_enabled,
         "url": reverse("dashboard:connect-chat", args=[chat.pk])}
        for chat in connect_chats(bot_ids=bot_ids)
    ]  # fmt: skip


class ConnectView(RoleRequiredMixin, TemplateView):
    """Steps 1 and 2: the tokens, each checked with getMe; then each bot's add-to-group link, waiting for the chat."""

    template_name = "dashboard/connect.html"
    permission_required = "bots.add_bot"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        bot_ids = session_bot_ids(self.request)
        context["bots"] = Bot.objects.filter(pk__in=bot_ids).order_by("name")
        context["chats"] = chat_rows(bot_ids)
        context["templates"] = [(name, spec.name, spec.persona.tone) for name, spec in PERSONA_TEMPLATES.items()]
        context["nav"] = "bots"
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        checks = bots_connect(text=request.POST.get("tokens", ""), template=request.POST.get("template", ""))
        connected = [check.bot.pk for check in checks if check.bot is not None and check.bot.pk is not None]
        request.session[SESSION_KEY] = sorted(set(session_bot_ids(request)) | set(connected))
        status = 200 if checks and all(not check.error for check in checks) else 400
        return self.render_to_response(self.get_context_data(checks=checks), status=status)


class ConnectChatsView(RoleRequiredMixin, View):
    """The add-to-group step's poll: the chats this flow's bots are in, as JSON."""

    permission_required = "bots.add_bot"

    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse({"chats": chat_rows(session_bot_ids(request))})


class ConnectChatView(RoleRequiredMixin, TemplateView):
    """Step 3 for one chat: enable it (a discovered group), its preflight check by check, then start."""

    template_name = "dashboard/connect_chat.html"
    permission_required = "chats.change_chat"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        chat = get_object_or_404(Chat, pk=self.kwargs["pk"], transport=Chat.Transport.TELEGRAM)
        context["chat"] = chat
        context["bots"] = chat_bots(chat=chat).order_by("name")
        context["report"] = None if chat.is_discovered else preflight_run(bots=chat_bots(chat=chat))
        if not chat.is_discovered:  # what the group lets its members do, asked again as the flow checks it
            context["capabilities"] = chat_capabilities_refresh(chat_id=chat.pk)
            chat.refresh_from_db()
        context["can_start"] = self.user_may(CONTROL_SIMULATION)
        context["nav"] = "chats"
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        chat = get_object_or_404(Chat, pk=kwargs["pk"], transport=Chat.Transport.TELEGRAM)
        if request.POST.get("action") == "enable":
            chat_enable(chat=chat)
            messages.success(request, f"{chat.title}: enabled.")
            return redirect("dashboard:connect-chat", pk=chat.pk)
        if not self.user_may(CONTROL_SIMULATION):
            return self.handle_no_permission()
        chat_enable(chat=chat)
        setting_set(key="simulation_active", value=True)
        messages.success(request, f"{chat.title}: started.")
        return redirect("dashboard:chat-live", pk=chat.pk)


class BotTelegramCheckView(RoleRequiredMixin, View):
    """The bot page's "Check with Telegram": getMe, with the privacy-mode warning and its fix when it applies."""

    permission_required = "bots.change_bot"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        bot = get_object_or_404(Bot, pk=pk)
        check = bot_check(bot=bot)
        if check.error:
            messages.error(request, f"{bot.name}: {check.error}")
        elif check.privacy_warning and bot_listens(bot=bot):
            messages.warning(request, f"@{bot.username}: {check.privacy_warning}")
        elif check.privacy_warning:
            messages.info(request, f"@{bot.username}: Telegram knows the bot; privacy mode is on, which matters once "
                          "it is in an enabled group.")  # fmt: skip
        else:
            messages.success(request, f"@{bot.username}: Telegram knows the bot; it reads all group messages.")
        return redirect("dashboard:bot-detail", pk=bot.pk)
