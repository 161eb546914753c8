"""Effects pedalboard does not have, in numpy and scipy: each a pure function of its inputs and a seed.

- modulation: tape wow and flutter, analog drift (a modulated fractional delay);
- texture: vinyl crackle and hiss;
- automation: envelopes from the score (gates opened by snare hits, slow swells) and low-pass
  sweeps over section boundaries;
- cabinet: a guitar-cabinet impulse response for pedalboard's Convolution, and the amp in front of it.

pipeline.sound_design decides which genre and stem gets which.
"""
