"""Pages of forms (bot page, chat edit page): each POST saves one form through a service; an invalid one re-renders
the whole page with that form's errors inline (status 400)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from chats.models import Membership
from chats.services import membership_add, membership_update
from dashboard.forms_bots import MembershipForm
from dashboard.forms_common import add_service_errors, bound_or, make_read_only, without_help
from dashboard.views.access import RoleRequiredMixin

# A sub-view's `action` (from its URL) and the permission verb it needs.
ACTION_VERBS = {"add": "add", "edit": "change", "delete": "delete"}


@dataclass(frozen=True)
class Row:
    """One saved item of a section: its form (read-only for viewers) and where it posts."""

    form: forms.BaseForm
    form_id: str
    action: str
    title: str = ""
    link: str = ""
    note: str = ""


@dataclass(frozen=True)
class Section:
    """A list of items edited on a page (stances, holdings, memories, memberships) and the form adding one."""

    key: str
    title: str
    noun: str
    rows: list[Row]
    add_form: forms.BaseForm | None
    add_action: str
    can_change: bool
    can_delete: bool
    empty: str = "None yet."
    add_label: str = ""


class EditPageMixin(RoleRequiredMixin):
    """Saving one form of a page, and deleting one item, with a message and a redirect back to the page."""

    kwargs: dict[str, Any]
    page_url_name: str  # the page's URL name; it takes the page object's pk

    def page_url(self) -> str:
        return reverse(self.page_url_name, args=[self.kwargs["pk"]])

    def render_page(self, bound: dict[str, forms.BaseForm]) -> HttpResponse:
        """The whole page again, with the bound (invalid) forms in place of fresh ones."""
        page: Any = self  # a DetailView: get_object, get_context_data, render_to_response
        page.object = page.get_object()
        response: HttpResponse = page.render_to_response(page.get_context_data(bound=bound))
        return response

    def save_or_rerender(
        self, form: forms.BaseForm, save: Callable[[], object], *, success: str, anchor: str, unique_field: str = ""
    ) -> HttpResponse:
        """Save a valid form through its service; otherwise show the page again with the form's errors."""
        if form.is_valid():
            try:
                save()
            except ValidationError as error:
                add_service_errors(form, error, unique_field=unique_field or None)
            else:
                messages.success(self.request, success)
                return redirect(f"{self.page_url()}#{anchor}")
        response = self.render_page({form.prefix or "": form})
        response.status_code = 400
        return response

    def delete_and_redirect(self, instance: Model, *, success: str, anchor: str) -> HttpResponse:
        instance.delete()
        messages.success(self.request, success)
        return redirect(f"{self.page_url()}#{anchor}")

    def sub_permission(self, app_model: str) -> tuple[str]:
        """The permission this sub-view's action needs on a model (`app.model`)."""
        app_label, model_name = app_model.split(".")
        return (f"{app_label}.{ACTION_VERBS[self.kwargs['action']]}_{model_name}",)


def membership_note(membership: Membership) -> str:
    """Why a membership does not post: off by the operator or the engine, or paused by Telegram."""
    if not membership.is_enabled:
        return f"off: {membership.disabled_reason or 'disabled'}"
    return f"paused: {membership.paused_reason}" if membership.is_paused else ""


def membership_section(
    view: RoleRequiredMixin,
    memberships: list[Membership],
    *,
    bound: dict[str, forms.BaseForm],
    add_form: Callable[[], forms.BaseForm],
    urls: Callable[[Membership | None], str],
    show: str,
) -> Section:
    """The memberships of a bot (show="chat") or of a chat (show="bot"), editable by operators."""
    rows = []
    for membership in memberships:
        prefix = f"membership-{membership.pk}"
        form = bound.get(prefix) or without_help(MembershipForm(instance=membership, prefix=prefix))
        form.fields["talkativeness"].widget.attrs["placeholder"] = f"{membership.bot.talkativeness:g} (bot's own)"
        if not view.user_may("chats.change_membership"):
            make_read_only(form)
        other = membership.chat if show == "chat" else membership.bot
        link = reverse("dashboard:chat-live" if show == "chat" else "dashboard:bot-detail", args=[other.pk])
        note = membership_note(membership)
        rows.append(Row(form, f"{prefix}-form", urls(membership), title=str(other), link=link, note=note))
    can_add = view.user_may("chats.add_membership")
    return Section(
        key="memberships",
        title="Chats" if show == "chat" else "Bots",
        noun="membership",
        rows=rows,
        add_form=bound_or(bound, "membership", add_form) if can_add else None,
        add_action=urls(None),
        can_change=view.user_may("chats.change_membership"),
        can_delete=view.user_may("chats.delete_membership"),
        empty="Not in any chat yet." if show == "chat" else "No bots in this chat yet.",
        add_label="Add to a chat" if show == "chat" else "Add a bot",
    )


def membership_post(view: EditPageMixin, *, scope: dict[str, Any], add_form_class: type[forms.ModelForm]) -> Any:
    """Add, change or delete a membership of the page's bot or chat (`scope` is {"bot": …} or {"chat": …})."""
    action = view.kwargs["action"]
    request = view.request
    if action == "add":
        form = add_form_class(request.POST, instance=Membership(**scope), prefix="membership")
        return view.save_or_rerender(
            form,
            lambda: membership_add(**scope, **form.cleaned_data),
            success="Membership added.",
            anchor="memberships",
        )
    membership = get_object_or_404(Membership.objects.select_related("bot", "chat"), pk=view.kwargs["item"], **scope)
    if action == "delete":
        return view.delete_and_redirect(membership, success=f"Removed {membership}.", anchor="memberships")
    form = MembershipForm(request.POST, instance=membership, prefix=f"membership-{membership.pk}")
    return view.save_or_rerender(
        form,
        lambda: membership_update(membership=membership, **form.cleaned_data),
        success=f"Saved {membership}.",
        anchor="memberships",
    )
