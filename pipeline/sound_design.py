"""Genre sound design: what each genre does to each stem beyond the role's plain mixing chain.

The mixer (pipeline.mixing) stages, EQs and compresses every stem by its role; this module adds the
character a genre's listeners know, in four places of a stem's path:

    role chain ─► genre plugins ─► sends ─► colour stages ─► staging ─► post stages ─► stem
                  (pedalboard)   (reverb,   (numpy: gated    (level)   (tight kick; the score's
                                  delay)     verb, swells,              automation lanes; tape: "mix"
                                             vinyl, chorus)             lanes and tape are the same on
                                                                        every stem, as if on the bus)

Per genre, in short: lo-fi = tape wow and flutter on everything, vinyl on the pad, low-passed and
saturated keys, soft-clipped sampler drums; synthwave = gated reverb on the snare, chorus and analog
drift on pads and leads, a big plate; trap = a saturated 808 kept mono with a clean sub under it, crisp
hats; house, techno, trance = pumping under the kick (their filter sweeps over builds and breakdowns
are the composer's automation lanes, played here for every genre that writes them);
four-on-the-floor genres = a kick whose boom stops before the next kick (a pulsing, not droning, low end);
drum & bass = parallel-compressed breaks and a reese (chorused, saturated, wide above 160 Hz);
rock and metal = an amp and a cabinet impulse response on the guitars; jazz = a room, a warm upright,
gentle compression; cinematic = widened ensembles in a long hall; ambient = long blooming reverbs and
slow drift; everything else = a send reverb and a tempo-synced delay that suit it.

Everything random is drawn from the job's seed: the same seed gives the same audio.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pedalboard import (
    Bitcrush,
    Chorus,
    Compressor,
    Delay,
    Distortion,
    Gain,
    HighpassFilter,
    HighShelfFilter,
    LowpassFilter,
    Mix,
    PeakFilter,
    Pedalboard,
    Resample,
    Reverb,
)

from pipeline.fx.automation import (
    LaneGrid,
    gain_lanes,
    hit_gate,
    lanes_for,
    lowpass_lanes,
    swell,
    tighten_low_end,
)
from pipeline.fx.cabinet import amp_and_cabinet
from pipeline.fx.modulation import ANALOG_DRIFT, TAPE_FLUTTER, TAPE_WOW, modulated_delay, wobble_delay
from pipeline.fx.texture import vinyl_noise
from pipeline.score import Arrangement, Automation

Stage = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Space:
    """A genre's reverb: send scale (× the role's send level), Freeverb room size and damping."""

    scale: float
    room: float
    damping: float = 0.5


GENRE_SPACE: dict[str, Space] = {
    "lofi-hiphop": Space(1.0, 0.5, 0.7),  # a small, dark room
    "hip-hop": Space(0.7, 0.45, 0.6),
    "trap": Space(0.7, 0.55, 0.5),
    "synthwave": Space(1.5, 0.86, 0.3),  # a big, bright plate
    "house": Space(0.9, 0.6, 0.5),
    "techno": Space(0.8, 0.7, 0.55),
    "trance": Space(1.5, 0.85, 0.4),
    "drum-and-bass": Space(0.7, 0.6, 0.5),
    "dubstep": Space(0.8, 0.65, 0.5),
    "ambient": Space(2.2, 0.95, 0.3),
    "cinematic": Space(1.9, 0.92, 0.35),  # a long hall
    "classical": Space(1.6, 0.85, 0.45),
    "pop": Space(1.0, 0.65, 0.5),
    "rock": Space(0.8, 0.55, 0.5),
    "metal": Space(0.5, 0.45, 0.5),
    "jazz": Space(1.1, 0.4, 0.7),  # a club room: short and warm
    "blues": Space(0.9, 0.5, 0.6),
    "funk": Space(0.6, 0.4, 0.6),
    "disco": Space(1.1, 0.65, 0.45),
    "reggae": Space(1.1, 0.6, 0.5),
    "latin": Space(0.9, 0.55, 0.55),
    "folk": Space(1.0, 0.55, 0.6),
    "country": Space(0.9, 0.5, 0.55),
    "rnb": Space(1.1, 0.6, 0.55),
    "chiptune": Space(0.6, 0.4, 0.3),
}
DEFAULT_SPACE = Space(1.0, 0.6)

# Tempo-synced delay: (fraction of a beat, feedback, mix) and the roles that get it.
GENRE_DELAY: dict[str, tuple[float, float, float]] = {
    "lofi-hiphop": (0.5, 0.25, 0.1),
    "hip-hop": (0.5, 0.2, 0.08),
    "trap": (0.5, 0.25, 0.1),
    "synthwave": (0.75, 0.35, 0.18),  # dotted eighth
    "house": (0.75, 0.3, 0.12),
    "techno": (0.75, 0.35, 0.12),
    "trance": (0.75, 0.4, 0.2),
    "drum-and-bass": (0.75, 0.3, 0.1),
    "dubstep": (0.5, 0.3, 0.12),
    "ambient": (1.5, 0.45, 0.25),
    "cinematic": (1.0, 0.3, 0.12),
    "pop": (0.75, 0.25, 0.1),
    "rock": (0.25, 0.15, 0.08),  # slapback-ish
    "blues": (0.25, 0.15, 0.1),
    "country": (0.2, 0.1, 0.12),  # slapback
    "disco": (0.5, 0.2, 0.08),
    "reggae": (0.75, 0.45, 0.2),  # dub echo
    "latin": (0.75, 0.25, 0.08),
    "rnb": (0.5, 0.3, 0.12),
    "chiptune": (0.25, 0.3, 0.15),
}
DELAY_ROLES: dict[str, tuple[str, ...]] = {"reggae": ("lead", "harmony"), "ambient": ("lead", "pad")}

# Sidechain pumping: depth in dB, the roles that pump, and how many beats the gain takes to recover.
GENRE_PUMP: dict[str, tuple[float, tuple[str, ...], float]] = {
    "house": (8.0, ("bass", "pad", "harmony"), 0.7),
    "techno": (9.0, ("bass", "pad", "harmony"), 0.6),
    "trance": (7.0, ("bass", "pad", "harmony"), 0.7),
    "synthwave": (6.0, ("bass", "pad"), 0.5),
    "drum-and-bass": (4.0, ("bass", "pad"), 0.45),
    "dubstep": (5.0, ("bass", "pad"), 0.45),
    "pop": (3.0, ("bass", "pad"), 0.45),
    "disco": (3.0, ("pad",), 0.45),
}
DEFAULT_PUMP = (3.0, ("bass", "pad"), 0.45)

TAPE_GENRES = frozenset({"lofi-hiphop"})
SNARE_KEYS = frozenset({38, 39, 40})
GATED_REVERB_GENRES = frozenset({"synthwave"})
KICK_KEYS = frozenset({35, 36})
# Four-on-the-floor genres: the kick's boom is cut before the next kick (a tight, pulsing low end).
TIGHT_KICK_GENRES = frozenset({"synthwave", "house", "techno", "trance", "disco", "pop"})
DRIVEN_GUITAR_PROGRAMS = frozenset({29, 30})  # GM "Overdriven Guitar", "Distortion Guitar" (0-based)
# Genres whose buses stay soft: gentler compression in every role chain.
SOFT_DYNAMICS = frozenset({"jazz", "classical", "folk", "ambient", "cinematic"})
VINYL_ROLES = ("pad", "harmony", "lead", "bass", "drums")  # the first present carries the record's noise


@dataclass(frozen=True)
class JobFx:
    """What sound design needs from the whole job, computed once before the stems are shared out."""

    genre: str
    seed: int
    n_samples: int
    sample_rate: int
    beat_s: float
    roles: tuple[str, ...]
    snare_hits: tuple[int, ...] = ()
    kick_hits: tuple[int, ...] = ()
    tape_delay: np.ndarray | None = None  # the tape's wobble, the same on every stem
    # The score's automation lanes (filter opens, breakdowns, fades) and where its beats fall in samples.
    lanes: tuple[Automation, ...] = ()
    grid: LaneGrid | None = None

    @property
    def vinyl_role(self) -> str | None:
        return next((r for r in VINYL_ROLES if r in self.roles), None) if self.genre in TAPE_GENRES else None

    def role_seed(self, role: str, purpose: str) -> int:
        """A seed for one random source of one stem: stable across runs (crc32, not hash())."""
        return (self.seed * 1_000_003 + zlib.crc32(f"{role}:{purpose}".encode())) % (2**32)


def prepare(
    genre: str, arrangement: Arrangement | None, seed: int, roles: list[str], n_samples: int, sample_rate: int
) -> JobFx:
    beat_s = arrangement.seconds_per_beat if arrangement is not None else 0.5
    snares = _drum_hits(arrangement, SNARE_KEYS, sample_rate) if genre in GATED_REVERB_GENRES else ()
    kicks = _drum_hits(arrangement, KICK_KEYS, sample_rate) if genre in TIGHT_KICK_GENRES else ()
    lanes: tuple[Automation, ...] = ()
    grid = None
    if arrangement is not None and arrangement.automation:
        lanes = tuple(arrangement.automation)
        end_beat = arrangement.bars * arrangement.quarter_beats_per_bar
        grid = LaneGrid(arrangement.seconds_per_beat, end_beat, n_samples, sample_rate)
    tape = None
    if genre in TAPE_GENRES:
        tape = wobble_delay(n_samples, sample_rate, (TAPE_WOW, TAPE_FLUTTER), seed=seed)
    return JobFx(genre, seed, n_samples, sample_rate, beat_s, tuple(roles), snares, kicks, tape, lanes, grid)


def _drum_hits(arrangement: Arrangement | None, keys: frozenset[int], sample_rate: int) -> tuple[int, ...]:
    """Sample positions of the drum notes on `keys` played at least mezzo-forte (ghost notes left out)."""
    if arrangement is None:
        return ()
    return tuple(
        round(arrangement.beat_to_seconds(n.start) * sample_rate)
        for t in arrangement.tracks
        if t.is_drum or t.role == "drums"
        for n in t.notes
        if n.pitch in keys and n.velocity >= 60
    )


def space_for(genre: str) -> Space:
    return GENRE_SPACE.get(genre, DEFAULT_SPACE)


def pump_for(genre: str, has_sidechain_style: bool) -> tuple[float, tuple[str, ...], float]:
    """(depth dB, roles, release in beats); depth 0 where the genre does not pump."""
    if genre in GENRE_PUMP:
        return GENRE_PUMP[genre]
    return DEFAULT_PUMP if has_sidechain_style else (0.0, (), 0.45)


def compression_softness(genre: str) -> float:
    """Multiplier on every chain compressor's ratio above 1 (soft genres compress less)."""
    return 0.5 if genre in SOFT_DYNAMICS else 1.0


