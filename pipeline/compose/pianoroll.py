"""A piano-roll picture of an Arrangement: one lane per track, section boundaries marked."""

from __future__ import annotations

from pathlib import Path

from pipeline.score import Arrangement

_COLOURS = {
    "drums": "#d62728",
    "bass": "#1f77b4",
    "harmony": "#2ca02c",
    "pad": "#9467bd",
    "lead": "#ff7f0e",
    "fx": "#7f7f7f",
}


def save_pianoroll(arrangement: Arrangement, path: Path, *, max_bars: int | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    tracks = arrangement.tracks or []
    bar = arrangement.quarter_beats_per_bar
    end_beat = (max_bars or arrangement.bars) * bar
    fig, axes = plt.subplots(
        max(1, len(tracks)), 1, figsize=(16, 1.6 * max(1, len(tracks)) + 0.8), sharex=True, squeeze=False
    )
    for ax, track in zip(axes[:, 0], tracks):
        shown = [n for n in track.notes if n.start < end_beat]
        # One polygon per note, drawn in a single collection (fast even for thousands of notes).
        polys = [
            (
                (n.start / bar, n.pitch - 0.4),
                ((n.start + n.duration) / bar, n.pitch - 0.4),
                ((n.start + n.duration) / bar, n.pitch + 0.4),
                (n.start / bar, n.pitch + 0.4),
            )
            for n in shown
        ]
        alphas = [0.35 + 0.65 * n.velocity / 127 for n in shown]
        colour = _COLOURS.get(track.role, "#333333")
        collection = PolyCollection(
            polys, facecolors=[(*matplotlib.colors.to_rgb(colour), a) for a in alphas], edgecolors="none"
        )
        ax.add_collection(collection)
        if shown:
            low, high = min(n.pitch for n in shown), max(n.pitch for n in shown)
            ax.set_ylim(low - 2, high + 2)
        ax.set_ylabel(
            f"{track.role}\n{track.instrument}\n{track.voice}", fontsize=7, rotation=0, ha="right", va="center"
        )
        for section in arrangement.sections:
            ax.axvline(section.start_bar, color="black", linewidth=0.8, alpha=0.6)
        ax.grid(axis="x", alpha=0.15)
    top = axes[0, 0]
    for section in arrangement.sections:
        if section.start_bar < (max_bars or arrangement.bars):
            top.text(
                section.start_bar + 0.1,
                1.02,
                f"{section.name} ({section.energy:.2f})",
                transform=top.get_xaxis_transform(),
                fontsize=7,
                va="bottom",
            )
    axes[-1, 0].set_xlim(0, max_bars or arrangement.bars)
    axes[-1, 0].set_xlabel("bar")
    fig.suptitle(
        f"{arrangement.genre} · {arrangement.tempo_bpm:g} BPM · key pc {arrangement.key_tonic_pc} {arrangement.mode}"
        f" · {arrangement.beats_per_bar}/{arrangement.beat_unit} · {arrangement.bars} bars · seed {arrangement.seed}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
