from __future__ import annotations

from django.core.exceptions import ValidationError
from django.test import SimpleTestCase

from bots.schemas import validate_with
from engine.runtime_settings import (
    OVERRIDABLE,
    SPEC_BY_KEY,
    SPECS,
    ChatOverrides,
    RuntimeConfig,
    parse_setting,
)

PRODUCT_DEFAULTS = {
    "simulation_active": False,
    "scale_factor": 1.0,
    "max_msgs_per_min": 6,
    "bot_hourly_msg_limit": {"min": 6, "max": 12},
    "reply_probability": 0.65,
    "reply_to_bots_probability": 0.5,
    "mention_probability": 0.35,
    "short_reaction_probability": 0.12,
    "message_length_profile": {"short": 0.55, "medium": 0.35, "long": 0.10},
    "typing_enabled": True,
    "prime_hours_boost": True,
    "prime_hours": ["09:30-12:00", "14:00-18:00"],
    "persona_refresh_interval": 8,
    "persona_refresh_minutes": 30,
    "news_trigger_enabled": True,
    "news_trigger_probability": 0.5,
    "consistency_guard_enabled": True,
    "dedup_enabled": True,
    "dedup_window_hours": 12,
    "batch_processing_enabled": True,
    "batch_size": 5,
    "compliance_guard_enabled": True,
    "output_links_allowed": False,
    "stance_evolution_enabled": True,
    "abuse_limits": {
        "member_replies": 3,
        "member_window_s": 600,
        "chat_replies_per_min": 6,
        "bot_replies_per_min": 6,
        "chat_llm_share": 0.5,
        "request_max_tokens": 3000,
        "message_max_chars": 600,
        "name_max_chars": 32,
    },
}