def width_for(genre: str, role: str, default: float) -> tuple[float, float | None]:
    """(stereo width, mono-below Hz or None for the mixer's default)."""
    if genre == "drum-and-bass" and role == "bass":
        return 1.1, 160.0  # the reese: wide above 160 Hz, a mono sub below
    if genre in ("cinematic", "classical") and role in ("harmony", "pad"):
        return 1.6, None  # the ensemble spread across the stage
    if genre == "ambient" and role in ("pad", "harmony"):
        return 1.6, None
    return default, None


# ----------------------------------------------------------------------------------------------
# Pedalboard plugins per genre and role (after the role's EQ and compression, before the sends).


def genre_plugins(genre: str, role: str, instrument: str, program: int | None, sample_rate: int) -> list[Any]:
    if genre == "lofi-hiphop":
        return _lofi(role)
    if genre == "trap" and role == "bass":
        # The 808: the clean sub, plus only the harmonics a saturated copy adds (its own fundamental
        # high-passed away), so small speakers hear the 808 while the sub stays clean; then held in.
        grit = Pedalboard([Distortion(drive_db=20.0), HighpassFilter(100.0), HighpassFilter(100.0), Gain(gain_db=-12.0),
                           LowpassFilter(3500.0)])
        held = Compressor(threshold_db=-12.0, ratio=4.0, attack_ms=3.0, release_ms=120.0)
        return [Mix([Gain(gain_db=0.0), grit]), held]
    if genre == "trap" and role == "drums":
        return [HighShelfFilter(cutoff_frequency_hz=7000.0, gain_db=3.0)]  # crisp hats
    if genre == "drum-and-bass" and role == "drums":
        # Tight breaks: parallel ("New York") compression, the squashed copy under the dry one.
        return [HighpassFilter(40.0), Mix([Gain(gain_db=0.0), Pedalboard([
            Compressor(threshold_db=-32.0, ratio=10.0, attack_ms=0.5, release_ms=60.0), Gain(gain_db=-4.0)])])]
    if genre == "drum-and-bass" and role == "bass":
        return [Distortion(drive_db=9.0), Gain(gain_db=-6.0), LowpassFilter(cutoff_frequency_hz=3200.0)]
    if genre in ("dubstep", "metal") and role == "bass":
        return [Distortion(drive_db=8.0), Gain(gain_db=-5.0), LowpassFilter(cutoff_frequency_hz=5000.0)]
    if genre == "rock" and role == "bass":
        return [Distortion(drive_db=4.0), Gain(gain_db=-2.5)]
    if instrument == "electric-guitar" and genre in ("rock", "metal", "blues", "funk", "country"):
        return _guitar_amp(genre, program, sample_rate)
    if genre == "jazz" and role == "bass":
        # A warm upright: the wooden body (~200 Hz) up, the finger noise and string zing down.
        return [PeakFilter(cutoff_frequency_hz=200.0, gain_db=2.0, q=0.9), LowpassFilter(cutoff_frequency_hz=2400.0)]
    if genre == "chiptune":
        return [Bitcrush(bit_depth=9.0), LowpassFilter(cutoff_frequency_hz=12000.0)]
    return []


