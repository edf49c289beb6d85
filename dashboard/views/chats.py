"""Chats: the list, and the live chat view (polls the messages API; sandbox chats let the operator post)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.views.generic import DetailView, ListView

from chats.models import Chat, Message
from chats.services import chat_set_enabled
from dashboard.forms import MemberPostForm
from dashboard.views.access import RoleRequiredMixin
from engine.models import MarketEvent
from engine.quality.selectors import quality_report
from engine.selectors import chats_quiet_hours, settings_all
from engine.services.capabilities import chat_enable

LIVE_INITIAL_MESSAGES = 50
LIVE_EVENTS = 10  # the chat's latest market events, as a timeline beside its messages


class ChatListView(RoleRequiredMixin, ListView):
    """Every chat with its bots, message count and last activity."""

    template_name = "dashboard/chat_list.html"
    permission_required = "chats.view_chat"
    context_object_name = "chats"

    def get_queryset(self) -> QuerySet[Chat]:
        return Chat.objects.annotate(
            bot_count=Count("memberships", filter=Q(memberships__is_enabled=True), distinct=True),
            paused_count=Count("memberships", filter=Q(memberships__paused_at__isnull=False), distinct=True),
            last_message_at=Max("messages__created_at"),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = self.user_may("chats.add_chat")
        context["nav"] = "chats"
        return context


class ChatLiveView(RoleRequiredMixin, DetailView):
    """A chat as it happens: the latest messages, then new ones as they arrive; its market events as a timeline;
    its last hour's quality figures."""

    template_name = "dashboard/chat_live.html"
    permission_required = "chats.view_chat"
    model = Chat
    context_object_name = "chat"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        latest = Message.objects.filter(chat=self.object).select_related("bot", "reply_to", "reply_to__bot")
        shown = reversed(latest.order_by("-created_at", "-id")[:LIVE_INITIAL_MESSAGES])
        forum = self.object.is_forum  # a forum's messages say which topic they are in
        context["chat_messages"] = [(m, self.object.thread_name(m.thread_id) if forum else "") for m in shown]
        context["thread_names"] = {
            t["thread_id"]: self.object.thread_name(t["thread_id"]) for t in self.object.forum_threads
        }
        context["memberships"] = self.object.memberships.select_related("bot").order_by("bot__name")
        context["quiet_hours"] = chats_quiet_hours([self.object.pk], now=timezone.now()).get(self.object.pk)
        context["can_post"] = self.object.is_sandbox and self.user_may("chats.add_message")
        context["can_change"] = self.user_may("chats.change_chat")
        context["post_form"] = MemberPostForm()
        context["quality"] = quality_report(chat_ids=[self.object.pk])
        context["now"] = timezone.now()
        context["events"] = latest_events(self.object)
        context["can_inject"] = self.user_may("engine.add_marketevent")
        everywhere = settings_all().values()
        context["overrides"] = [  # the chat's own settings, each beside the global value it replaces
            (key, value, everywhere[key]) for key, value in sorted(self.object.settings_overrides.items())
        ]
        context["nav"] = "chats"
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Pause or resume the chat (the member post goes through the API from the page's script)."""
        if not self.user_may("chats.change_chat"):
            return self.handle_no_permission()
        chat = self.get_object()
        if request.POST.get("action") == "enable":  # a discovered group: the one action that takes it in
            chat_enable(chat=chat)
            messages.success(request, f"{chat.title}: enabled.")
            return redirect("dashboard:chat-live", pk=chat.pk)
        enabled = request.POST.get("action") == "resume"
        chat_set_enabled(chat=chat, enabled=enabled)
        messages.success(request, f"{chat.title}: {'resumed' if enabled else 'paused'}.")
        return redirect("dashboard:chat-live", pk=chat.pk)


def latest_events(chat: Chat) -> list[MarketEvent]:
    """The chat's latest market events, newest first: its timeline."""
    return list(chat.market_events.order_by("-fire_at", "-id")[:LIVE_EVENTS])


class ChatEventsView(RoleRequiredMixin, DetailView):
    """The chat's event timeline alone (an HTML fragment): the live page's script swaps it in as events fire."""

    template_name = "dashboard/_event_timeline.html"
    permission_required = "chats.view_chat"
    model = Chat
    context_object_name = "chat"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["events"] = latest_events(self.object)
        return context
