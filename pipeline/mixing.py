"""Mixing: per-stem gain staging, EQ, compression, sidechain, width and sends, with pedalboard.

    result = mix_stems(stems, arrangement, spec, MixParams())
    result.mix            # (2, n) float32, == sum(result.stems.values())
    result.stems["bass"]  # the processed bass stem

Every effect, sends included, lives inside its own stem's chain, so the processed stems sum
exactly to the mix (a producer who drags the stems into a DAW hears the same balance). Each
genre's character (tape, gated reverb, amp and cabinet, sweeps, pumping…) comes from
pipeline.sound_design; the mix's tonal balance is then measured against the genre's target and
corrected inside every stem (pipeline.tonal_balance). Bus glue belongs to the master. Chains are
built per call: pedalboard plugins keep internal state.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from pedalboard import (
    Compressor,
    HighpassFilter,
    HighShelfFilter,
    LowpassFilter,
    PeakFilter,
    Pedalboard,
)
from scipy.signal import butter, sosfilt, sosfiltfilt

from pipeline import sound_design
from pipeline.parallel import share_work, shared_stem
from pipeline.score import Arrangement
from pipeline.spec import Spec
from pipeline.spool import StemSpool
from pipeline.styles import Style, in_role_order, style_for
from pipeline.tonal_balance import (
    correction_chain,
    deviation_db,
    fit_correction,
    gains_for_stem,
    stem_band_levels_db,
    target_for,
)

# Active RMS (dBFS) each role is staged to before the master: the balance of a typical mix.
ROLE_LEVEL_DB: dict[str, float] = {
    "drums": -18.0,
    "bass": -19.0,
    "harmony": -23.0,
    "pad": -27.0,
    "lead": -21.0,
    "fx": -30.0,
}
GENRE_LEVEL_TWEAK_DB: dict[str, dict[str, float]] = {
    # Hip-hop is mixed around the beat: kick and snare up front, the sample (keys, pad, lead) under them.
    "lofi-hiphop": {"drums": 2.5, "lead": -2.0, "pad": 1.0},
    "hip-hop": {"drums": 3.5, "bass": 1.0, "lead": -2.0, "pad": -1.0},
    "trap": {"drums": 1.0, "bass": 2.0},
    "techno": {"drums": 2.0, "lead": -2.0},
    "house": {"drums": 1.0},
    "drum-and-bass": {"drums": 2.0, "bass": 1.0},
    "dubstep": {"bass": 2.0},
    "ambient": {"pad": 4.0, "harmony": 2.0, "lead": -1.0},
    "cinematic": {"harmony": 2.0, "pad": 2.0, "drums": -2.0},
    "classical": {"harmony": 2.0, "pad": 1.0},
    "rock": {"harmony": 2.0, "drums": 1.0},
    "metal": {"harmony": 3.0, "drums": 1.0},
    "jazz": {"drums": -3.0, "bass": 1.0},
    "blues": {"drums": -1.0},
    "folk": {"drums": -3.0, "harmony": 2.0},
    "country": {"drums": -2.0, "harmony": 1.0},
    "reggae": {"bass": 2.0},
}
# Reverb send (wet level) per role, scaled per genre (pipeline.sound_design.GENRE_SPACE).
ROLE_REVERB: dict[str, float] = {"drums": 0.05, "bass": 0.0, "harmony": 0.12, "pad": 0.22, "lead": 0.15, "fx": 0.3}
# Stereo width (side gain) per role; low frequencies are kept mono in every role.
ROLE_WIDTH: dict[str, float] = {"drums": 1.0, "bass": 0.0, "harmony": 1.2, "pad": 1.4, "lead": 0.9, "fx": 1.3}
KICK_KEYS = frozenset({35, 36})
END_FADE_S = 0.05
MAX_STAGING_GAIN_DB = 36.0


@dataclass(frozen=True)
class MixParams:
    trim_db: float = 0.0  # applied to every stem (and so to the mix)
    # Per-stem offsets in dB, keyed by role or instrument slug. They are merged over spec.mix
    # (a key given in both counts once, with this value), so passing dict(spec.mix) is harmless.
    stem_offsets_db: dict[str, float] = field(default_factory=dict)
    width_scale: float = 1.0  # multiplies every role's stereo width
    mono_below_hz: float = 120.0  # side signal high-passed here: low end stays mono
    reverb_scale: float = 1.0
    sidechain_depth_db: float | None = None  # None: the genre's default (0 where it has none)
    workers: int = 2  # processes sharing the stems (this one and forked children)
    tonal_balance: bool = True  # fit the mix to its genre's tonal target (pipeline.tonal_balance)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MixParams:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def with_changes(self, **changes: Any) -> MixParams:
        return replace(self, **changes)


@dataclass(frozen=True)
class MixResult:
    mix: np.ndarray  # (2, n) float32: the sum of `stems`
    stems: Mapping[str, np.ndarray]  # role -> processed (2, n) float32 (a StemSpool when spooled)
    gains_db: dict[str, float]  # role -> total gain applied (staging + offsets + trim)
    notes: list[str] = field(default_factory=list)  # e.g. an offset that matched no stem


@dataclass(frozen=True)
class StemContext:
    """What a chain builder needs to know about the stem it is building for."""

    role: str
    instrument: str
    genre: str
    style: Style
    tempo_bpm: float
    sample_rate: int
    reverb_scale: float = 1.0
    program: int | None = None  # the GM program that rendered it, when known

    @property
    def beat_s(self) -> float:
        return 60.0 / self.tempo_bpm

    def compressor(self, threshold_db: float, ratio: float, attack_ms: float, release_ms: float) -> Compressor:
        """The role's compressor, gentler in genres whose bus stays soft (jazz, classical…)."""
        soft = sound_design.compression_softness(self.genre)
        return Compressor(
            threshold_db=threshold_db + 6.0 * (1.0 - soft),
            ratio=1.0 + (ratio - 1.0) * soft,
            attack_ms=attack_ms,
            release_ms=release_ms,
        )