def _lofi(role: str) -> list[Any]:
    """A sampler and a cassette: less top, bit of grit; the drums soft-clipped through a 26 kHz sampler."""
    if role == "drums":
        return [Resample(target_sample_rate=26_000.0, quality=Resample.Quality.ZeroOrderHold),
                Distortion(drive_db=9.0), Gain(gain_db=-6.0), LowpassFilter(cutoff_frequency_hz=9000.0)]
    if role == "bass":
        return [LowpassFilter(cutoff_frequency_hz=2500.0), Distortion(drive_db=3.0), Gain(gain_db=-2.0)]
    # Keys and pads: dull and warm, a little saturated, like a sample from an old record.
    cutoff = {"lead": 5000.0, "harmony": 4200.0, "pad": 3500.0}.get(role, 4500.0)
    return [LowpassFilter(cutoff_frequency_hz=cutoff), LowpassFilter(cutoff_frequency_hz=cutoff * 1.6),
            Distortion(drive_db=6.0), Gain(gain_db=-4.0)]


def _guitar_amp(genre: str, program: int | None, sample_rate: int) -> list[Any]:
    drive = {"metal": 20.0, "rock": 12.0, "blues": 6.0, "funk": 0.0, "country": 0.0}[genre]
    if program in DRIVEN_GUITAR_PROGRAMS:
        drive *= 0.3  # the SoundFont already overdrives it: more only adds fizz (and fake thirds)
    return amp_and_cabinet(drive, scoop_db=-5.0 if genre == "metal" else -1.0, sample_rate=sample_rate)


