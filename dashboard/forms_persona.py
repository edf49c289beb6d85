"""Persona, emotion, speed and active hours as form fields (choices, rows, ranges) instead of JSON textareas.

The fields build the same JSON documents the API takes and validate them with the same schemas; a schema error is
shown at the field that holds the value it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from django import forms
from django.core.exceptions import ValidationError
from pydantic import ValidationError as PydanticValidationError

from bots.schemas import (
    ActiveHours,
    Emotion,
    EmotionTone,
    Length,
    Level,
    Persona,
    PersonaTone,
    Speed,
    adapter,
)
from bots.symbols import asset_class, normalize_symbol, suggested_symbols

SCHEMAS: dict[str, Any] = {"persona": Persona, "emotion": Emotion, "speed": Speed, "active_hours": ActiveHours}
EDIT_AS = "edit_as"  # the hidden field saying which view was submitted: the fields or the JSON (advanced)
SYMBOLS_DATALIST = "known-symbols"


def asks_for_json(query: Any) -> bool:
    """Whether a page's query string asks for the advanced (JSON) view: `?view=json`."""
    return bool(query.get("view") == "json")


def choices(values: Any) -> list[tuple[str, str]]:
    """Select choices from an enum or a Literal's values, labelled by their value."""
    return [(str(value), str(value).replace("_", " ").capitalize()) for value in values]