# ----------------------------------------------------------------------------------------------
# Chains: one function per role, each returning a fresh Pedalboard: the role's EQ and compression,
# then the genre's sound design (pipeline.sound_design), then the sends.


def drums_chain(ctx: StemContext) -> Pedalboard:
    plugins = [
        *_highpass(30.0, poles=2),
        PeakFilter(cutoff_frequency_hz=400.0, gain_db=-2.0, q=1.0),  # boxiness
        ctx.compressor(threshold_db=-20.0, ratio=3.0, attack_ms=8.0, release_ms=120.0),
    ]
    return _finish(ctx, plugins)


def bass_chain(ctx: StemContext) -> Pedalboard:
    plugins = [
        *_highpass(32.0, poles=2),
        LowpassFilter(cutoff_frequency_hz=6000.0),
        PeakFilter(cutoff_frequency_hz=250.0, gain_db=-2.0, q=0.9),  # mud, where it masks the kick's body
        ctx.compressor(threshold_db=-22.0, ratio=4.0, attack_ms=15.0, release_ms=150.0),
    ]
    return _finish(ctx, plugins)


def harmony_chain(ctx: StemContext) -> Pedalboard:
    plugins = [
        *_highpass(140.0),
        PeakFilter(cutoff_frequency_hz=350.0, gain_db=-2.0, q=0.8),
        ctx.compressor(threshold_db=-24.0, ratio=2.0, attack_ms=20.0, release_ms=200.0),
    ]
    return _finish(ctx, plugins)


def pad_chain(ctx: StemContext) -> Pedalboard:
    plugins = [
        *_highpass(200.0),
        PeakFilter(cutoff_frequency_hz=2500.0, gain_db=-2.0, q=0.7),  # leave the lead's presence free
        LowpassFilter(cutoff_frequency_hz=12000.0),
        ctx.compressor(threshold_db=-26.0, ratio=2.0, attack_ms=40.0, release_ms=300.0),
    ]
    return _finish(ctx, plugins)


def lead_chain(ctx: StemContext) -> Pedalboard:
    plugins = [
        *_highpass(160.0),
        PeakFilter(cutoff_frequency_hz=3000.0, gain_db=2.0, q=0.8),  # presence
        HighShelfFilter(cutoff_frequency_hz=9000.0, gain_db=1.0),
        ctx.compressor(threshold_db=-22.0, ratio=3.0, attack_ms=10.0, release_ms=150.0),
    ]
    return _finish(ctx, plugins)


