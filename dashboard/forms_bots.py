"""Bot forms: the bot (write-only token, JSON validated by the persona schemas), its knowledge and memberships."""

from __future__ import annotations

from typing import Any

from django import forms

from bots.admin import BotAdminForm
from bots.models import Bot, Holding, Memory, Stance
from bots.schemas import ActiveHours, Emotion, Persona, Speed, validate_with
from bots.services import bot_create, bot_update
from chats.models import Chat, Membership
from dashboard.forms_common import JSONTextField, json_textarea
from dashboard.forms_persona import PersonaFieldsMixin

BOT_CORE_FIELDS = ("name", "username", "is_enabled", "talkativeness", "llm_model")
BOT_JSON_FIELDS = ("persona", "emotion", "speed", "active_hours")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class BotForm(PersonaFieldsMixin, BotAdminForm):
    """A bot as the API validates it: persona fields or (advanced) JSON through the schemas, token write-only."""

    class Meta(BotAdminForm.Meta):
        fields = (*BOT_CORE_FIELDS, *BOT_JSON_FIELDS)
        field_classes = dict.fromkeys(BOT_JSON_FIELDS, JSONTextField)
        widgets = {name: json_textarea(16) for name in ("persona", "emotion", "speed")}
        widgets["active_hours"] = json_textarea(3)
        labels = {"is_enabled": "Enabled", "llm_model": "LLM model"}

    def __init__(self, *args: Any, json_view: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.has_token:
            del self.fields["clear_token"]
            self.fields["token"].help_text = "Write-only. Without a token the bot posts only in sandbox chats."
        self.add_persona_fields(json_view=json_view)

    def group(self, names: tuple[str, ...]) -> list[forms.BoundField]:
        """The bound fields among names that this form has (viewers' forms have no token fields)."""
        return [self[name] for name in names if name in self.fields]

    @property
    def core_fields(self) -> list[forms.BoundField]:
        return self.group(BOT_CORE_FIELDS)

    @property
    def token_fields(self) -> list[forms.BoundField]:
        return self.group(("token", "clear_token"))

    @property
    def json_fields(self) -> list[forms.BoundField]:
        return self.group(BOT_JSON_FIELDS)

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if username and Bot.objects.exclude(pk=self.instance.pk).filter(username=username).exists():
            raise forms.ValidationError("Another bot already has this username.")
        return username

    def clean_persona(self) -> Any:
        return validate_with(Persona, "persona", self.cleaned_data["persona"]).model_dump(mode="json")

    def clean_emotion(self) -> Any:
        return validate_with(Emotion, "emotion", self.cleaned_data["emotion"]).model_dump(mode="json")

    def clean_speed(self) -> Any:
        return validate_with(Speed, "speed", self.cleaned_data["speed"]).model_dump(mode="json")

    def clean_active_hours(self) -> Any:
        return validate_with(ActiveHours, "active_hours", self.cleaned_data["active_hours"])

    def token_change(self) -> str | None:
        """What to do with the token: None keeps it, "" removes it, anything else replaces it."""
        if self.cleaned_data.get("clear_token"):
            return ""
        return self.cleaned_data.get("token") or None

    def save_through_service(self) -> Bot:
        """Create or update the bot with the bots services (which validate again and encrypt the token)."""
        fields = {name: self.cleaned_data[name] for name in BOT_CORE_FIELDS} | self.persona_documents()
        if self.instance.pk is None:
            return bot_create(token=self.token_change() or "", **fields)
        return bot_update(bot=self.instance, token=self.token_change(), **fields)


class StanceForm(forms.ModelForm):
    """A bot's stance on a topic or symbol."""

    class Meta:
        model = Stance
        fields = ("topic", "polarity", "confidence", "cooldown_until", "stance")
        widgets = {"stance": forms.Textarea(attrs={"rows": 2}), "cooldown_until": DATETIME_INPUT}
        help_texts = {"cooldown_until": "UTC. The bot may not flip before this."}


class HoldingForm(forms.ModelForm):
    """A position in the bot's fictional portfolio."""

    class Meta:
        model = Holding
        fields = ("symbol", "size", "average_price", "note")


class MemoryForm(forms.ModelForm):
    """Something the bot remembers."""

    class Meta:
        model = Memory
        fields = ("kind", "relevance", "content")
        widgets = {"content": forms.Textarea(attrs={"rows": 2})}


class MembershipForm(forms.ModelForm):
    """A bot's place in a chat: enabled, and an optional talkativeness override."""

    class Meta:
        model = Membership
        fields: tuple[str, ...] = ("is_enabled", "talkativeness")
        labels = {"is_enabled": "Enabled"}
        help_texts = {"talkativeness": "0..1; empty uses the bot's own."}


class BotMembershipAddForm(MembershipForm):
    """Add the bot to a chat it is not in yet."""

    class Meta(MembershipForm.Meta):
        fields: tuple[str, ...] = ("chat", "is_enabled", "talkativeness")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chat_field: Any = self.fields["chat"]
        chat_field.queryset = Chat.objects.exclude(memberships__bot=self.instance.bot_id)


class ChatMembershipAddForm(MembershipForm):
    """Add a bot that is not in the chat yet."""

    class Meta(MembershipForm.Meta):
        fields: tuple[str, ...] = ("bot", "is_enabled", "talkativeness")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bot_field: Any = self.fields["bot"]
        bot_field.queryset = Bot.objects.exclude(memberships__chat=self.instance.chat_id)
