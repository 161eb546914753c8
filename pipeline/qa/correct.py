"""Self-correction: turn a failed QA report into new mixing/mastering parameters.

Only what the mixing and mastering stages can fix is fixed here (the stems are kept); a wrong
tempo or key, a silent stem or a gap in the music needs a new composition, so it gets no action.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pipeline.qa.report import QAReport

if TYPE_CHECKING:  # only for annotations: mastering imports the QA meters, so no runtime cycle
    from pipeline.mastering import MasterParams
    from pipeline.mixing import MixParams

# Each retry after a peak failure lowers the ceiling by this much, never below the floor.
CEILING_STEP_DB = 0.3
CEILING_FLOOR_DBTP = -3.0
MAX_HIGHPASS_HZ = 40.0


@dataclass(frozen=True)
class Correction:
    mix_params: MixParams
    master_params: MasterParams
    actions: list[str] = field(default_factory=list)  # plain language; [] = nothing here can fix it

    def to_dict(self) -> dict[str, object]:
        return {
            "actions": list(self.actions),
            "mix_params": self.mix_params.to_dict(),
            "master_params": self.master_params.to_dict(),
        }


def corrective(report: QAReport, mix_params: MixParams, master_params: MasterParams) -> Correction:
    actions: list[str] = []
    mix, mastering = mix_params, master_params

    loud = report.check("loudness")
    if loud is not None and report.failed("loudness"):
        delta = float(loud.target) - float(loud.measured)
        if master_params.pre_gain_db:
            # A forced output gain is the usual cause: fold the error back into it.
            new_pre = master_params.pre_gain_db + delta
            new_pre = 0.0 if abs(new_pre) < 0.25 else round(new_pre, 2)
            mastering = replace(mastering, pre_gain_db=new_pre)
            actions.append(
                f"output gain {master_params.pre_gain_db:+.1f} dB -> {new_pre:+.1f} dB (loudness was {delta:+.1f} LU off)"
            )
        else:
            # The normaliser aims at the target; a miss means the limiter ate the gain: aim past it.
            new_target = round(master_params.target_lufs + delta, 2)
            mastering = replace(mastering, target_lufs=new_target, tolerance_lu=min(master_params.tolerance_lu, 0.05))
            actions.append(f"loudness aim {master_params.target_lufs:g} -> {new_target:g} LUFS to land on target")

    peak_failed = report.failed("true_peak") or report.failed("clipping")
    if peak_failed:
        ceiling = max(CEILING_FLOOR_DBTP, master_params.ceiling_dbtp - CEILING_STEP_DB)
        if ceiling < master_params.ceiling_dbtp:
            mastering = replace(mastering, ceiling_dbtp=ceiling, lookahead_ms=max(master_params.lookahead_ms, 3.0))
            actions.append(
                f"limiter ceiling {master_params.ceiling_dbtp:+.1f} -> {ceiling:+.1f} dBTP with longer look-ahead"
            )
        if master_params.pre_gain_db > 0 and mastering.pre_gain_db == master_params.pre_gain_db:
            mastering = replace(mastering, pre_gain_db=0.0)
            actions.append(
                f"output gain {master_params.pre_gain_db:+.1f} dB removed (it pushed peaks over the ceiling)"
            )

    if report.failed("dc_offset"):
        highpass = min(MAX_HIGHPASS_HZ, master_params.highpass_hz + 10.0)
        if highpass > master_params.highpass_hz:
            mastering = replace(mastering, highpass_hz=highpass)
            actions.append(f"DC offset removed: master high-pass {master_params.highpass_hz:g} -> {highpass:g} Hz")

    if report.failed("phase"):
        width = round(max(0.0, mix_params.width_scale * 0.5), 3)
        if width < mix_params.width_scale:
            mix = replace(mix, width_scale=width, mono_below_hz=max(mix_params.mono_below_hz, 200.0))
            actions.append(
                f"stereo width x{mix_params.width_scale:g} -> x{width:g}, mono below 200 Hz (left/right cancelled)"
            )

    return Correction(mix_params=mix, master_params=mastering, actions=actions)