def fx_chain(ctx: StemContext) -> Pedalboard:
    plugins = [*_highpass(250.0), ctx.compressor(threshold_db=-24.0, ratio=2.0, attack_ms=10.0, release_ms=150.0)]
    return _finish(ctx, plugins)


CHAINS: dict[str, Callable[[StemContext], Pedalboard]] = {
    "drums": drums_chain,
    "bass": bass_chain,
    "harmony": harmony_chain,
    "pad": pad_chain,
    "lead": lead_chain,
    "fx": fx_chain,
}


def _highpass(cutoff_hz: float, poles: int = 3) -> list[Any]:
    """pedalboard's HighpassFilter is first order (6 dB/octave): stack it for an 18 dB/octave cut."""
    return [HighpassFilter(cutoff_frequency_hz=cutoff_hz) for _ in range(poles)]


def _finish(ctx: StemContext, plugins: list[Any]) -> Pedalboard:
    """The role's plugins, then the genre's sound design for this stem, then its sends."""
    design = sound_design.genre_plugins(ctx.genre, ctx.role, ctx.instrument, ctx.program, ctx.sample_rate)
    wet = _reverb_wet(ctx.role, ctx.genre, ctx.reverb_scale)
    return Pedalboard(plugins + design + sound_design.send_plugins(ctx.genre, ctx.role, wet, ctx.beat_s))


def _reverb_wet(role: str, genre: str, reverb_scale: float) -> float | None:
    """The role's reverb send level in this genre; None when it is too little to hear (no reverb:
    one costs ~0.25 s per 2-minute stem)."""
    wet = ROLE_REVERB.get(role, 0.1) * sound_design.space_for(genre).scale * reverb_scale
    return wet if wet >= 0.06 else None


# ----------------------------------------------------------------------------------------------