def send_plugins(genre: str, role: str, wet: float | None, beat_s: float) -> list[Any]:
    """The stem's sends: the genre's reverb at `wet` (None: none) and its tempo-synced delay."""
    plugins: list[Any] = []
    delay = GENRE_DELAY.get(genre)
    if delay is not None and role in DELAY_ROLES.get(genre, ("lead",)):
        fraction, feedback, mix = delay
        plugins.append(Delay(delay_seconds=min(2.0, fraction * beat_s), feedback=feedback, mix=mix))
    if wet is not None and not (role == "drums" and genre in GATED_REVERB_GENRES):  # its room is the gated one
        space = space_for(genre)
        plugins.append(Reverb(room_size=space.room, damping=space.damping, wet_level=min(0.6, wet), dry_level=1.0))
    return plugins


# ----------------------------------------------------------------------------------------------
# numpy stages: colour (before the stem's level is staged) and bus (after it, the same on every stem).


# Stereo chorus per genre and role: (rate Hz, depth, centre delay ms, mix[, only above Hz]). Each channel gets its own
# chorus at a different rate and delay, so the copies decorrelate and the stem gains a side signal:
# pedalboard's Chorus alone modulates both channels alike and widens nothing.
STEREO_CHORUS: dict[tuple[str, str], tuple[float, ...]] = {
    ("synthwave", "pad"): (0.45, 0.3, 8.0, 0.45),
    ("synthwave", "lead"): (0.8, 0.25, 8.0, 0.35),
    ("drum-and-bass", "bass"): (0.35, 0.6, 6.0, 0.5, 150.0),  # the reese's detuned width, above a mono sub
    ("cinematic", "harmony"): (0.25, 0.15, 12.0, 0.35),  # ensemble: one section becomes many players
    ("cinematic", "pad"): (0.25, 0.15, 12.0, 0.35),
    ("classical", "harmony"): (0.25, 0.12, 12.0, 0.3),
    ("classical", "pad"): (0.25, 0.12, 12.0, 0.3),
    ("ambient", "pad"): (0.09, 0.5, 10.0, 0.5),
    ("ambient", "harmony"): (0.09, 0.5, 10.0, 0.5),
    ("ambient", "lead"): (0.12, 0.4, 10.0, 0.4),
}


