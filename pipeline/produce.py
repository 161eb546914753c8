"""The one module that knows the order of the stages.

    parsing → (analysing) → composing → rendering → mixing → mastering → qa
                                                       ↑                   │ fail: corrective params
                                                       └───────────────────┘ (stems are kept)

`produce` is synchronous and pure apart from writing into `out_dir`; the job system runs it in a
thread and turns the hooks into persisted job state, the CLI turns them into a progress display.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipeline.backends import BackendConfig, Generated, backend_for
from pipeline.defaults import resolve
from pipeline.errors import Cancelled, QAFailed
from pipeline.spec import Sourced, Spec
from pipeline.spool import SCRATCH_PREFIX, remove_stale_scratch


class ProductionHooks(Protocol):
    """Called from the pipeline's thread, synchronously."""

    def on_stage(self, stage: str, attempt: int) -> None: ...

    def on_qa(self, report: dict[str, Any], attempt: int, actions: list[str]) -> None: ...

    def is_cancelled(self) -> bool: ...


class _NoHooks:
    def on_stage(self, stage: str, attempt: int) -> None:
        pass

    def on_qa(self, report: dict[str, Any], attempt: int, actions: list[str]) -> None:
        pass

    def is_cancelled(self) -> bool:
        return False


@dataclass(frozen=True)
class ProduceOptions:
    soundfont: Path | None = None
    max_qa_retries: int = 2
    loudness_lufs: float | None = None  # None: the spec's target
    ceiling_dbtp: float | None = None  # None: the spec's ceiling
    render_workers: int = 2
    sample_rate: int = 44100
    # Keep the decoded SoundFont (~300 MB) loaded after rendering, for the next job. False frees it.
    keep_soundfont: bool = True
    # Where the dry stems are spooled between mixes (a temporary folder inside it); None: the system's.
    scratch_dir: Path | None = None
    # Test hook: force the first master this many dB hot, to exercise the QA correction loop.
    first_master_gain_db: float = 0.0
    # The neural backends' settings (API key, model folders, device); the fields above win for the
    # symbolic renderer's own settings.
    backends: BackendConfig = field(default_factory=BackendConfig)

    def backend_config(self) -> BackendConfig:
        return replace(
            self.backends,
            soundfont=self.soundfont or self.backends.soundfont,
            render_workers=self.render_workers,
            keep_soundfont=self.keep_soundfont,
            sample_rate=self.sample_rate,
        )


@dataclass(frozen=True)
class ProductionResult:
    spec: Spec
    files: dict[str, Path]
    qa_reports: list[dict[str, Any]]
    timings: dict[str, float]
    passed: bool
    attempts: int
    notes: list[str] = field(default_factory=list)
    # A neural backend's account (report.json's "generation"): model, seeds, credits, requests, corrections.
    generation: dict[str, Any] | None = None