class RuntimeSettingsTests(SimpleTestCase):
    def assert_rejected(self, key: str, value: object, expected: str) -> None:
        with self.assertRaises(ValidationError) as caught:
            parse_setting(key, value)
        self.assertTrue(any(message.startswith(expected) for message in caught.exception.messages))

    def test_it_has_the_product_defaults(self) -> None:
        defaults = {spec.key: spec.default for spec in SPECS}
        for key, value in PRODUCT_DEFAULTS.items():
            self.assertEqual(defaults[key], value, key)
        self.assertIn("news_feed_urls", defaults)
        self.assertEqual(set(defaults["llm_budget"]), {"rpm", "tpm", "daily_tokens"})

    def test_every_default_is_valid_and_documented(self) -> None:
        for spec in SPECS:
            self.assertEqual(parse_setting(spec.key, spec.default), spec.default, spec.key)
            self.assertTrue(spec.help, spec.key)

    def test_it_rejects_an_unknown_key_by_name(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            parse_setting("max_messages_per_minute", 6)
        self.assertIn("'max_messages_per_minute' is not a setting", caught.exception.message_dict["key"][0])

    def test_it_does_not_coerce_strings(self) -> None:
        self.assert_rejected("simulation_active", "true", "simulation_active:")
        self.assert_rejected("max_msgs_per_min", "6", "max_msgs_per_min:")

    def test_it_does_not_truncate_floats_to_ints(self) -> None:
        self.assert_rejected("batch_size", 2.5, "batch_size:")

    def test_it_accepts_ints_for_floats(self) -> None:
        self.assertEqual(parse_setting("scale_factor", 2), 2.0)

    def test_it_checks_ranges(self) -> None:
        self.assert_rejected("reply_probability", 1.2, "reply_probability:")
        self.assert_rejected("scale_factor", 0, "scale_factor:")

    def test_it_checks_compound_values(self) -> None:
        self.assert_rejected("bot_hourly_msg_limit", {"min": 12, "max": 6}, "bot_hourly_msg_limit:")
        self.assert_rejected("message_length_profile", {"short": 0.9, "medium": 0.9, "long": 0}, "message_length")
        self.assert_rejected("llm_budget", {"rpm": 30}, "llm_budget.tpm:")
        self.assert_rejected("prime_hours", ["9-12"], "prime_hours.0:")
        self.assert_rejected("news_feed_urls", ["not a url"], "news_feed_urls.0:")
        self.assert_rejected("abuse_limits", {"member_replies": -1}, "abuse_limits.member_replies:")
        self.assert_rejected("abuse_limits", {"chat_llm_share": 1.5}, "abuse_limits.chat_llm_share:")
        self.assert_rejected("abuse_limits", {"chat_llm_share": 0}, "abuse_limits.chat_llm_share:")
        self.assert_rejected("abuse_limits", {"request_max_tokens": 10}, "abuse_limits.request_max_tokens:")

    def test_abuse_limits_left_out_keep_their_safe_defaults(self) -> None:
        parsed = parse_setting("abuse_limits", {"member_replies": 5})
        assert parsed["member_replies"] == 5
        assert parsed["member_window_s"] == 600
        assert parsed["request_max_tokens"] == 3000


class ChatOverridesTests(SimpleTestCase):
    """A chat's overrides: typed and bounded like the settings, the global values under them."""

    def assert_rejected(self, value: object, expected: str) -> None:
        with self.assertRaises(ValidationError) as caught:
            validate_with(ChatOverrides, "settings_overrides", value)  # the check of Chat.settings_overrides
        self.assertTrue(any(expected in message for message in caught.exception.messages), caught.exception.messages)

    def test_each_override_has_its_settings_type_and_bounds(self) -> None:
        for key in OVERRIDABLE:
            with self.subTest(key=key):
                field = ChatOverrides.model_fields[key]
                assert field.annotation == SPEC_BY_KEY[key].type | None
                parsed = validate_with(ChatOverrides, "settings_overrides", {key: SPEC_BY_KEY[key].default})
                assert parsed.model_dump(mode="json", include={key}) == {key: SPEC_BY_KEY[key].default}

    def test_it_names_the_bad_key_and_what_is_wrong(self) -> None:
        self.assert_rejected({"reply_probability": 1.5}, "settings_overrides.reply_probability: Input should be less")
        self.assert_rejected({"compliance_guard_enabled": "false"}, "settings_overrides.compliance_guard_enabled:")
        self.assert_rejected({"prime_hours": ["9-12"]}, "settings_overrides.prime_hours.0:")
        self.assert_rejected({"news_feed_urls": ["http://10.0.0.1/rss"]}, "settings_overrides.news_feed_urls.0:")
        self.assert_rejected(
            {"message_length_profile": {"short": 1, "medium": 1, "long": 0}},
            "settings_overrides.message_length_profile: shares must add up to 1",
        )
        self.assert_rejected(["reply_probability"], "settings_overrides: Input should be a valid dictionary")

    def test_a_setting_a_chat_may_not_set_is_named_with_those_it_may(self) -> None:
        self.assert_rejected({"llm_budget": {"rpm": 1}}, "llm_budget: not a per-chat setting; a chat may set reply_")

    def test_null_means_the_global_value_and_is_not_stored(self) -> None:
        parsed = ChatOverrides.model_validate({"reply_probability": None, "mention_probability": 1})
        assert parsed.set_values() == {"mention_probability": 1.0}
        assert RuntimeConfig().for_chat({"reply_probability": None}).reply_probability == 0.65

    def test_a_chats_config_is_its_overrides_over_the_global_values(self) -> None:
        base = RuntimeConfig().replace(reply_probability=0.5, batch_size=3)
        own = base.for_chat({"reply_probability": 0, "message_length_profile": {"short": 1, "medium": 0, "long": 0}})
        assert (own.reply_probability, own.batch_size, own.message_length_profile.short) == (0.0, 3, 1.0)
        assert base.for_chat({}) is base

    def test_a_stored_override_that_no_longer_fits_leaves_the_global_values(self) -> None:
        base = RuntimeConfig()
        with self.assertLogs("engine.runtime_settings", "WARNING"):
            assert base.for_chat({"reply_probability": 7}) is base