def mix_stems(
    stems: Mapping[str, np.ndarray],
    arrangement: Arrangement | None,
    spec: Spec,
    params: MixParams = MixParams(),
    *,
    sample_rate: int = 44100,
    spool: Path | None = None,
) -> MixResult:
    """Process every stem through its role's chain and sum them into the mix.

    Two passes over the stems, each shared between processes: the chains (staging, EQ, dynamics,
    sound design, sends, width, pumping), then the tonal-balance EQ fitted to the mix the first
    pass made (pipeline.tonal_balance), skipped when the mix is already close to its target.
    `spool`: a folder to keep the processed stems in (a StemSpool: mapped only while read), so
    mastering, QA and export do not hold them all in memory; without it they are in memory.
    """
    if not stems:
        raise ValueError("mix_stems needs at least one stem")
    genre = arrangement.genre if arrangement is not None else spec.genre
    style = style_for(genre)
    tempo = arrangement.tempo_bpm if arrangement is not None else (spec.tempo_bpm.value if spec.tempo_bpm else 120.0)
    instruments = _instrument_by_role(arrangement, style)
    # Only a SoundFont voice has a GM program that says how it sounds (an overdriven guitar patch is
    # given less amp drive); the kit voices (kit_*, tr808, tr909) and synths are drums or synths whose
    # program number is a placeholder, and nothing in sound design reads a drum stem's program.
    programs = {t.role: t.program for t in arrangement.tracks if t.voice == "sf2"} if arrangement is not None else {}
    offsets, notes = resolve_offsets({**spec.mix, **params.stem_offsets_db}, instruments, stems.keys())
    length = max(s.shape[-1] for s in stems.values())
    ordered = in_role_order(stems)
    store = StemSpool(spool, length) if spool is not None else None
    seed = arrangement.seed if arrangement is not None else (spec.seed.value if spec.seed is not None else 0)
    fx = sound_design.prepare(genre, arrangement, seed, ordered, length, sample_rate)
    depth, pumped, release_beats = sound_design.pump_for(genre, style.sidechain)
    duck = _sidechain(stems, ordered, arrangement, pumped, depth, release_beats, params, length, sample_rate)

    outputs = {role: store.allocate(role) if store is not None else shared_stem(length) for role in ordered}
    end_fade = np.linspace(1.0, 0.0, min(length, int(END_FADE_S * sample_rate)), dtype=np.float32)
    # Heaviest chains first (a reverb costs more than the rest of a chain), so neither core idles
    # at the end; the gains come back through shared memory too.
    queue = sorted(ordered, key=lambda role: -_chain_cost(role, genre, params))
    gains = np.frombuffer(mmap.mmap(-1, 8 * len(queue)), dtype=np.float64)

    def process(index: int) -> None:
        """Runs here or in a forked child (see pipeline.parallel): pure numpy and pedalboard, no locks."""
        role = queue[index]
        ctx = StemContext(
            role, instruments.get(role, role), genre, style, tempo, sample_rate, params.reverb_scale, programs.get(role)
        )
        dry = _fit(stems[role], length)
        target = ROLE_LEVEL_DB.get(role, -24.0) + GENRE_LEVEL_TWEAK_DB.get(genre, {}).get(role, 0.0)
        pre = _staging_gain_db(dry, sample_rate, target)
        chain = CHAINS.get(role, fx_chain)(ctx)
        wet = chain(dry * np.float32(10 ** (pre / 20)), sample_rate).astype(np.float32, copy=False)
        del dry  # (a mapping of the spooled dry stem: let it go as soon as possible)
        for stage in sound_design.colour_stages(fx, role, target):
            wet = stage(wet)
        # Re-stage after the chain (drive and compression change the level), then the offsets.
        post = _staging_gain_db(wet, sample_rate, target)
        final_db = post + offsets.get(role, 0.0) + params.trim_db
        wet *= np.float32(10 ** (final_db / 20))  # in place: a 2-minute stem is 42 MB per copy
        width, mono_below = sound_design.width_for(genre, role, ROLE_WIDTH.get(role, 1.0))
        wet = apply_width(wet, sample_rate, width * params.width_scale, mono_below or params.mono_below_hz)
        for stage in sound_design.post_stages(fx, role):
            wet = stage(wet)
        if duck is not None and role in pumped:
            wet *= duck
        wet[:, -end_fade.size :] *= end_fade  # reverb and delay tails ring past the dry stem's own fade
        outputs[role][:] = wet
        gains[index] = pre + final_db

    # pedalboard holds the GIL while it processes: a second core needs a forked child, not a thread.
    timeout = 60.0 + 2.0 * length / sample_rate
    share_work(len(queue), process, workers=params.workers, timeout=timeout)
    gains_db = {role: round(float(gains[i]), 2) for i, role in enumerate(queue)}
    # The balance is judged without the asked offsets: "louder bass" must not be EQ'd back out.
    unscaled = [10 ** (-offsets.get(role, 0.0) / 20) for role in ordered]
    balance = (
        _tonal_balance(outputs, ordered, unscaled, genre, sample_rate, params.workers, timeout)
        if params.tonal_balance
        else None
    )
    if balance:
        notes.append(balance)
    out_stems: Mapping[str, np.ndarray]
    if store is not None:
        del outputs  # writable mappings: readers map the files afresh
        store.order(ordered)
        out_stems = store
    else:
        out_stems = outputs
    return MixResult(
        mix=_sum(out_stems, ordered, length), stems=out_stems, gains_db={r: gains_db[r] for r in ordered}, notes=notes
    )


def _sum(stems: Mapping[str, np.ndarray], ordered: list[str], length: int) -> np.ndarray:
    """Summed in a fixed order, whatever order the processes finished in: float sums are order-sensitive."""
    mix = np.zeros((2, length), np.float32)
    for role in ordered:
        mix += stems[role]
    return mix


def _tonal_balance(
    outputs: dict[str, np.ndarray],
    ordered: list[str],
    scales: list[float],
    genre: str,
    sample_rate: int,
    workers: int,
    timeout: float,
) -> str | None:
    """Fit the correction EQ to the mix of `outputs` and apply it to every stem in place; a note of what it did."""
    target = target_for(genre).levels_db()
    measured, per_stem = stem_band_levels_db([outputs[role] for role in ordered], sample_rate, scales)
    gains = fit_correction(measured, target, sample_rate)
    if correction_chain(gains, sample_rate) is None:
        return None
    chains = [gains_for_stem(gains, levels, measured, sample_rate) for levels in per_stem]

    def correct(index: int) -> None:
        chain = correction_chain(chains[index], sample_rate)  # a fresh one per stem: filters keep state
        if chain is not None:
            stem = outputs[ordered[index]]
            stem[:] = chain(stem, sample_rate)

    share_work(len(ordered), correct, workers=workers, timeout=timeout)
    before = deviation_db(measured, target)
    weights = np.abs(before) < 15.0
    return (
        f"tonal balance: {', '.join(f'{k} {v:+.1f} dB' for k, v in gains.items())} "
        f"(mix was {float(np.sqrt(np.mean(before[weights] ** 2))):.1f} dB RMS off the {genre} target)"
    )


