"""The Spec: the one contract between prompt parsing, generation, the job system and the bots.

Every value carries where it came from (`prompt`, `reference` or `default`) and how sure
the parser is of it, so a bot can show what the user asked for apart from what ampa filled in.
A freshly parsed spec may leave fields unset (None); `pipeline.defaults.resolve` fills every
one of them from the genre and mood before anything is composed.

JSON shape (field names and slugs of the shared vocabulary at the top level):

    {"genres": [{"value": "synthwave", "source": "prompt", "confidence": 0.97}],
     "tempo_bpm": {"value": 140, "source": "prompt", "confidence": 1.0},
     "key": {"value": "A minor", "source": "prompt", "confidence": 1.0},
     "mix": {"drums": -4.0}, "seed": {"value": 1234, "source": "default", ...}, ...}
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.vocabulary import MODES, TIME_SIGNATURES, TONICS, UNRENDERABLE_INSTRUMENTS

Source = Literal["prompt", "reference", "default"]
T = TypeVar("T")

# Hard bounds of what the pipeline can make. Values outside are clamped and the clamp is noted.
MIN_TEMPO_BPM = 40.0
MAX_TEMPO_BPM = 220.0
MIN_DURATION_S = 5.0
MAX_DURATION_S = 600.0
MAX_MIX_OFFSET_DB = 24.0

_ENHARMONIC = {"DB": "C#", "D#": "Eb", "GB": "F#", "G#": "Ab", "A#": "Bb", "CB": "B", "FB": "E", "E#": "F", "B#": "C"}
_MODE_ALIASES = {"aeolian": "minor", "ionian": "major", "maj": "major", "min": "minor", "m": "minor"}


class Sourced(BaseModel, Generic[T]):
    """A value and its provenance."""

    model_config = ConfigDict(frozen=True)

    value: T
    source: Source = "default"
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)


class Key(BaseModel):
    """A tonic and a mode, spelled as the vocabulary spells them ("A minor", "Eb major")."""

    model_config = ConfigDict(frozen=True)

    tonic: str
    mode: str

    @field_validator("tonic")
    @classmethod
    def _known_tonic(cls, tonic: str) -> str:
        if tonic not in TONICS:
            raise ValueError(f"unknown tonic {tonic!r}; use one of {', '.join(TONICS)}")
        return tonic

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, mode: str) -> str:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        return mode

    @classmethod
    def parse(cls, text: str) -> Key:
        """Read "A minor", "F#", "Eb major", "D dorian", "C# min"; respell enharmonics."""
        parts = text.strip().split()
        if not parts or len(parts) > 2:
            raise ValueError(f"not a key: {text!r} (write it like 'A minor' or 'Eb major')")
        tonic = normalise_tonic(parts[0])
        mode = parts[1].lower() if len(parts) == 2 else "major"
        mode = _MODE_ALIASES.get(mode, mode)
        return cls(tonic=tonic, mode=mode)

    @property
    def pitch_class(self) -> int:
        return TONICS.index(self.tonic)

    def __str__(self) -> str:
        return f"{self.tonic} {self.mode}"


def normalise_tonic(raw: str) -> str:
    """'a' -> 'A', 'db' -> 'C#', 'Bb' -> 'Bb', 'F♯' -> 'F#'."""
    text = raw.strip().replace("♯", "#").replace("♭", "b")
    if not text or text[0].upper() not in "ABCDEFG":
        raise ValueError(f"not a tonic: {raw!r}")
    letter, accidental = text[0].upper(), text[1:]
    if accidental in ("", "#"):
        spelled = letter + accidental
    elif accidental.lower() == "b":
        spelled = letter + "B"
    else:
        raise ValueError(f"not a tonic: {raw!r}")
    spelled = _ENHARMONIC.get(spelled.upper(), spelled)
    if spelled.endswith("B") and len(spelled) == 2:
        spelled = spelled[0] + "b"
    if spelled not in TONICS:
        raise ValueError(f"not a tonic: {raw!r}")
    return spelled


class Spec(BaseModel):
    """What to make. Unset (None) fields are filled by `pipeline.defaults.resolve`."""

    model_config = ConfigDict(frozen=True)

    genres: list[Sourced[str]] = Field(default_factory=list)
    moods: list[Sourced[str]] = Field(default_factory=list)
    instruments: list[Sourced[str]] = Field(default_factory=list)
    exclude: list[Sourced[str]] = Field(default_factory=list)
    tempo_bpm: Sourced[float] | None = None
    key: Sourced[str] | None = None
    duration_s: Sourced[float] | None = None
    time_signature: Sourced[str] | None = None
    energy: Sourced[float] | None = None
    sections: Sourced[list[str]] | None = None
    # A song form to follow (e.g. from a reference track): sections in order, each with its length
    # in bars and relative energy 0..1: [{"name": "intro", "bars": 8, "energy": 0.3}, ...].
    form: Sourced[list[dict[str, Any]]] | None = None
    # A chord progression to follow, one chord per bar, looped: ["A:min", "F:maj", "C:maj", "G:maj"].
    progression: Sourced[list[str]] | None = None
    seed: Sourced[int] | None = None
    loudness_lufs: Sourced[float] = Sourced[float](value=-14.0)
    true_peak_dbtp: Sourced[float] = Sourced[float](value=-1.0)
    # Per-stem level offsets in dB, keyed by instrument slug or stem role ("drums": -4).
    mix: dict[str, float] = Field(default_factory=dict)
    backend: str = "symbolic"
    # Plain-language notes for the user: what was ignored, clamped or cannot be done.
    notes: list[str] = Field(default_factory=list)

    @field_validator("key")
    @classmethod
    def _valid_key(cls, key: Sourced[str] | None) -> Sourced[str] | None:
        if key is not None:
            Key.parse(key.value)
        return key

    @field_validator("time_signature")
    @classmethod
    def _valid_meter(cls, meter: Sourced[str] | None) -> Sourced[str] | None:
        if meter is not None and meter.value not in TIME_SIGNATURES:
            raise ValueError(f"unsupported time signature {meter.value!r}; use one of {', '.join(TIME_SIGNATURES)}")
        return meter

    # ----- convenient readers (valid on a resolved spec) -----
    @property
    def genre(self) -> str:
        """The main genre: the first one named."""
        return self.genres[0].value if self.genres else "pop"

    @property
    def mood_values(self) -> list[str]:
        return [m.value for m in self.moods]

    @property
    def instrument_values(self) -> list[str]:
        return [i.value for i in self.instruments]

    @property
    def exclude_values(self) -> list[str]:
        return [e.value for e in self.exclude]

    @property
    def parsed_key(self) -> Key:
        if self.key is None:
            raise ValueError("spec has no key yet: resolve it first")
        return Key.parse(self.key.value)

    @property
    def beats_per_bar(self) -> int:
        return int(self.meter[0])

    @property
    def meter(self) -> tuple[int, int]:
        text = self.time_signature.value if self.time_signature else "4/4"
        num, den = text.split("/")
        return int(num), int(den)

    @property
    def is_resolved(self) -> bool:
        return None not in (self.tempo_bpm, self.key, self.duration_s, self.time_signature, self.energy, self.seed) and bool(
            self.genres
        )

    # ----- (de)serialisation -----
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Spec:
        """Read either the full JSON shape or plain values ("tempo_bpm": 85, "genres": ["jazz"]).

        Plain values are taken as said by the prompt (that is how the edit evaluation set
        writes a previous spec).
        """
        return cls.model_validate({name: _sourced_if_plain(name, value) for name, value in data.items()})

    def plain(self) -> dict[str, Any]:
        """Values only, without provenance: the shape of `previous` in the edit evaluation set."""
        out: dict[str, Any] = {}
        for name, value in self.model_dump(mode="json").items():
            if isinstance(value, dict) and "value" in value and "source" in value:
                out[name] = value["value"]
            elif isinstance(value, list) and value and isinstance(value[0], dict) and "value" in value[0]:
                out[name] = [item["value"] for item in value]
            else:
                out[name] = value
        return out

    def with_updates(self, **changes: Any) -> Spec:
        """A copy with fields replaced, re-validated."""
        data = self.model_dump()
        data.update(changes)
        return Spec.model_validate(data)

    def summary(self) -> str:
        """One line for a status message: 'synthwave · 140 BPM · A minor · 2:00 · dark, atmospheric'."""
        parts: list[str] = []
        if self.genres:
            parts.append(" + ".join(g.value for g in self.genres))
        if self.tempo_bpm is not None:
            parts.append(f"{self.tempo_bpm.value:g} BPM")
        if self.key is not None:
            parts.append(self.key.value)
        if self.time_signature is not None and self.time_signature.value != "4/4":
            parts.append(self.time_signature.value)
        if self.duration_s is not None:
            seconds = int(round(self.duration_s.value))
            parts.append(f"{seconds // 60}:{seconds % 60:02d}")
        if self.moods:
            parts.append(", ".join(m.value for m in self.moods))
        # what the user asked for and ampa can play: not the band it filled in, not vocals
        asked = [i.value for i in self.instruments if i.source != "default" and i.value not in UNRENDERABLE_INSTRUMENTS]
        if asked:
            parts.append("with " + ", ".join(asked))
        if self.exclude:
            parts.append("no " + ", ".join(e.value for e in self.exclude))
        return " · ".join(parts) if parts else "(nothing understood yet)"


_LIST_FIELDS = {"genres", "moods", "instruments", "exclude"}
_SCALAR_FIELDS = {
    "tempo_bpm",
    "key",
    "duration_s",
    "time_signature",
    "energy",
    "sections",
    "form",
    "progression",
    "seed",
    "loudness_lufs",
    "true_peak_dbtp",
}


def _sourced_if_plain(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _LIST_FIELDS:
        return [item if isinstance(item, dict) else {"value": item, "source": "prompt"} for item in value]
    if name in _SCALAR_FIELDS and not (isinstance(value, dict) and "value" in value):
        return {"value": value, "source": "prompt"}
    return value