class _StageClock:
    """Accumulates wall time per stage (mixing/mastering/qa run once per QA attempt)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._current: str | None = None
        self._since = time.perf_counter()
        self._start = self._since

    def enter(self, stage: str | None) -> None:
        now = time.perf_counter()
        if self._current is not None:
            self.timings[self._current] = round(self.timings.get(self._current, 0.0) + now - self._since, 4)
        self._current, self._since = stage, now

    def finish(self) -> dict[str, float]:
        self.enter(None)
        self.timings["total"] = round(time.perf_counter() - self._start, 4)
        return dict(self.timings)


def produce(
    spec: Spec,
    out_dir: Path,
    *,
    options: ProduceOptions | None = None,
    hooks: ProductionHooks | None = None,
    reference: Path | None = None,
    seed_text: str = "",
) -> ProductionResult:
    options = options or ProduceOptions()
    hooks = hooks or _NoHooks()
    clock = _StageClock()
    attempt = 1

    def stage(name: str) -> None:
        if hooks.is_cancelled():
            raise Cancelled("The job was cancelled.")
        clock.enter(name)
        hooks.on_stage(name, attempt)

    stage("parsing")
    spec = _with_targets(spec, options)
    shaper, reference_report = None, None
    if reference is not None:
        stage("analysing")
        spec, shaper, reference_report = _follow_reference(spec, reference)
    elif spec.match_reference is not None and spec.match_reference.value:
        note = "no reference track attached: nothing to match, mastered as usual"
        spec = spec.with_updates(notes=[*spec.notes, note])
    spec = resolve(spec, seed_text=seed_text)

    from pipeline.mastering import MasterParams, master
    from pipeline.mixing import MixParams
    from pipeline.outputs import write_stem_outputs
    from pipeline.qa import corrective, run_qa

    def fresh_params() -> tuple[MixParams, MasterParams]:
        return MixParams(stem_offsets_db=dict(spec.mix), workers=options.render_workers), MasterParams(
            target_lufs=spec.loudness_lufs.value, ceiling_dbtp=spec.true_peak_dbtp.value
        )

    # Both sets of stems, dry and processed, live in files in `scratch` (see pipeline.spool), in
    # memory only while read: the dry ones are kept for a remix, the processed ones for QA and export.
    remove_stale_scratch(options.scratch_dir)  # left by a process killed mid-job
    with (
        tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX, dir=options.scratch_dir) as scratch,
        ThreadPoolExecutor(max_workers=2, thread_name_prefix="ampa-export") as exporter,
    ):
        backend = backend_for(spec.backend, options.backend_config(), scratch=Path(scratch) / "dry")
        generated = backend.generate(spec, on_stage=stage)
        # What the backend could not do as usual (a missing sample bank, an uncorrectable take) and, for a
        # mix-only backend, which files there are: in the spec's notes, so the job record and bots show them.
        delivered = [delivery_note(spec.backend, generated)] if generated.stems is None else []
        if generated.notes or delivered:
            spec = spec.with_updates(notes=[*spec.notes, *generated.notes, *delivered])
        mix_params, master_params = fresh_params()
        master_params = replace(master_params, pre_gain_db=options.first_master_gain_db)
        reports: list[dict[str, Any]] = []
        while True:
            stage("mixing")
            mix, stems = _mix(generated, spec, mix_params, spool=Path(scratch) / "mixed")
            # Most attempts pass QA, so the files are written as soon as what they hold is ready, on
            # the core that mastering and QA (single-threaded) leave free: the stems while the mix is
            # mastered, the mix files while it is checked. If QA fails, the next attempt's files
            # replace these (every file is replaced atomically).
            exports: list[Future[dict[str, Path]]] = [
                exporter.submit(write_stem_outputs, out_dir, stems, generated.sample_rate)
            ]
            stage("mastering")
            mastered = master(mix, generated.sample_rate, master_params, shape=shaper)
            del mix
            if spec.lead_in_s is not None and spec.lead_in_s.value > 0:
                exports[0].result()  # the stems are re-written with the lead-in below
                exports = [exporter.submit(_write_with_lead_in, out_dir, spec, generated, mastered, stems)]
            else:
                exports.append(exporter.submit(_write_mix_files, out_dir, spec, generated, mastered))
            stage("qa")
            report = run_qa(
                mastered,
                generated.sample_rate,
                spec,
                arrangement=generated.arrangement,
                stems=stems,
                attempt=attempt,
                advisory={*_advisory_checks(spec), *generated.advisory},
            )
            report_dict = report.to_dict()
            if shaper is not None:
                report_dict["reference_match"] = shaper.report(mastered, generated.sample_rate)
            reports.append(report_dict)
            if report.passed or attempt > options.max_qa_retries:
                hooks.on_qa(report_dict, attempt, [])
                break
            _collect(exports)  # superseded: let them finish before a remix rewrites the spooled stems
            correction = corrective(report, mix_params, master_params)
            failed, attempt = attempt, attempt + 1
            if correction.actions:
                # A mix or master problem: keep the stems, re-run from the mixing stage.
                hooks.on_qa(report_dict, failed, list(correction.actions))
                mix_params, master_params = correction.mix_params, correction.master_params
            elif generated.stems is not None and generated.arrangement is not None:
                # (Symbolic only: a neural backend has already re-requested what was off, in its control.)
                # Nothing in the mix can fix a key, tempo or silence problem: compose a new take. Its
                # seed derives from the asked one, so the same request still makes the same track,
                # and the spec records the seed the final take used.
                new_seed = derive_seed(spec.seed.value, failed)
                hooks.on_qa(report_dict, failed, [f"compose a new take (seed {new_seed})"])
                spec = spec.with_updates(
                    seed=Sourced[int](value=new_seed, source=spec.seed.source).model_dump(),
                    notes=[
                        *spec.notes,
                        f"QA attempt {failed} failed ({'; '.join(report.failures)}); made a new take with seed {new_seed}",
                    ],
                )
                del stems, mastered
                generated = backend.generate(spec, on_stage=stage)
                mix_params, master_params = fresh_params()
            else:
                hooks.on_qa(report_dict, failed, [])
                attempt = failed
                break

        clock.enter("export")  # what is left of writing the files once QA is done
        files = _collect(exports)
    timings = clock.finish()
    passed = bool(reports[-1]["passed"])
    if shaper is not None and shaper.matching:
        spec = spec.with_updates(notes=[*spec.notes, _matched_note(reports[-1]["reference_match"])])
    files["report.json"] = _write_report(
        out_dir / "report.json",
        {
            "spec": spec.to_dict(),
            "summary": spec.summary(),
            "backend": spec.backend,
            "passed": passed,
            "attempts": attempt,
            "qa": reports,
            "timings": timings,
            "notes": spec.notes,
            "files": sorted(files),
            **({"reference": reference_report} if reference_report is not None else {}),
            **({"generation": dict(generated.report)} if generated.report else {}),
        },
    )
    if not passed:
        reasons = list(reports[-1].get("failures") or ["quality checks failed"])
        raise QAFailed(
            f"The track failed its quality checks after {attempt} attempt(s): " + "; ".join(reasons),
            reasons,
        )
    return ProductionResult(
        spec=spec,
        files=files,
        qa_reports=reports,
        timings=timings,
        passed=passed,
        attempts=attempt,
        notes=spec.notes,
        generation=dict(generated.report) if generated.report else None,
    )


def delivery_note(backend: str, generated: Generated) -> str:
    """Which files a mix-only backend's job has, and why there are no stems (bots show it as a note)."""
    files = "mix.wav, mix.mp3, spectrogram.png, report.json"
    if generated.arrangement is not None:
        files += ", and song.mid (the arrangement ampa composed and the model followed)"
    return (
        f"files: {files}. No stems: the {backend} model makes one finished stereo mix, not separate "
        "instruments (use the symbolic backend for stems)"
    )