def _sidechain(
    stems: Mapping[str, np.ndarray],
    roles: list[str],
    arrangement: Arrangement | None,
    pumped: tuple[str, ...],
    depth: float,
    release_beats: float,
    params: MixParams,
    length: int,
    sample_rate: int,
) -> np.ndarray | None:
    """The pumping curve for the roles that duck under the kick, or None where nothing pumps."""
    if params.sidechain_depth_db is not None:
        depth = params.sidechain_depth_db
        pumped = pumped or sound_design.DEFAULT_PUMP[1]
    if depth <= 0 or not any(r in roles for r in pumped):
        return None
    drums = stems["drums"] if "drums" in stems and not _kick_onsets(arrangement, length, sample_rate) else None
    return ducking_gain(
        length, sample_rate, depth, arrangement=arrangement, drum_stem=drums, release_beats=release_beats
    )


def _chain_cost(role: str, genre: str, params: MixParams) -> float:
    """Relative cost of a role's chain: a reverb or delay weighs as much as several filters."""
    cost = 1.0
    if _reverb_wet(role, genre, params.reverb_scale) is not None:
        cost += 4.0
    if role in sound_design.DELAY_ROLES.get(genre, ("lead",)) and genre in sound_design.GENRE_DELAY:
        cost += 1.5
    return cost


def resolve_offsets(
    requested: dict[str, float], instruments: dict[str, str], roles: Any
) -> tuple[dict[str, float], list[str]]:
    """Offsets keyed by role: role names are used as they are; instrument slugs map to the role playing them."""
    roles = set(roles)
    by_instrument = {inst: role for role, inst in instruments.items()}
    offsets: dict[str, float] = {}
    notes: list[str] = []
    for key, db in requested.items():
        role = key if key in roles else by_instrument.get(key)
        if role is None or role not in roles:
            notes.append(f"mix offset for {key!r} ignored: no stem plays it")
            continue
        offsets[role] = offsets.get(role, 0.0) + float(db)
    return offsets, notes


def ducking_gain(
    length: int,
    sample_rate: int,
    depth_db: float,
    *,
    arrangement: Arrangement | None = None,
    drum_stem: np.ndarray | None = None,
    release_beats: float = 0.45,
) -> np.ndarray | None:
    """Gain curve (n,) that dips `depth_db` at each kick and recovers over `release_beats`.

    Kick times come from the drum track's kick notes; without them, from the drum stem's
    low band (below 150 Hz), whose envelope drives the dip like a sidechain compressor would.
    """
    floor = 10 ** (-depth_db / 20)
    beat_s = arrangement.seconds_per_beat if arrangement is not None else 0.5
    kicks = _kick_onsets(arrangement, length, sample_rate)
    if kicks:
        attack = int(0.004 * sample_rate)
        tau = release_beats * beat_s / 2.5
        t = np.arange(int(tau * 5 * sample_rate)) / sample_rate
        # The dip starts `attack` samples early so it is in place when the kick lands.
        kernel = np.concatenate([np.linspace(0.0, 1.0, attack, endpoint=False), np.exp(-t / tau)]).astype(np.float32)
        amount = np.zeros(length, np.float32)
        for start, strength in kicks:  # a few hundred kicks: slices, not a full-length convolution
            begin = start - attack
            lo, hi = max(0, begin), min(length, begin + kernel.size)
            if lo < hi:
                np.maximum(amount[lo:hi], strength * kernel[lo - begin : hi - begin], out=amount[lo:hi])
    elif drum_stem is not None and np.max(np.abs(drum_stem)) > 1e-6:
        amount = _low_band_envelope(drum_stem, sample_rate, beat_s * release_beats / 2.5)[:length]
        amount = np.pad(amount, (0, length - amount.size))
    else:
        return None
    return (1.0 - (1.0 - floor) * amount).astype(np.float32)