def stereo_chorus(
    audio: np.ndarray,
    sample_rate: int,
    rate_hz: float,
    depth: float,
    centre_ms: float,
    mix: float,
    above_hz: float = 0.0,
) -> np.ndarray:
    """Each channel through its own chorus; with `above_hz`, only what lies above it (the sub stays mono)."""
    high = Pedalboard([HighpassFilter(above_hz), HighpassFilter(above_hz)])(audio, sample_rate) if above_hz else audio
    left = Chorus(rate_hz=rate_hz, depth=depth, centre_delay_ms=centre_ms, mix=mix)(high[:1], sample_rate)
    right = Chorus(rate_hz=rate_hz * 1.31, depth=depth, centre_delay_ms=centre_ms * 1.17, mix=mix)
    right = right(high[1:2], sample_rate)
    chorused = np.concatenate([left, right])
    return (chorused + (audio - high) if above_hz else chorused).astype(np.float32, copy=False)


def colour_stages(fx: JobFx, role: str, level_db: float) -> list[Stage]:
    stages: list[Stage] = []
    chorus = STEREO_CHORUS.get((fx.genre, role))
    if chorus is not None:
        stages.append(lambda audio: stereo_chorus(audio, fx.sample_rate, *chorus))
    if role == "drums" and fx.snare_hits:
        hold = min(0.32, 0.6 * fx.beat_s)
        stages.append(lambda audio: gated_reverb(audio, fx.sample_rate, fx.snare_hits, hold_s=hold))
    if fx.genre == "synthwave" and role == "lead":  # (the pad's stereo chorus already moves it)
        drift = wobble_delay(fx.n_samples, fx.sample_rate, (ANALOG_DRIFT,), seed=fx.role_seed(role, "drift"))
        stages.append(lambda audio: modulated_delay(audio, drift))
    if fx.genre == "ambient" and role in ("pad", "harmony"):
        stages.append(lambda audio: blooming_reverb(audio, fx.sample_rate, fx.role_seed(role, "swell")))
    if role == fx.vinyl_role:
        # The record's noise sits ~34 dB under the stem it rides on (~40 dB under the mix).
        noise_db = level_db - 34.0
        seed = fx.role_seed("", "vinyl")
        stages.append(lambda audio: audio + vinyl_noise(audio.shape[-1], fx.sample_rate, seed, noise_db))
    return stages


