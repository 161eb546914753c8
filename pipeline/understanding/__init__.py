"""Prompt understanding: a sentence (or a reply in a thread) -> an unresolved Spec.

    parse_prompt(text) -> ParseResult(spec, is_music_request, ignored)
    apply_reply(previous_spec, reply) -> EditResult(spec, changes, new_prompt, messages, makes_new_version)
    load_parser() -> warms the encoder/tagger once per process (parse_prompt calls it lazily)
"""

from pipeline.understanding.edits import EditResult, apply_reply
from pipeline.understanding.loader import load_parser
from pipeline.understanding.parser import ParseResult, parse_prompt

__all__ = ["EditResult", "ParseResult", "apply_reply", "load_parser", "parse_prompt"]