def _kick_onsets(arrangement: Arrangement | None, length: int, sample_rate: int) -> list[tuple[int, float]]:
    """(sample, strength 0..1) of every kick note in the drum track; [] without one."""
    if arrangement is None:
        return []
    drums = next((t for t in arrangement.tracks if t.is_drum or t.role == "drums"), None)
    if drums is None:
        return []
    onsets = []
    for note in drums.notes:
        if note.pitch in KICK_KEYS:
            start = round(arrangement.beat_to_seconds(note.start) * sample_rate)
            if 0 <= start < length:
                onsets.append((start, min(1.0, note.velocity / 100.0)))
    return onsets


def _low_band_envelope(drum_stem: np.ndarray, sample_rate: int, release_s: float) -> np.ndarray:
    mono = np.asarray(drum_stem, dtype=np.float64).mean(axis=0) if np.ndim(drum_stem) == 2 else np.asarray(drum_stem)
    low = np.abs(sosfilt(butter(4, 150.0, "low", fs=sample_rate, output="sos"), mono))
    # Peak follower with exponential release: the release is a one-pole low-pass of the rectified band.
    smooth = sosfiltfilt(butter(1, 1.0 / (2 * np.pi * release_s), "low", fs=sample_rate, output="sos"), low)
    peak = np.percentile(smooth, 99.5)
    return np.clip(smooth / peak, 0.0, 1.0) if peak > 0 else np.zeros_like(smooth)


def apply_width(stem: np.ndarray, sample_rate: int, width: float, mono_below_hz: float) -> np.ndarray:
    """Mid/side: side x width, and the side high-passed so the low end stays mono. Works in place."""
    if stem.shape[0] != 2 or (width == 1.0 and mono_below_hz <= 0):
        return stem
    mid = 0.5 * (stem[0] + stem[1])
    if width <= 0.0:
        stem[0] = mid
        stem[1] = mid
        return stem
    side = (0.5 * width) * (stem[0] - stem[1])
    if mono_below_hz > 0:
        side = HighpassFilter(cutoff_frequency_hz=mono_below_hz)(side[np.newaxis, :], sample_rate)[0]
    np.add(mid, side, out=stem[0])
    np.subtract(mid, side, out=stem[1])
    return stem


def _staging_gain_db(stem: np.ndarray, sample_rate: int, target_db: float) -> float:
    """Gain that brings the stem's active RMS (its playing parts, not its rests) to target_db."""
    level = active_rms_db(stem, sample_rate)
    if level is None:
        return 0.0
    return float(np.clip(target_db - level, -MAX_STAGING_GAIN_DB, MAX_STAGING_GAIN_DB))


def active_rms_db(stem: np.ndarray, sample_rate: int) -> float | None:
    """RMS in dBFS over the 100 ms windows within 40 dB of the loudest; None for silence."""
    # Every 4th sample: the level of 100 ms windows, at a quarter of the cost.
    window = int(0.1 * sample_rate) // 4
    mono_power = (np.asarray(stem, dtype=np.float32)[:, ::4] ** 2).mean(axis=0)
    n = (mono_power.size // window) * window
    if n == 0:
        return None
    powers = mono_power[:n].reshape(-1, window).mean(axis=1)
    loudest = powers.max()
    if loudest < 1e-12:
        return None
    active = powers[powers >= loudest * 1e-4]
    return float(10 * np.log10(active.mean()))


def _fit(stem: np.ndarray, length: int) -> np.ndarray:
    stem = np.asarray(stem, dtype=np.float32)
    if stem.ndim == 1:
        stem = np.stack([stem, stem])
    if stem.shape[1] < length:
        stem = np.pad(stem, ((0, 0), (0, length - stem.shape[1])))
    return np.ascontiguousarray(stem[:, :length])


def _instrument_by_role(arrangement: Arrangement | None, style: Style) -> dict[str, str]:
    if arrangement is not None and arrangement.tracks:
        return {t.role: t.instrument for t in arrangement.tracks}
    return dict(style.band)
