"""What the local checks find in a model's output: one table of reasons, read by postprocess, generation, metrics."""

from __future__ import annotations

from enum import StrEnum


class OutputAction(StrEnum):
    """What was done about a finding (the `action` label of `piyasa_llm_output_problems_total`)."""

    CLEANED = "cleaned"  # fixed locally, no call
    REPAIRED = "repaired"  # one more call asked for a corrected message (or, for a duplicate, another one)
    SKIPPED = "skipped"  # the turn was skipped for it


class OutputReason(StrEnum):
    """Why a model's output was changed, repaired or skipped (a bounded metric label)."""

    REASONING = "reasoning"  # a <think>…</think> block before the answer
    REASONING_CUT = "reasoning_cut"  # a <think> block that never closed: no answer came
    MARKDOWN = "markdown"  # bold, bullets, headers, code fences, links
    QUOTES = "quotes"  # quotes around the whole message
    LABEL = "label"  # a speaker label or an echoed history stamp before the message
    SCRIPTED = "scripted"  # several speakers written in one answer
    DISCLAIMER = "disclaimer"  # a disclaimer, refusal or unprompted "as an AI" sentence among real content
    REFUSAL = "refusal"  # nothing but a refusal, disclaimer or "as an AI" remark: out of character
    DENIAL = "denial"  # denies being a bot or an AI (the bots are visible bot accounts)
    TRUNCATED = "truncated"  # the last sentence cut at max_tokens
    EMOJI = "emoji"  # an emoji flood
    LANGUAGE = "language"  # not in the language asked
    PRICE = "price"  # a price far from the bot's own levels for a symbol it holds
    EMPTY = "empty"  # nothing left to send
    COMPLIANCE = "compliance"  # a profit promise or a direct buy/sell order
    STANCE = "stance"  # contradicts one of the bot's stances
    DUPLICATE = "duplicate"  # repeats a recent message of the chat
    LEAK = "leak"  # repeats the hidden prompt: instructions, the bio, memories or the holdings list
    LINK = "link"  # a URL, t.me link or domain while links are not allowed
    MENTION = "mention"  # an @handle of someone not in the chat


# What a repair call tells the model about each finding it asks to fix (English, then Turkish, like the
# compliance and stance problems). The others are cleaned locally, or skipped, and never reach a repair.
PROBLEMS: dict[OutputReason, str] = {
    OutputReason.SCRIPTED: "writes other people's lines; write only your own message (başkalarının mesajlarını yazma)",
    OutputReason.REFUSAL: "steps out of character with a refusal or disclaimer (karakter dışı ret ya da uyarı)",
    OutputReason.DENIAL: "denies being a bot; you are one, say so honestly if asked (bot olduğunu inkâr etme)",
    OutputReason.TRUNCATED: "was cut off mid-sentence; write it shorter (yarıda kesildi, daha kısa yaz)",
    OutputReason.LANGUAGE: "is in the wrong language (yanlış dilde)",
    OutputReason.PRICE: "invents a price far from your own levels (seviyelerinden uzak bir fiyat uyduruyor)",
    OutputReason.EMPTY: "empty message",
}
