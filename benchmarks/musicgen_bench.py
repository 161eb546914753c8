"""Seconds of CPU compute per second of audio for MusicGen's real small architecture.

musicgen-small's configuration written out from its published hyper-parameters (a 24-layer,
1024-wide decoder over 4 EnCodec codebooks at 50 frames a second, a T5-base text encoder, the 32 kHz
EnCodec), with random weights: a forward pass costs the same whatever the weights are, and no
weights can be downloaded here. Generation as ampa runs it: sampling with classifier-free guidance
(scale 3, so the decoder runs a batch of two), top-k 250, then EnCodec decoding.

    python benchmarks/musicgen_bench.py [--seconds 2] [--runs 3] [--threads 2]

Prints a JSON line per run, then the medians: wall and CPU seconds per second of audio (CPU time
counts every thread: the compute itself, comparable on a shared machine), EnCodec decoding alone,
and the parameter count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def musicgen_small_config():
    from transformers import EncodecConfig, MusicgenConfig, MusicgenDecoderConfig, T5Config

    text = T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12,
                    relative_attention_num_buckets=32, feed_forward_proj="relu", dropout_rate=0.1)
    audio = EncodecConfig(sampling_rate=32000, audio_channels=1, codebook_size=2048, hidden_size=128, num_filters=64,
                          num_residual_layers=1, upsampling_ratios=(8, 5, 4, 4), target_bandwidths=(2.2,),
                          norm_type="weight_norm", kernel_size=7, last_kernel_size=7, residual_kernel_size=3,
                          dilation_growth_rate=2, use_causal_conv=False, pad_mode="reflect", compress=2,
                          num_lstm_layers=2, trim_right_ratio=1.0, use_conv_shortcut=False, normalize=False)
    decoder = MusicgenDecoderConfig(vocab_size=2048, max_position_embeddings=2048, num_hidden_layers=24, ffn_dim=4096,
                                    num_attention_heads=16, hidden_size=1024, num_codebooks=4, activation_function="gelu",
                                    dropout=0.1, pad_token_id=2048, bos_token_id=2048, audio_channels=1)
    return MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="audio per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the machine's cores)")
    args = parser.parse_args()

    import torch
    from transformers import MusicgenForConditionalGeneration

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    started = time.perf_counter()
    model = MusicgenForConditionalGeneration(musicgen_small_config()).eval()
    build_s = time.perf_counter() - started
    frame_rate = model.config.audio_encoder.frame_rate
    tokens = int(args.seconds * frame_rate)
    prompt = torch.randint(3, 32000, (1, 24))  # a caption's worth of T5 tokens
    mask = torch.ones_like(prompt)

    totals, cpus, decodes = [], [], []
    for run in range(args.runs):
        torch.manual_seed(run)
        with torch.inference_mode():
            t0, c0 = time.perf_counter(), time.process_time()
            model.generate(input_ids=prompt, attention_mask=mask, do_sample=True, top_k=250, guidance_scale=3.0,
                           max_new_tokens=tokens)
            t1, c1 = time.perf_counter(), time.process_time()
            # generate() ends by decoding with EnCodec; decode as many codes again to time that part alone.
            codes = torch.randint(0, 2048, (1, 1, model.config.decoder.num_codebooks, tokens))
            model.audio_encoder.decode(codes, [None])
            t2 = time.perf_counter()
        totals.append(t1 - t0)
        cpus.append(c1 - c0)
        decodes.append(t2 - t1)
        print(json.dumps({"run": run + 1, "wall_s": round(t1 - t0, 2), "cpu_s": round(c1 - c0, 2)}), flush=True)
    seconds = tokens / frame_rate
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({
        "architecture": "musicgen-small (random weights)",
        "parameters_m": round(params / 1e6, 1),
        "threads": args.threads,
        "audio_s": seconds,
        "runs": args.runs,
        # Wall time is what a job waits; CPU time (all threads) is the compute itself, which is what
        # stays comparable on a machine that other work is sharing.
        "wall_s_per_audio_s": round(statistics.median(totals) / seconds, 2),
        "cpu_s_per_audio_s": round(statistics.median(cpus) / seconds, 2),
        "encodec_decode_wall_s_per_audio_s": round(statistics.median(decodes) / seconds, 3),
        "build_s": round(build_s, 1),
    }))


if __name__ == "__main__":
    main()