def post_stages(fx: JobFx, role: str) -> list[Stage]:
    """Stages after the stem's level is set: the kick's tightening (which must not move the drums'
    level: staged without their boom, the hats would come up), then the score's automation lanes for
    this stem (its own, and the "mix" lanes applied alike to every stem, so they act as if on the bus
    while the stems still sum to the mix), then the tape, the same on every stem."""
    stages: list[Stage] = []
    if role == "drums" and fx.kick_hits:
        hold, fall = 0.35 * fx.beat_s, 0.2 * fx.beat_s
        stages.append(lambda audio: tighten_low_end(audio, fx.sample_rate, fx.kick_hits, hold, fall))
    grid = fx.grid
    if grid is not None:
        lowpass, gain = lanes_for(fx.lanes, role, "lowpass"), lanes_for(fx.lanes, role, "gain")
        if lowpass:
            stages.append(lambda audio: lowpass_lanes(audio, lowpass, grid))
        if gain:
            stages.append(lambda audio: gain_lanes(audio, gain, grid))
    if fx.tape_delay is not None:
        tape = fx.tape_delay
        stages.append(lambda audio: modulated_delay(audio, tape))
    return stages


def gated_reverb(
    drums: np.ndarray, sample_rate: int, hits: tuple[int, ...], hold_s: float, level: float = 0.6
) -> np.ndarray:
    """The drums plus a big room that opens at each snare hit and is cut off `hold_s` later.

    The room is fed above 250 Hz (the kick would only make it boom) and shut by a gate keyed from
    the score's snare notes, not from the audio, so it closes at exactly the same place every bar.
    Only the stretches the gate lets through are reverberated (each from its hit, the room reset):
    what rang before a hit is shut out by the gate anyway, and the rest of the track costs nothing.
    """
    room = Pedalboard([HighpassFilter(250.0), HighpassFilter(250.0),
                       Reverb(room_size=0.82, damping=0.35, wet_level=1.0, dry_level=0.0, width=1.0)])
    n = drums.shape[-1]
    gate = hit_gate((0,), int(hold_s * sample_rate) + int(0.012 * sample_rate) + 1, sample_rate, open_s=hold_s)
    out = drums.copy()
    for hit in hits:
        if not 0 <= hit < n:
            continue
        end = min(n, hit + gate.size)
        room.reset()
        wet = room(drums[:, hit:end], sample_rate)
        out[:, hit:end] += wet * (gate[: end - hit] * np.float32(level))
    return out


def blooming_reverb(audio: np.ndarray, sample_rate: int, seed: int) -> np.ndarray:
    """A near-infinite room (freeze-like) whose return swells and recedes over 10–30 s."""
    room = Reverb(room_size=0.985, damping=0.25, wet_level=1.0, dry_level=0.0, width=1.0)
    wet = room(audio, sample_rate)
    return (audio + wet * (np.float32(0.45) * swell(audio.shape[-1], sample_rate, seed))).astype(np.float32, copy=False)