def _follow_reference(spec: Spec, reference: Path) -> tuple[Spec, Any, dict[str, Any]]:
    """The spec filled from the reference, the master's shaper and what report.json says about it."""
    from pipeline.reference import analyse_reference, apply_reference
    from pipeline.reference_master import ReferenceShaper

    analysis = analyse_reference(reference, genre=spec.genres[0].value if spec.genres else None)
    spec, use = apply_reference(spec, analysis)
    shaper = None
    if analysis.usable and analysis.character is not None:
        matching = spec.match_reference is not None and spec.match_reference.value
        shaper = ReferenceShaper.match(analysis.character) if matching else ReferenceShaper.lean(analysis.character)
    return spec, shaper, {"analysis": analysis.to_dict(), **use.to_dict()}


def _advisory_checks(spec: Spec) -> tuple[str, ...]:
    """Drums left out because the reference has none: with no kick or snare to carry the pulse, a
    slow harmonic rhythm reads at half the tempo (QA measured 48 for 96), so the tempo is reported,
    not enforced; the notes are still written on the asked tempo's grid."""
    drumless = any(e.value == "drums" and e.source == "reference" for e in spec.exclude)
    return ("tempo",) if drumless else ()


def _matched_note(match: dict[str, Any]) -> str:
    return (
        f"mastered to the reference: {match['master_lufs']:.1f} LUFS against its {match['reference_lufs']:.1f} "
        f"({match['loudness_delta_lu']:+.1f} LU); tonal balance {match['balance_distance_after_db']:.1f} dB from it "
        f"(the mix was {match['balance_distance_before_db']:.1f} dB away)"
    )


