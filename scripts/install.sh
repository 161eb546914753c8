#!/usr/bin/env bash
# Installs everything ampa needs on a Debian machine with Python 3.11: the Debian packages (a General
# MIDI SoundFont; ffmpeg, an independent loudness meter the tests use; docker-compose, to check the
# compose file), the CPU build of torch, and ampa itself with its pinned dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
DEBIAN_PACKAGES=(fluid-soundfont-gm ffmpeg docker-compose)
# Debian's chromium and its driver: the track-page browser tests (selenium never downloads a browser).
DEBIAN_PACKAGES+=(chromium chromium-driver)
# FluidSynth (the SoundFont engine), MuseScore General Full (the main font), the AVL acoustic drum kits.
DEBIAN_PACKAGES+=(libfluidsynth3 musescore-general-soundfont-lossless avldrums.lv2-soundfont)
# Hydrogen's drum kits (WAV/FLAC velocity layers): the sampled boom-bap kit of hip-hop and lo-fi.
DEBIAN_PACKAGES+=(hydrogen-drumkits)

missing=()
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || missing+=(fluid-soundfont-gm)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || missing+=(chromium chromium-driver)
compgen -G "/usr/lib/*/libfluidsynth.so.3" >/dev/null || missing+=(libfluidsynth3)
[ -f /usr/share/sounds/sf2/MuseScore_General_Full.sf2 ] || missing+=(musescore-general-soundfont-lossless)
[ -f /usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2 ] || missing+=(avldrums.lv2-soundfont)
[ -f /usr/share/hydrogen/data/drumkits/rumpf_kit_z01_h2/drumkit.xml ] || missing+=(hydrogen-drumkits)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${DEBIAN_PACKAGES[@]}" >/dev/null
  else
    echo "warning: no apt-get; install a GM SoundFont and set AMPA_SOUNDFONT=/path/to/file.sf2" >&2
  fi
fi

# torch first and pinned: a plain `torch` would pull a multi-GB CUDA build.
"$PYTHON" -m pip install -q --disable-pip-version-check torch==2.13.0
"$PYTHON" -m pip install -q --disable-pip-version-check -e ".[dev]"
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
echo "ampa installed: $(command -v ampa || echo "$PYTHON -m ampa")"
