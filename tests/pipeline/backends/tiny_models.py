"""Tiny, randomly initialised neural models saved to a folder, so the real loading code runs offline.

Like the transformers and diffusers test suites' dummy components: the real classes built from
small configs, saved with save_pretrained and loaded back by ampa with from_pretrained on the
path. Nothing is downloaded. The tokenizer is built with the `tokenizers` library (a word-level
vocabulary of the words ampa's captions use) and wrapped as a T5TokenizerFast.
"""

from __future__ import annotations

from pathlib import Path

CAPTION_WORDS = (
    "techno house synthwave ambient lo-fi hip hop jazz rock dark calm energetic with and no drums bass "
    "piano synth pad lead strings BPM minor major time instrumental high low energy 4/4 3/4"
).split()


def tiny_t5_tokenizer(folder: Path):
    """A T5 tokenizer (Unigram over "▁"-prefixed pieces, as T5's own) with a few hundred pieces."""
    import string

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import T5TokenizerFast

    pieces = ["<pad>", "</s>", "<unk>"] + [f"▁{w.lower()}" for w in CAPTION_WORDS] + ["▁"] + list(string.printable.strip())
    vocab = [(piece, 0.0 if i < 3 else -float(len(piece) < 3) - 1.0) for i, piece in enumerate(dict.fromkeys(pieces))]
    backend = Tokenizer(models.Unigram(vocab, unk_id=2, byte_fallback=False))
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer = T5TokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", extra_ids=0, model_max_length=128
    )
    tokenizer.save_pretrained(folder)
    return tokenizer


def _sub_configs(vocab_size: int, *, sampling_rate: int):
    from transformers import EncodecConfig, MusicgenDecoderConfig, T5Config

    text = T5Config(vocab_size=vocab_size, d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2,
                    decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    # Hop 320 at 8 kHz: 25 frames a second; 0.3 kbps over 6-bit codebooks: 2 codebooks (few decoder steps).
    audio = EncodecConfig(sampling_rate=sampling_rate, hidden_size=16, num_filters=4, upsampling_ratios=(8, 5, 4, 2),
                          codebook_size=64, num_lstm_layers=1, target_bandwidths=(0.3,), audio_channels=1)
    decoder = MusicgenDecoderConfig(vocab_size=64, hidden_size=16, ffn_dim=32, num_hidden_layers=1, num_attention_heads=2,
                                    num_codebooks=audio.num_quantizers, pad_token_id=64, bos_token_id=64,
                                    max_position_embeddings=4096)
    return text, audio, decoder


def tiny_musicgen(folder: Path, *, melody: bool = False, sampling_rate: int = 8000) -> Path:
    """A 1-layer MusicGen (or MusicGen-Melody) with its processor, saved to `folder`."""
    import torch
    from transformers import EncodecFeatureExtractor

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = tiny_t5_tokenizer(folder)
    text, audio, decoder = _sub_configs(len(tokenizer), sampling_rate=sampling_rate)
    if melody:
        import json

        from transformers import MusicgenMelodyConfig, MusicgenMelodyDecoderConfig, MusicgenMelodyForConditionalGeneration

        decoder = MusicgenMelodyDecoderConfig(**{k: getattr(decoder, k) for k in (
            "vocab_size", "hidden_size", "ffn_dim", "num_hidden_layers", "num_attention_heads", "num_codebooks",
            "pad_token_id", "bos_token_id", "max_position_embeddings")})
        config = MusicgenMelodyConfig(text_encoder=text, audio_encoder=audio, decoder=decoder, num_chroma=12)
        model = MusicgenMelodyForConditionalGeneration(config)
        # transformers' MusicgenMelodyFeatureExtractor needs torchaudio (no build for this torch), so its
        # settings are written as the extractor would save them; ampa computes the chroma itself.
        (folder / "preprocessor_config.json").write_text(json.dumps({
            "feature_extractor_type": "MusicgenMelodyFeatureExtractor", "processor_class": "MusicgenMelodyProcessor",
            "feature_size": 12, "sampling_rate": sampling_rate, "hop_length": 512, "chunk_length": 30, "n_fft": 1024,
            "num_chroma": 12, "padding_value": 0.0, "return_attention_mask": False,
        }))
        processor = None
    else:
        from transformers import MusicgenConfig, MusicgenForConditionalGeneration, MusicgenProcessor

        config = MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)
        model = MusicgenForConditionalGeneration(config)
        extractor = EncodecFeatureExtractor(feature_size=1, sampling_rate=sampling_rate)
        processor = MusicgenProcessor(feature_extractor=extractor, tokenizer=tokenizer)
    model.generation_config.do_sample = True
    model.generation_config.guidance_scale = 3.0
    model.save_pretrained(folder)
    if processor is not None:
        processor.save_pretrained(folder)
    return folder


def tiny_stable_audio_open(folder: Path, *, sampling_rate: int = 2000) -> Path:
    """A 1-layer Stable Audio Open pipeline (DiT, Oobleck VAE, T5, projection, cosine DPM scheduler).

    Its VAE hop is 2·4·4·5 = 160 samples, so at 2 kHz a latent frame is 80 ms and 128 of them make
    the model's window 10.24 s (Stable Audio Open 1.0: 1024 frames of 2048 samples at 44.1 kHz, 47.5 s).
    """
    import torch
    from diffusers import (
        AutoencoderOobleck,
        CosineDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
        StableAudioProjectionModel,
    )
    from transformers import T5Config, T5EncoderModel

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = tiny_t5_tokenizer(folder / "tokenizer")
    torch.manual_seed(0)
    text_encoder = T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=8, d_kv=4, d_ff=16, num_layers=1, num_heads=2))
    transformer = StableAudioDiTModel(
        sample_size=128, in_channels=3, num_layers=1, attention_head_dim=4, num_attention_heads=2,
        num_key_value_attention_heads=1, out_channels=3, cross_attention_dim=4, time_proj_dim=8,
        global_states_input_dim=8, cross_attention_input_dim=4,
    )
    vae = AutoencoderOobleck(
        encoder_hidden_size=6, downsampling_ratios=[2, 4, 4, 5], decoder_channels=3, decoder_input_channels=3,
        audio_channels=2, channel_multiples=[1, 2, 2, 2], sampling_rate=sampling_rate,
    )
    projection = StableAudioProjectionModel(text_encoder_dim=8, conditioning_dim=4, min_value=0, max_value=64)
    scheduler = CosineDPMSolverMultistepScheduler(solver_order=2, prediction_type="v_prediction", sigma_data=1.0,
                                                  sigma_schedule="exponential")
    pipe = StableAudioPipeline(vae=vae, text_encoder=text_encoder, projection_model=projection, tokenizer=tokenizer,
                               transformer=transformer, scheduler=scheduler)
    pipe.save_pretrained(folder)
    return folder