def _write_with_lead_in(
    out_dir: Path, spec: Spec, generated: Generated, mastered: np.ndarray, stems: Mapping[str, np.ndarray]
) -> dict[str, Path]:
    """The mix and stems with silence before bar 1, so it lands on the reference's first downbeat."""
    from pipeline.outputs import write_stem_outputs

    pad = int(round(spec.lead_in_s.value * generated.sample_rate))

    def padded(audio: np.ndarray) -> np.ndarray:
        return np.pad(np.asarray(audio), ((0, 0), (pad, 0)))

    files = write_stem_outputs(out_dir, {name: padded(stem) for name, stem in stems.items()}, generated.sample_rate)
    files.update(_write_mix_files(out_dir, spec, generated, padded(mastered)))
    return files


def derive_seed(seed: int, attempt: int) -> int:
    """The seed of the take after `attempt`: fixed by the asked seed, so retries are reproducible."""
    digest = hashlib.sha256(f"{seed}:retake:{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


def _with_targets(spec: Spec, options: ProduceOptions) -> Spec:
    """Apply the operator's loudness settings where the request did not set its own."""
    updates: dict[str, Any] = {}
    if options.loudness_lufs is not None and spec.loudness_lufs.source == "default":
        updates["loudness_lufs"] = Sourced[float](value=options.loudness_lufs, source="default").model_dump()
    if options.ceiling_dbtp is not None and spec.true_peak_dbtp.source == "default":
        updates["true_peak_dbtp"] = Sourced[float](value=options.ceiling_dbtp, source="default").model_dump()
    return spec.with_updates(**updates) if updates else spec


def _mix(
    generated: Generated, spec: Spec, params: Any, spool: Path | None = None
) -> tuple[np.ndarray, Mapping[str, np.ndarray]]:
    if generated.stems is None:
        # A mix-only backend: nothing to balance, only the overall trim applies.
        assert generated.mix is not None
        return generated.mix * np.float32(10 ** (params.trim_db / 20)), {}
    from pipeline.mixing import mix_stems

    result = mix_stems(generated.stems, generated.arrangement, spec, params, spool=spool)
    return result.mix, result.stems


def _write_mix_files(out_dir: Path, spec: Spec, generated: Generated, mastered: np.ndarray) -> dict[str, Path]:
    """mix.wav, mix.mp3, song.mid, spectrogram.png and pianoroll.png. The pictures are drawn on their
    own thread beside the audio files (whose MP3 encoder has its own thread too): most of it is
    matplotlib, which holds the GIL, while the encoders and WAV writers release it."""
    from pipeline.outputs import write_mix_outputs, write_pianoroll, write_spectrogram

    out_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ampa-spectrogram") as painter:
        picture = painter.submit(
            write_spectrogram, out_dir / "spectrogram.png", mastered, generated.sample_rate, spec.summary()
        )
        roll = None
        if generated.arrangement is not None:
            seconds = mastered.shape[-1] / generated.sample_rate
            roll = painter.submit(
                write_pianoroll, out_dir / "pianoroll.png", generated.arrangement, spec.summary(), seconds
            )
        files = write_mix_outputs(out_dir, mastered, generated.sample_rate)
        if generated.arrangement is not None:
            from pipeline.midi import write_midi

            midi_path = out_dir / "song.mid"
            tmp = midi_path.with_suffix(".mid.tmp")
            write_midi(generated.arrangement, tmp)
            os.replace(tmp, midi_path)
            files["song.mid"] = midi_path
        files["spectrogram.png"] = picture.result()
        if roll is not None:
            files["pianoroll.png"] = roll.result()
    return files


def _collect(exports: list[Future[dict[str, Path]]]) -> dict[str, Path]:
    """Wait for every export of an attempt (all of them, even after one fails) and merge their files."""
    files: dict[str, Path] = {}
    errors = []
    for export in exports:
        try:
            files.update(export.result())
        except Exception as exc:  # noqa: BLE001 - re-raised below, once the others are done
            errors.append(exc)
    if errors:
        raise errors[0]
    return files


def _write_report(path: Path, report: dict[str, Any]) -> Path:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, default=_json_default) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
