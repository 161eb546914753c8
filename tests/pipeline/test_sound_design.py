"""Genre sound design, measured on short synthetic stems: pumping, gated reverb, tape wobble, the
cabinet's roll-off, the score's automation lanes (filter and gain), vinyl, the trap 808, the tonal balance; stems still sum to the
mix and the same seed makes the same audio."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, hilbert, sosfiltfilt

from pipeline.fx.automation import LaneGrid, lowpass_lanes
from pipeline.fx.cabinet import cabinet_ir
from pipeline.fx.modulation import TAPE_FLUTTER, TAPE_WOW, modulated_delay, wobble_delay
from pipeline.mixing import MixParams, mix_stems
from pipeline.score import Arrangement, Automation, Note, Section, Track
from pipeline.tonal_balance import CLUB, band_levels_db, deviation_db, fit_correction
from tests.pipeline.audio_fixtures import SR, harmonic_tone, kick_pattern, make_spec, noise, sine, stereo

BPM = 160.0
BEAT = 60.0 / BPM
SECONDS = 6.0  # four bars
SNARE_BEATS = [1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0]


def _arrangement(
    genre: str,
    *,
    sections: list[Section] | None = None,
    seed: int = 5,
    guitar: bool = False,
    automation: tuple[Automation, ...] = (),
) -> Arrangement:
    beats = int(SECONDS / BEAT)
    drums = [Note(float(b), 0.25, 36, 110) for b in range(beats)]
    drums += [Note(b, 0.25, 38, 100) for b in SNARE_BEATS]
    harmony = "electric-guitar" if guitar else "synth-pad"
    return Arrangement(
        tempo_bpm=BPM, beats_per_bar=4, beat_unit=4, key_tonic_pc=9, mode="minor", bars=beats // 4,
        sections=sections or [], seed=seed, genre=genre, automation=list(automation),
        tracks=[
            Track(role="drums", instrument="drums", program=0, is_drum=True, notes=drums),
            Track(role="bass", instrument="synth-bass", program=38, notes=[Note(0.0, 4.0, 33, 100)]),
            Track(role="harmony", instrument=harmony, program=27, notes=[Note(0.0, 4.0, 57, 100)]),
            Track(role="pad", instrument="synth-pad", program=89, notes=[Note(0.0, 4.0, 57, 100)]),
            Track(role="lead", instrument="synth-lead", program=81, notes=[Note(0.0, 4.0, 69, 100)]),
        ],
    )


def _snares(seconds: float = SECONDS) -> np.ndarray:
    """Short (25 ms) noise bursts on the snare beats: a dry snare with nothing after it."""
    out = np.zeros((2, int(seconds * SR)), np.float32)
    burst = noise(0.025, 0.6, seed=9, pink=False)
    for beat in SNARE_BEATS:
        start = int(beat * BEAT * SR)
        out[:, start : start + burst.shape[1]] += burst * np.linspace(1, 0, burst.shape[1], dtype=np.float32)
    return out


def _spec(genre: str):
    return make_spec(genres=[genre], tempo_bpm=BPM, key="A minor", duration_s=SECONDS)


@pytest.fixture(scope="module")
def stems() -> dict[str, np.ndarray]:
    return {
        "drums": kick_pattern(BPM, SECONDS) * 0.5 + _snares(),
        "bass": stereo(harmonic_tone(33, SECONDS, amplitude=0.3, partials=1)),  # a sine, like an 808
        "harmony": noise(SECONDS, 0.1, seed=4, pink=False),
        "pad": stereo(harmonic_tone(57, SECONDS, amplitude=0.2)),
        "lead": sine(1000.0, SECONDS, 0.3),
    }


_MIXES: dict[str, object] = {}


def _mix(stems, genre: str, **kwargs):
    """One mix per genre and arrangement shape for the whole module (each costs a second or two)."""
    key = genre + repr(sorted(kwargs.items()))
    if key not in _MIXES:
        _MIXES[key] = mix_stems(stems, _arrangement(genre, **kwargs), _spec(genre), MixParams(workers=1))
    return _MIXES[key]


def _rms_db(audio: np.ndarray, start_s: float, end_s: float) -> float:
    part = audio[:, int(start_s * SR) : int(end_s * SR)]
    return 10 * np.log10(np.mean(part.astype(np.float64) ** 2) + 1e-20)


def _band_db(audio: np.ndarray, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(np.asarray(audio, np.float64).reshape(-1, audio.shape[-1]).mean(axis=0))) ** 2
    freqs = np.fft.rfftfreq(audio.shape[-1], 1 / SR)
    return 10 * np.log10(spectrum[(freqs >= low) & (freqs < high)].mean() + 1e-30)


@pytest.mark.parametrize("genre", ["lofi-hiphop", "synthwave", "house", "rock", "trap", "ambient"])
def test_stems_sum_exactly_to_the_mix(stems, genre):
    sections = [Section("intro", 0, 2, 0.3), Section("drop", 2, 2, 1.0)] if genre == "house" else None
    result = _mix(stems, genre, sections=sections, guitar=genre == "rock", automation=LANES if genre == "house" else ())
    total = np.zeros_like(result.mix)
    for role in ("drums", "bass", "harmony", "pad", "lead"):
        total += result.stems[role]
    assert np.array_equal(total, result.mix)
    assert np.all(np.isfinite(result.mix)) and np.max(np.abs(result.mix)) > 0.01


def test_house_pumps_bass_pad_and_harmony_at_the_kick_period(stems):
    result = _mix(stems, "house")
    kicks = [b * BEAT + 0.01 for b in range(2, int(SECONDS / BEAT) - 1)]
    for role in ("bass", "pad", "harmony"):
        stem = result.stems[role]
        at_kick = np.mean([_rms_db(stem, t, t + 0.02) for t in kicks])
        late = np.mean([_rms_db(stem, t + 0.75 * BEAT, t + 0.75 * BEAT + 0.02) for t in kicks])
        assert 5.0 <= late - at_kick <= 12.0, role  # an 8 dB dip, averaged over the 20 ms after the kick
    lead = result.stems["lead"]  # the lead rides on top, unducked
    at_kick = np.mean([_rms_db(lead, t, t + 0.02) for t in kicks])
    late = np.mean([_rms_db(lead, t + 0.75 * BEAT, t + 0.75 * BEAT + 0.02) for t in kicks])
    assert abs(late - at_kick) < 1.5


def test_synthwave_snare_gets_a_reverb_cut_off_by_its_gate(stems):
    # Above 1 kHz, where the snare and its room are and the kick's tail is not.
    gated = _highpass(_mix(stems, "synthwave").stems["drums"])
    dry = _highpass(_mix(stems, "metal").stems["drums"])  # metal: no send on the drums, no gate
    hold = min(0.32, 0.6 * BEAT)
    bloom, cut = [], []
    for beat in SNARE_BEATS[:-1]:
        hit = beat * BEAT
        # The room blooms after the 25 ms snare has died away …
        bloom.append(_rms_db(gated, hit + 0.08, hit + hold - 0.03) - _rms_db(dry, hit + 0.08, hit + hold - 0.03))
        # … and is shut hard: 30 ms after the gate closes it is far below its level just before.
        closes = hit + hold
        cut.append(_rms_db(gated, closes - 0.05, closes - 0.01) - _rms_db(gated, closes + 0.03, closes + 0.07))
    assert np.mean(bloom) >= 10.0
    assert np.mean(cut) >= 15.0


def _highpass(audio: np.ndarray, hz: float = 1000.0) -> np.ndarray:
    return sosfiltfilt(butter(4, hz, "high", fs=SR, output="sos"), np.asarray(audio, np.float64), axis=-1)


def test_tape_wow_and_flutter_bend_pitch_within_the_asked_cents():
    tone = sine(1000.0, 12.0, 0.5)[:1]
    delay = wobble_delay(tone.shape[1], SR, (TAPE_WOW, TAPE_FLUTTER), seed=3)
    bent = modulated_delay(tone, delay)[0]
    phase = np.unwrap(np.angle(hilbert(bent)))
    freq = np.diff(phase) * SR / (2 * np.pi)
    # Pitch as heard: the instantaneous frequency averaged over 10 ms.
    cents = 1200 * np.log2(np.convolve(freq[4000:-4000], np.ones(441) / 441, "valid") / 1000.0)
    limit = TAPE_WOW.cents + TAPE_FLUTTER.cents
    assert 0.5 * limit <= np.max(np.abs(cents)) <= limit + 0.5
    assert abs(np.mean(cents)) < 1.5  # it wobbles around the pitch, it does not detune it


def test_lofi_mix_wobbles_every_stem_alike_and_carries_vinyl(stems):
    result = _mix(stems, "lofi-hiphop")
    # The bass (no send, no echo to beat against) is bent like the tape: its 55 Hz sine, alone.
    band = butter(4, (45.0, 65.0), "bandpass", fs=SR, output="sos")
    partial = sosfiltfilt(band, result.stems["bass"][0].astype(np.float64))
    freq = (np.diff(np.unwrap(np.angle(hilbert(partial)))) * SR / (2 * np.pi))[SR : 5 * SR]  # edges left out
    cents = 1200 * np.log2(np.convolve(freq, np.ones(2205) / 2205, "valid") / 55.0)
    assert 4.0 <= np.ptp(cents) <= 2 * (TAPE_WOW.cents + TAPE_FLUTTER.cents) + 1.0
    # Vinyl rides on the pad: crackle (sharp, sparse clicks) on top of its steady tone.
    pad = result.stems["pad"][0].astype(np.float64)
    high = pad - np.convolve(pad, np.ones(9) / 9, "same")  # the clicks' edges, above the tone
    assert np.max(np.abs(high[SR:-SR])) > 8 * np.median(np.abs(high[SR:-SR]))
    other_seed = mix_stems(stems, _arrangement("lofi-hiphop", seed=6), _spec("lofi-hiphop"), MixParams(workers=1))
    assert not np.array_equal(other_seed.stems["pad"], result.stems["pad"])


def test_cabinet_rolls_off_above_five_kilohertz():
    ir = cabinet_ir(SR)[0]
    response = 20 * np.log10(np.abs(np.fft.rfft(ir, 16384)) + 1e-12)
    freqs = np.fft.rfftfreq(16384, 1 / SR)

    def level(low, high):
        return float(np.mean(response[(freqs >= low) & (freqs < high)]))

    assert level(1000, 3000) - level(7000, 9000) >= 15.0
    assert level(1000, 3000) - level(10000, 14000) >= 30.0
    assert level(1000, 3000) - level(40, 60) >= 6.0  # the closed box's low cut


def test_rock_guitar_goes_through_amp_and_cabinet(stems):
    guitar = _mix(stems, "rock", guitar=True).stems["harmony"]
    clean = _mix(stems, "house").stems["harmony"]  # the same white noise, no amp
    tilt_rock = _band_db(guitar, 1000, 3000) - _band_db(guitar, 8000, 12000)
    tilt_clean = _band_db(clean, 1000, 3000) - _band_db(clean, 8000, 12000)
    assert tilt_rock - tilt_clean >= 15.0


def test_trap_808_is_saturated_and_mono(stems):
    bass = _mix(stems, "trap").stems["bass"]
    plain = _mix(stems, "house").stems["bass"]  # the same bass with no saturation
    assert np.max(np.abs(bass[0] - bass[1])) < 1e-6
    # Saturation adds harmonics above the 55 Hz sine that small speakers can play.
    upper = _band_db(bass, 100, 2000) - _band_db(bass, 50, 60)
    upper_plain = _band_db(plain, 100, 2000) - _band_db(plain, 50, 60)
    assert upper - upper_plain >= 10.0


# A build's filter on the harmony (beats 4..7, 700 Hz opening), a filter on the pad, and the whole
# mix fading 6 dB from beat 8 to the last barline (beat 16): the lanes the composer writes.
LANES = (
    Automation("harmony", "lowpass", 4.0, 7.0, 700.0, 20000.0),
    Automation("pad", "lowpass", 2.0, 5.0, 400.0, 400.0),
    Automation("mix", "gain", 8.0, 16.0, 0.0, -6.0),
)


def _plain_mix(stems, automation=()):
    """A house mix without the tonal-balance pass (which would re-fit its EQ to the changed spectrum)."""
    arrangement = _arrangement("house", automation=automation)
    return mix_stems(stems, arrangement, _spec("house"), MixParams(workers=1, tonal_balance=False))


@pytest.fixture(scope="module")
def laned(stems):
    return _plain_mix(stems), _plain_mix(stems, LANES)


def test_a_lowpass_lane_darkens_its_stem_in_its_span_only(laned):
    plain, moved = laned
    a, b = plain.stems["harmony"], moved.stems["harmony"]
    first, last = int(4 * BEAT * SR), int(7 * BEAT * SR)
    # Outside the span the white-noise harmony is exactly what it was (before the outro's fade).
    assert np.array_equal(a[:, :first], b[:, :first])
    assert np.array_equal(a[:, last : int(8 * BEAT * SR)], b[:, last : int(8 * BEAT * SR)])
    # Its first half beat (700 Hz opening to 1.2 kHz): the 5-10 kHz octave, 2+ octaves up, > 30 dB down.
    early = slice(first + 1024, first + int(0.5 * BEAT * SR))
    assert _band_db(a[:, early], 5000, 10000) - _band_db(b[:, early], 5000, 10000) >= 30.0
    # and the low end, below the cutoff, within 3 dB: a low-pass, not a fade.
    assert abs(_band_db(a[:, early], 100, 400) - _band_db(b[:, early], 100, 400)) <= 3.0
    # Its last beat is nearly open again: the darkening has shrunk to a few dB.
    late = slice(first + int(2.4 * BEAT * SR), last - 2048)
    assert _band_db(a[:, late], 5000, 10000) - _band_db(b[:, late], 5000, 10000) <= 6.0
    # Roles with no lane of their own are untouched before the mix lane starts.
    for role in ("drums", "bass", "lead"):
        assert np.array_equal(plain.stems[role][:, :last], moved.stems[role][:, :last]), role


def test_a_held_lowpass_lane_does_not_click_at_its_edges(laned):
    plain, moved = laned
    a, b = plain.stems["pad"], moved.stems["pad"]
    first, last = int(2 * BEAT * SR), int(5 * BEAT * SR)
    assert np.array_equal(a[:, :first], b[:, :first]) and np.array_equal(a[:, last : int(8 * BEAT * SR)],
                                                                          b[:, last : int(8 * BEAT * SR)])
    # The pad's partials above 400 Hz (its 4th to 6th, 880-1320 Hz) are cut in the span...
    inside = slice(first + 2048, last - 2048)
    assert _band_db(a[:, inside], 800, 1400) - _band_db(b[:, inside], 800, 1400) >= 15.0
    # ...and where the filter comes in and goes out the waveform moves no faster than it does anywhere
    # unfiltered (a click is a jump in the sample-to-sample step).
    steady = np.max(np.abs(np.diff(a[:, :first], axis=1)))
    for edge in (first, last):
        around = b[:, edge - 1024 : edge + 1024]
        assert np.max(np.abs(np.diff(around, axis=1))) <= 1.05 * steady


def test_a_mix_gain_lane_fades_the_outro_by_the_asked_db_and_stems_still_sum(laned):
    plain, moved = laned
    start = int(8 * BEAT * SR)
    assert np.array_equal(plain.mix[:, :start][:, -1000:], moved.mix[:, :start][:, -1000:])

    def drop_db(beat: float) -> float:
        window = slice(int((beat - 0.1) * BEAT * SR), int((beat + 0.1) * BEAT * SR))
        return _rms_db(moved.mix[:, window], 0, 1) - _rms_db(plain.mix[:, window], 0, 1)

    assert drop_db(12.0) == pytest.approx(-3.0, abs=0.1)  # halfway: half the dB
    assert drop_db(15.8) == pytest.approx(-6.0 * 7.8 / 8, abs=0.1)
    # The lane reaches the last barline: it holds -6 dB through the release tail, no jump back up.
    tail = slice(int(16 * BEAT * SR), moved.mix.shape[-1] - int(0.06 * SR))
    if tail.stop - tail.start > 1000:
        ratio = _rms_db(moved.mix[:, tail], 0, 1) - _rms_db(plain.mix[:, tail], 0, 1)
        assert ratio == pytest.approx(-6.0, abs=0.1)
    total = np.zeros_like(moved.mix)
    for role in ("drums", "bass", "harmony", "pad", "lead"):
        total += moved.stems[role]
    assert np.array_equal(total, moved.mix)


def test_lowpass_lanes_bypass_open_stretches_and_take_the_most_closed_of_overlaps():
    audio = noise(2.0, 0.2, seed=3, pink=False)
    grid = LaneGrid(beat_s=0.5, end_beat=4.0, n_samples=audio.shape[-1], sample_rate=SR)
    open_lane = Automation("pad", "lowpass", 0.0, 2.0, 20000.0, 20000.0)
    assert lowpass_lanes(audio, [open_lane], grid) is audio  # fully open: not processed at all
    closed = Automation("pad", "lowpass", 1.0, 3.0, 600.0, 600.0)
    wider = Automation("mix", "lowpass", 1.0, 3.0, 4000.0, 4000.0)
    one, both = lowpass_lanes(audio, [closed], grid), lowpass_lanes(audio, [wider, closed], grid)
    assert np.array_equal(one, both)


def test_tonal_balance_fit_cuts_an_excess_and_ignores_empty_bands():
    target = CLUB.levels_db()
    boomy = target + np.array([6.0, 6.0, 2.0, 0, 0, 0, 0, 0, 0, 0])
    gains = fit_correction(boomy, target)
    assert gains["sub"] <= -3.0 and abs(gains["sub"]) == max(abs(g) for g in gains.values())
    drumless = target + np.array([-40.0, -30.0, 0, 0, 0, 0, 0, 0, 0, 0])  # nothing down there to lift
    assert fit_correction(drumless, target)["sub"] < 1.0


def test_mix_lands_closer_to_its_target_than_the_stems_would(stems):
    boomy = dict(stems, bass=stereo(harmonic_tone(28, SECONDS, amplitude=0.6, partials=2)))
    result = mix_stems(boomy, _arrangement("techno"), _spec("techno"), MixParams(workers=1))
    assert any(note.startswith("tonal balance") for note in result.notes)
    raw = sum(np.asarray(s, np.float32) for s in boomy.values())
    target = CLUB.levels_db()
    before = deviation_db(band_levels_db(raw, SR), target)
    after = deviation_db(band_levels_db(result.mix, SR), target)
    assert np.sqrt(np.mean(after[2:9] ** 2)) < np.sqrt(np.mean(before[2:9] ** 2))


def test_same_seed_same_audio(stems):
    first = _mix(stems, "lofi-hiphop")
    again = mix_stems(stems, _arrangement("lofi-hiphop"), _spec("lofi-hiphop"), MixParams(workers=2))
    assert np.array_equal(first.mix, again.mix)


def test_house_kick_boom_stops_before_the_next_kick():
    boom = {"drums": sine(55.0, SECONDS, 0.5) + sine(3000.0, SECONDS, 0.05)}  # a droning low end, a steady top
    tight = mix_stems(boom, _arrangement("house"), _spec("house"), MixParams(workers=1, tonal_balance=False))
    drums = tight.stems["drums"]
    low = sosfiltfilt(butter(4, 120.0, "low", fs=SR, output="sos"), drums.astype(np.float64), axis=-1)
    kicks = [b * BEAT for b in range(2, int(SECONDS / BEAT) - 1)]
    after = np.mean([_rms_db(low, t + 0.05, t + 0.2 * BEAT) for t in kicks])
    before_next = np.mean([_rms_db(low, t + 0.65 * BEAT, t + 0.95 * BEAT) for t in kicks])
    assert after - before_next >= 20.0
    top = _highpass(drums, 2000.0)  # the hats' register is untouched: no pulse there
    pulse = [_rms_db(top, t + 0.05, t + 0.2 * BEAT) - _rms_db(top, t + 0.65 * BEAT, t + 0.95 * BEAT) for t in kicks]
    assert abs(np.mean(pulse)) < 1.0


def test_reese_is_wide_above_160_hz_and_mono_below(stems):
    bass = _mix(stems, "drum-and-bass").stems["bass"].astype(np.float64)
    mid, side = (bass[0] + bass[1]) / 2, (bass[0] - bass[1]) / 2
    low = butter(4, 120.0, "low", fs=SR, output="sos")
    high = butter(4, (300.0, 3000.0), "bandpass", fs=SR, output="sos")

    def level(x, sos):
        return 10 * np.log10(np.mean(sosfiltfilt(sos, x) ** 2) + 1e-30)

    assert level(side, low) - level(mid, low) <= -25.0  # the sub stays mono
    assert level(side, high) - level(mid, high) >= -12.0  # the growl spreads across the stereo field


def test_the_lanes_in_song_mid_and_in_the_audio_coincide(laned, tmp_path):
    import mido

    from pipeline.midi import TICKS_PER_BEAT, write_midi

    write_midi(_arrangement("house", automation=LANES), tmp_path / "song.mid")
    midi = mido.MidiFile(str(tmp_path / "song.mid"))
    harmony = next(t for t in midi.tracks if t.name.startswith("harmony:"))
    ticks, now = [], 0
    for message in harmony:
        now += message.time
        if message.type == "control_change" and message.control == 74:
            ticks.append((now, message.value))
    midi_start = ticks[0][0] / TICKS_PER_BEAT * BEAT
    midi_open = next(tick for tick, value in ticks if value == 127) / TICKS_PER_BEAT * BEAT
    # Where the audio's harmony (white noise) first loses its top, and where it last differs, in 5 ms frames.
    plain, moved = laned
    frame = int(0.005 * SR)
    n = (int(7.5 * BEAT * SR) // frame) * frame

    def top_db(stem):
        frames = np.asarray(stem[0, :n], np.float64).reshape(-1, frame)
        return 10 * np.log10((np.diff(frames, axis=1) ** 2).mean(axis=1) + 1e-30)  # a differentiator weighs the top

    darker = top_db(plain.stems["harmony"]) - top_db(moved.stems["harmony"])
    audio_start = np.flatnonzero(darker > 6.0)[0] * frame / SR
    differs = np.flatnonzero(np.any(plain.stems["harmony"][:, :n] != moved.stems["harmony"][:, :n], axis=0))
    assert abs(audio_start - midi_start) <= 0.012, (audio_start, midi_start)
    assert abs(differs[0] / SR - midi_start) <= 0.001
    assert midi_open - 0.1 <= differs[-1] / SR <= midi_open + 0.001, (differs[-1] / SR, midi_open)
