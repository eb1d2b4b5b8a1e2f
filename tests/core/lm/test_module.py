"""CausalLM as a LightningModule: it learns, it checkpoints, it generates, it refuses bad settings clearly."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
from torch.utils.data import DataLoader

from lamina.lm import CausalLM
from lamina.lm.tiny import TINY_CONFIGS, VOCAB


def _repeating_sequences(count: int = 32, length: int = 16) -> list[dict[str, torch.Tensor]]:
    """Sequences with an easy rule (each token is the previous + 1, mod VOCAB): a model can learn it fast."""
    generator = torch.Generator().manual_seed(0)
    starts = torch.randint(3, VOCAB, (count,), generator=generator)
    rows = (starts[:, None] + torch.arange(length)) % (VOCAB - 3) + 3
    return [{"input_ids": row} for row in rows]


def _fit(model: CausalLM, steps: int, tmp_path) -> list[float]:
    losses: list[float] = []

    class Record(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            losses.append(float(outputs["loss"]))

    trainer = pl.Trainer(
        max_steps=steps,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[Record()],
        default_root_dir=tmp_path,
    )
    trainer.fit(model, DataLoader(_repeating_sequences(), batch_size=8, shuffle=True))
    return losses


def test_tiny_model_loss_falls(tmp_path) -> None:
    torch.manual_seed(0)
    model = CausalLM(family="llama", config=TINY_CONFIGS["llama"], lr=3e-3, warmup_steps=5)  # default: cce
    losses = _fit(model, 40, tmp_path)
    assert len(losses) == 40
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.7 * first, f"loss did not fall enough: {first:.3f} -> {last:.3f}"


def test_checkpoint_reloads_with_plain_hparams(tmp_path) -> None:
    model = CausalLM(family="gpt2", config=TINY_CONFIGS["gpt2"], loss_impl="torch")
    trainer = pl.Trainer(
        max_steps=1,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, DataLoader(_repeating_sequences(8), batch_size=4))
    path = tmp_path / "last.ckpt"
    trainer.save_checkpoint(path)
    reloaded = CausalLM.load_from_checkpoint(path, weights_only=True)
    for (name, a), (_, b) in zip(model.state_dict().items(), reloaded.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, msg=name)


def test_pretrained_directory_round_trip(tmp_path) -> None:
    model = CausalLM(family="qwen2", config=TINY_CONFIGS["qwen2"], loss_impl="torch")
    model.hf_model.save_pretrained(tmp_path / "hf")
    loaded = CausalLM(pretrained_path=str(tmp_path / "hf"), loss_impl="torch")
    assert all(module.training for module in loaded.modules()), "loaded to be trained: dropout must be on"
    batch = {"input_ids": torch.randint(3, VOCAB, (2, 8))}
    torch.testing.assert_close(loaded.eval().loss(batch), model.eval().loss(batch))


def test_missing_pretrained_directory_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="never downloads"):
        CausalLM(pretrained_path=str(tmp_path / "nowhere"))


def test_unknown_loss_impl_and_family_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="choose one of cce, cce_exact"):
        CausalLM(family="llama", config=TINY_CONFIGS["llama"], loss_impl="fast")
    with pytest.raises(ValueError, match="unknown model family 'lama'"):
        CausalLM(family="lama", config={})


def test_lora_trains_only_adapters(tmp_path) -> None:
    pytest.importorskip("peft")
    model = CausalLM(
        family="llama",
        config=TINY_CONFIGS["llama"],
        loss_impl="torch",
        lora={"r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"]},
    )
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    frozen_before = model.hf_model.model.embed_tokens.weight.detach().clone()
    _fit(model, 3, tmp_path)
    torch.testing.assert_close(model.hf_model.model.embed_tokens.weight, frozen_before)
    with pytest.raises(ValueError, match="lm_head"):
        CausalLM(family="llama", config=TINY_CONFIGS["llama"], lora={"r": 2, "target_modules": ["lm_head"]})