class RowsWidget(forms.Widget):
    """One input per item plus a blank row to add one; a little JS adds and removes rows (static rows.js)."""

    template_name = "dashboard/widgets/rows.html"

    def __init__(self, *, textarea: bool = False, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.textarea = textarea

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        items = [str(item) for item in value or []] if isinstance(value, list | tuple) else []
        rows = [self.cell(context, item, index) for index, item in enumerate([*items, ""])]
        context["widget"] |= {"rows": rows, "textarea": self.textarea}
        return context

    @staticmethod
    def cell(context: dict[str, Any], value: str, index: int, suffix: str = "") -> dict[str, Any]:
        """One input of a row: its value and attributes (only the first row keeps the label's id)."""
        attrs = dict(context["widget"]["attrs"])
        if "id" in attrs:
            attrs["id"] = f"{attrs['id']}{suffix}" if index == 0 else f"{attrs['id']}{suffix}_{index}"
        return {"value": value, "attrs": attrs}

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return _getlist(data, name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False  # no rows submitted means an empty list


class TimeRangeRowsWidget(RowsWidget):
    """Rows of two time inputs, from and to (HH:MM); a range whose end is before its start runs overnight."""

    template_name = "dashboard/widgets/time_ranges.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        pairs = [_pair(item) for item in value or []] if isinstance(value, list | tuple) else []
        context["widget"]["rows"] = [
            (self.cell(context, start, index), self.cell(context, end, index, "_to"))
            for index, (start, end) in enumerate([*pairs, ("", "")])
        ]
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return list(zip(_getlist(data, f"{name}_from"), _getlist(data, f"{name}_to"), strict=False))


def _getlist(data: Any, name: str) -> list[Any]:
    # A QueryDict holds every row; a plain dict (tests, initial data) holds the list itself.
    return list(data.getlist(name) if hasattr(data, "getlist") else data.get(name, []))


def _pair(item: Any) -> tuple[str, str]:
    if isinstance(item, str):
        start, _, end = item.partition("-")
        return start, end
    return str(item[0]), str(item[1])


class RangeWidget(forms.MultiWidget):
    """Two numbers, lower and upper bound, with the unit after them."""

    template_name = "dashboard/widgets/range.html"

    def __init__(self, unit: str, step: str = "any") -> None:
        super().__init__([forms.NumberInput(attrs={"step": step, "class": "range-bound"}) for _ in range(2)])
        self.unit = unit

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["unit"] = self.unit
        return context

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_0" if id_ else id_

    def decompress(self, value: Any) -> list[Any]:
        return list(value) if value else [None, None]


class ListField(forms.Field):
    """A list of short texts, one per row; blank rows are dropped."""

    def __init__(self, *, textarea: bool = False, widget: forms.Widget | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(widget=widget or RowsWidget(textarea=textarea), **kwargs)

    def to_python(self, value: Any) -> list[str]:
        items = value if isinstance(value, list | tuple) else [value]
        return [str(item).strip() for item in items if item is not None and str(item).strip()]


class SymbolListField(ListField):
    """Market symbols, normalised; one that is malformed or not a market we know is an error naming it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widget.attrs |= {"list": SYMBOLS_DATALIST, "autocapitalize": "characters", "spellcheck": "false"}

    def to_python(self, value: Any) -> list[str]:
        symbols, errors = [], []
        for raw in super().to_python(value):
            try:
                symbol = normalize_symbol(raw)
            except ValueError as error:
                errors.append(str(error))
                continue
            if asset_class(symbol) is None:
                errors.append(
                    f"{raw!r} is not a symbol we know (a BIST share or index, a coin, a currency pair, a metal)"
                )
            symbols.append(symbol)
        if errors:
            raise ValidationError(errors)
        return symbols


class TimeRangesField(ListField):
    """Active hours as HH:MM-HH:MM ranges; no row at all means always active."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=TimeRangeRowsWidget(), **kwargs)

    def to_python(self, value: Any) -> list[str]:
        ranges, errors = [], []
        for number, (start, end) in enumerate((_pair(item) for item in value or []), start=1):
            start, end = start.strip()[:5], end.strip()[:5]  # a browser may send seconds (HH:MM:SS)
            if not start and not end:
                continue
            if not (start and end):
                errors.append(f"row {number}: give both the start and the end")
            ranges.append(f"{start}-{end}")
        if errors:
            raise ValidationError(errors)
        return ranges


class RangeField(forms.MultiValueField):
    """A lower and an upper bound (in a unit); the lower may not be above the upper."""

    def __init__(self, *, unit: str, step: str = "any", **kwargs: Any) -> None:
        bounds = (forms.FloatField(), forms.FloatField())
        super().__init__(bounds, widget=RangeWidget(unit, step), **kwargs)

    def compress(self, data_list: list[Any]) -> list[float]:
        low, high = data_list
        if low > high:
            raise ValidationError(f"the lower bound {low:g} is above the upper bound {high:g}")
        return [low, high]


@dataclass(frozen=True)
class Part:
    """A form field and where its value lives in a JSON document: a key (dotted when nested) or a min/max pair."""

    field: str
    document: str
    keys: tuple[str, ...]  # one key, a (min, max) pair, or () for the whole document (active hours)
    blank: Any = ""  # the document's value for an empty input, when it differs ("" → None for optional keys)

    def read(self, document: Any) -> Any:
        if not self.keys:
            return document
        if len(self.keys) == 2:
            return [document[key] for key in self.keys]
        value = document
        for key in self.keys[0].split("."):
            value = value[key]
        return "" if value is None else value

    def write(self, document: dict[str, Any], value: Any) -> None:
        if len(self.keys) == 2:
            document.update(zip(self.keys, value, strict=True))
            return
        *parents, leaf = self.keys[0].split(".")
        for key in parents:
            document = document.setdefault(key, {})
        document[leaf] = self.blank if value == "" and self.blank != "" else value

    def holds(self, location: tuple[str | int, ...]) -> bool:
        """Whether a schema error at this location (inside the document) is about this field's value."""
        if not self.keys:
            return True
        path = self.keys[0].split(".")
        return location[: len(path)] == tuple(path) or (len(self.keys) == 2 and location[:1] == (self.keys[1],))


def persona_fields() -> dict[str, forms.Field]:
    """The form fields of persona and emotion (choices, texts, lists of rows)."""
    return {
        "persona_tone": forms.ChoiceField(label="Tone", choices=choices(PersonaTone)),
        "persona_risk_profile": forms.ChoiceField(label="Risk profile", choices=choices(get_args(Level))),
        "persona_language": forms.ChoiceField(
            label="Language",
            required=False,
            choices=[("", "The chat's language"), ("tr", "Turkish"), ("en", "English")],
        ),
        "persona_style_length": forms.ChoiceField(label="Message length", choices=choices(get_args(Length))),
        "persona_style_emojis": forms.BooleanField(label="Uses emojis", required=False),
        "persona_watchlist": SymbolListField(label="Watchlist", help_text="Symbols such as BIST:THYAO, BTCUSDT."),
        "persona_never_do": ListField(label="Never does", help_text="One rule per row."),
        "persona_bio": forms.CharField(label="Bio", required=False, widget=forms.Textarea(attrs={"rows": 3})),
        "emotion_tone": forms.ChoiceField(label="Mood", choices=choices(EmotionTone)),
        "emotion_energy": forms.ChoiceField(label="Energy", choices=choices(get_args(Level))),
        "emotion_empathy": forms.FloatField(
            label="Empathy", help_text="0 (cold) to 1 (warm).", widget=forms.NumberInput(attrs={"step": "0.05"})
        ),
        "emotion_signature_emoji": forms.CharField(label="Signature emoji", required=False, max_length=10),
        "emotion_signature_phrases": ListField(label="Signature phrases"),
        "emotion_anecdotes": ListField(label="Anecdotes", textarea=True),
    }


def speed_fields() -> dict[str, forms.Field]:
    """The form fields of speed (delays and typing as ranges with units) and of active hours."""
    return {
        "speed_base_delay_s": forms.FloatField(
            label="Reply delay (s)", help_text="Reading before replying; multiplied, plus the extra, then clamped."
        ),
        "speed_delay_multiplier": forms.FloatField(label="Delay multiplier (×)"),
        "speed_jitter_s": RangeField(label="Random extra delay", unit="s"),
        "speed_delay_s": RangeField(label="Reply delay, clamped to", unit="s"),
        "speed_typing_cps": RangeField(label="Typing speed", unit="characters/s"),
        "speed_typing_s": RangeField(label="Typing time", unit="s"),
        "active_hours_ranges": TimeRangesField(
            label="Active hours", help_text="Local time; 22:00–02:00 runs overnight; no rows means always active."
        ),
    }


PARTS = (
    Part("persona_tone", "persona", ("tone",)),
    Part("persona_risk_profile", "persona", ("risk_profile",)),
    Part("persona_language", "persona", ("language",), blank=None),
    Part("persona_style_length", "persona", ("style.length",)),
    Part("persona_style_emojis", "persona", ("style.emojis",)),
    Part("persona_watchlist", "persona", ("watchlist",)),
    Part("persona_never_do", "persona", ("never_do",)),
    Part("persona_bio", "persona", ("bio",)),
    Part("emotion_tone", "emotion", ("tone",)),
    Part("emotion_energy", "emotion", ("energy",)),
    Part("emotion_empathy", "emotion", ("empathy",)),
    Part("emotion_signature_emoji", "emotion", ("signature_emoji",), blank=None),
    Part("emotion_signature_phrases", "emotion", ("signature_phrases",)),
    Part("emotion_anecdotes", "emotion", ("anecdotes",)),
    Part("speed_base_delay_s", "speed", ("base_delay_s",)),
    Part("speed_delay_multiplier", "speed", ("delay_multiplier",)),
    Part("speed_jitter_s", "speed", ("jitter_s",)),
    Part("speed_delay_s", "speed", ("min_delay_s", "max_delay_s")),
    Part("speed_typing_cps", "speed", ("typing_cps",)),
    Part("speed_typing_s", "speed", ("min_typing_s", "max_typing_s")),
    Part("active_hours_ranges", "active_hours", ()),
)
FIELDSETS = {"persona": "Persona", "emotion": "Emotion", "speed": "Speed", "active_hours": "Active hours"}


def parts_of(documents: tuple[str, ...]) -> list[Part]:
    """The fields of these documents, in the order they are shown."""
    return [part for part in PARTS if part.document in documents]


def field_initial(documents: dict[str, Any]) -> dict[str, Any]:
    """Initial values of the fields from JSON documents (filled in with the schemas' defaults first)."""
    parsed = {name: adapter(SCHEMAS[name]).validate_python(value) for name, value in documents.items()}
    dumped = {name: adapter(SCHEMAS[name]).dump_python(value, mode="json") for name, value in parsed.items()}
    return {part.field: part.read(dumped[part.document]) for part in parts_of(tuple(documents))}


def schema_error_field(part_list: list[Part], location: tuple[str | int, ...], message: str) -> tuple[str, str]:
    """The field a schema error belongs at, and its message (a list item's error says which row)."""
    if not location and ":" in message:  # a whole-model check ("min_delay_s/max_delay_s: lower bound …")
        key, _, message = message.partition(": ")
        location = (key.split("/")[0],)
    for part in part_list:
        if part.holds(location):
            depth = len(part.keys[0].split(".")) if part.keys else 0
            rows = [item for item in location[depth:] if isinstance(item, int)]
            return part.field, f"row {rows[0] + 1}: {message}" if rows else message
    return "", message


class PersonaFieldsMixin(forms.BaseForm):
    """Adds the fields of some JSON documents to a form; the form's `edit_as` says whether fields or JSON are edited.

    In the fields view the JSON textareas are left out and the documents are built from the fields; in the JSON
    (advanced) view the fields are left out and the textareas are validated as before.
    """

    documents: tuple[str, ...] = tuple(SCHEMAS)
    json_view = False

    def add_persona_fields(self, *, json_view: bool) -> None:
        """Call at the end of __init__, once `initial` holds the documents."""
        submitted = self.data.get(self.add_prefix(EDIT_AS)) if self.is_bound else None
        self.json_view = submitted == "json" if self.is_bound else json_view
        if self.json_view:
            return
        documents = {name: self.get_initial_for_field(self.fields.pop(name), name) for name in self.documents}
        fresh = persona_fields() | speed_fields()
        self.fields.update({part.field: fresh[part.field] for part in parts_of(self.documents)})
        self.initial.update(field_initial({name: value for name, value in documents.items() if value is not None}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.built_documents: dict[str, Any] = {}
        if not self.json_view:
            for name in self.documents:
                self._build(name, cleaned)
        return cleaned

    def _build(self, name: str, cleaned: dict[str, Any]) -> None:
        parts = parts_of((name,))
        if any(part.field not in cleaned for part in parts):
            return  # a field of this document is already wrong: its own error says why
        document: Any = {}
        for part in parts:
            if part.keys:
                part.write(document, cleaned[part.field])
            else:
                document = cleaned[part.field]
        try:
            schema = adapter(SCHEMAS[name])
            self.built_documents[name] = schema.dump_python(schema.validate_python(document), mode="json")
        except PydanticValidationError as error:
            for item in error.errors():
                message = item["msg"].removeprefix("Value error, ")
                field, message = schema_error_field(parts, tuple(item["loc"]), message)
                self.add_error(field or None, message if field else f"{name}: {message}")

    @property
    def edit_as(self) -> tuple[str, str]:
        """The name and value of the hidden input saying which view the page shows (and so submits)."""
        return self.add_prefix(EDIT_AS), "json" if self.json_view else "fields"

    def persona_documents(self) -> dict[str, Any]:
        """The validated JSON documents, from whichever view was submitted (call after is_valid)."""
        if self.json_view:
            return {name: self.cleaned_data[name] for name in self.documents}
        return dict(self.built_documents)

    def persona_fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields view in groups (persona, emotion, speed, active hours) for the template."""
        return [
            (FIELDSETS[name], [self[part.field] for part in parts_of((name,)) if part.field in self.fields])
            for name in self.documents
        ]

    @property
    def symbol_suggestions(self) -> tuple[str, ...]:
        return suggested_symbols()
