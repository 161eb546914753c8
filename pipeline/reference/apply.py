"""What the spec takes from a reference: only what the prompt left unsaid, each value sourced
`reference`, and a plain record of what was taken and what was not, and why.

    spec, use = apply_reference(spec, analysis)
    use.taken      # {"tempo": "96 BPM", "key": "A minor", "form": "intro 4 · verse 8 · …", ...}
    use.not_taken  # {"genre": "ampa does not tell genres by ear; name one in the prompt", ...}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.reference.analysis import MIN_KEY_CONFIDENCE, ReferenceAnalysis
from pipeline.reference.chords import transpose
from pipeline.reference.words import is_reference_note
from pipeline.spec import MAX_DURATION_S, Key, Sourced, Spec

# Reference mastering never goes louder than this: past it the limiter can only crush the mix.
LOUDEST_MATCH_LUFS = -8.0
QUIETEST_MATCH_LUFS = -20.0
MIN_LOOP_FIT = 0.6


@dataclass
class ReferenceUse:
    taken: dict[str, str] = field(default_factory=dict)
    not_taken: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"taken": dict(self.taken), "not_taken": dict(self.not_taken)}

    def notes(self) -> list[str]:
        lines = []
        if self.taken:
            lines.append("from the reference: " + "; ".join(f"{k} {v}" for k, v in self.taken.items()))
        if self.not_taken:
            lines.append("not from the reference: " + "; ".join(f"{k} ({v})" for k, v in self.not_taken.items()))
        return lines


def apply_reference(spec: Spec, ref: ReferenceAnalysis) -> tuple[Spec, ReferenceUse]:
    use = ReferenceUse()
    changes: dict[str, Any] = {}
    # A new version listens to the reference again: its parent's account of it is replaced.
    spec = spec.with_updates(notes=[n for n in spec.notes if not is_reference_note(n)])
    if not ref.usable:
        use.not_taken["anything"] = ref.message
        note = f"the reference adds nothing ({ref.message}); the track is made from the prompt alone"
        return spec.with_updates(notes=[*spec.notes, note]), use

    def said(name: str) -> bool:
        current = getattr(spec, name)
        return current is not None and getattr(current, "source", "default") == "prompt"

    def put(name: str, value: Any, confidence: float) -> None:
        changes[name] = Sourced[Any](
            value=value, source="reference", confidence=round(min(1.0, max(0.1, confidence)), 3)
        ).model_dump()

    grid = ref.grid
    character = ref.character
    tempo = spec.tempo_bpm.value if said("tempo_bpm") else None
    if grid is None or not grid.steady:
        use.not_taken["tempo"] = grid.reason if grid else "no beat"
    elif said("tempo_bpm"):
        use.not_taken["tempo"] = f"the prompt asks for {tempo:g} BPM (the reference is {grid.bpm:.1f})"
    else:
        tempo = round(grid.bpm, 1)
        put("tempo_bpm", tempo, grid.confidence)
        extra = f", {grid.level}" if grid.alternatives else ""
        use.taken["tempo"] = f"{tempo:g} BPM{extra}"

    key = _take_key(spec, ref, use, put, said)
    _take_form(spec, ref, use, changes, put, said, tempo)
    _take_progression(spec, ref, use, put, key)

    if character is not None:
        if said("energy"):
            use.not_taken["energy"] = "the prompt sets it"
        else:
            put("energy", character.energy, 0.6)
            use.taken["energy"] = f"{character.energy:.2f}"
        asked_drums = any(i.value == "drums" and i.source == "prompt" for i in spec.instruments)
        if not character.drums and "drums" not in spec.exclude_values:
            if asked_drums:
                use.not_taken["no drums"] = "the prompt asks for drums"
            else:
                changes["exclude"] = [e.model_dump() for e in spec.exclude] + [
                    Sourced[str](value="drums", source="reference", confidence=0.8).model_dump()
                ]
                use.taken["drums"] = "none (the reference has no drums)"
        tone = {
            "tilt_db_per_octave": character.tilt_db_per_octave,
            "width": character.width,
            "dynamics_lu": character.dynamics_lu,
            "brightness_hz": character.brightness_hz,
        }
        put("tone", tone, 0.7)
        use.taken["character"] = (
            f"brightness {character.brightness_hz:.0f} Hz, width {character.width:.2f}, "
            f"dynamics {character.dynamics_lu:.1f} LU"
        )
        _take_loudness(spec, character.loudness_lufs, use, changes)
    if spec.align_to_reference is not None and spec.align_to_reference.value:
        if grid is not None and grid.steady:
            put("lead_in_s", round(grid.first_downbeat_s, 4), grid.confidence)
            use.taken["downbeat"] = (
                f"bar 1 starts {grid.first_downbeat_s:.2f} s in, on the reference's first downbeat "
                "(mix and stems; song.mid starts at bar 1)"
            )
        else:
            use.not_taken["downbeat"] = "no steady beat to line up with"
    if not spec.genres:
        use.not_taken["genre"] = "ampa does not tell genres by ear; name one in the prompt"
    changes["notes"] = [*spec.notes, *use.notes()]
    return spec.with_updates(**changes), use


def _take_key(spec: Spec, ref: ReferenceAnalysis, use: ReferenceUse, put: Any, said: Any) -> str | None:
    """The key the progression should be in: the prompt's, else the reference's (when clear)."""
    if said("key"):
        if ref.key and Key.parse(spec.key.value) != Key.parse(ref.key):
            use.not_taken["key"] = f"the prompt asks for {spec.key.value} (the reference is in {ref.key})"
        return spec.key.value
    if ref.key is None or ref.key_confidence < MIN_KEY_CONFIDENCE:
        use.not_taken["key"] = f"no clear key (confidence {ref.key_confidence:.2f})"
        return None
    put("key", ref.key, ref.key_confidence)
    use.taken["key"] = ref.key
    return ref.key


def _take_form(
    spec: Spec,
    ref: ReferenceAnalysis,
    use: ReferenceUse,
    changes: dict[str, Any],
    put: Any,
    said: Any,
    tempo: float | None,
) -> None:
    if said("form") or said("sections"):
        use.not_taken["form"] = "the prompt names the sections"
        return
    if not ref.sections or ref.grid is None or not ref.grid.steady:
        use.not_taken["form"] = (
            "no steady beat to count bars by" if ref.grid is None or not ref.grid.steady else "too short"
        )
        return
    if len(ref.sections) < 2:
        use.not_taken["form"] = "one texture throughout: no sections to follow"
        return
    form = [{"name": s.name, "bars": s.bars, "energy": s.energy} for s in ref.sections]
    bar_s = 240.0 / tempo if tempo else ref.grid.bar_s
    total = sum(s["bars"] for s in form)
    if said("duration_s"):
        # The prompt's length wins: the sections keep their proportions, in whole bars.
        wanted = max(len(form), round(spec.duration_s.value / bar_s))
        form = _scaled(form, wanted)
    elif not said("duration_s"):
        seconds = min(MAX_DURATION_S, total * bar_s)
        changes["duration_s"] = Sourced[float](value=round(seconds, 2), source="reference", confidence=0.8).model_dump()
    put("form", form, 0.7)
    use.taken["form"] = " · ".join(f"{s['name']} {s['bars']}" for s in form) + " bars"


def _scaled(form: list[dict[str, Any]], bars: int) -> list[dict[str, Any]]:
    total = sum(s["bars"] for s in form)
    out, used = [], 0
    for i, section in enumerate(form):
        share = bars - used if i == len(form) - 1 else max(1, round(section["bars"] * bars / total))
        share = max(1, min(share, bars - used - (len(form) - i - 1)))
        out.append({**section, "bars": share})
        used += share
    return out


def _take_progression(spec: Spec, ref: ReferenceAnalysis, use: ReferenceUse, put: Any, key: str | None) -> None:
    if spec.progression is not None and spec.progression.source == "prompt":
        use.not_taken["chords"] = "the prompt gives a progression"
        return
    if not ref.loop:
        use.not_taken["chords"] = (
            "no steady beat to find bars by" if not (ref.grid and ref.grid.steady) else "no chords heard"
        )
        return
    if ref.loop_fit < MIN_LOOP_FIT:
        use.not_taken["chords"] = f"no repeating progression (the best loop fits {ref.loop_fit:.0%} of the bars)"
        return
    loop = list(ref.loop)
    shown = " ".join(loop)
    if key and ref.key and Key.parse(key) != Key.parse(ref.key):
        loop = transpose(loop, ref.key, key)
        shown = f"{' '.join(loop)} (the reference's {shown}, moved from {ref.key} to {key})"
    put("progression", loop, min(ref.loop_fit, ref.chord_certainty + 0.3))
    use.taken["chords"] = shown


def _take_loudness(spec: Spec, loudness: float, use: ReferenceUse, changes: dict[str, Any]) -> None:
    if spec.match_reference is None or not spec.match_reference.value:
        return
    if spec.loudness_lufs.source == "prompt":
        use.not_taken["loudness"] = f"the prompt sets {spec.loudness_lufs.value:g} LUFS"
        return
    target = min(LOUDEST_MATCH_LUFS, max(QUIETEST_MATCH_LUFS, loudness))
    changes["loudness_lufs"] = Sourced[float](value=round(target, 1), source="reference", confidence=0.9).model_dump()
    if abs(target - loudness) > 0.05:
        use.taken["loudness"] = (
            f"{target:.1f} LUFS (the reference is {loudness:.1f} LUFS; ampa masters between "
            f"{QUIETEST_MATCH_LUFS:g} and {LOUDEST_MATCH_LUFS:g} LUFS)"
        )
    else:
        use.taken["loudness"] = f"{target:.1f} LUFS"
    use.taken["tonal balance"] = "matched in mastering"
