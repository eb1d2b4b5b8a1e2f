"""Small epsilon-prediction networks for the teacher (students are copies of it).

Two families, both conditioned on the DDPM timestep and optionally on a class label (index ``num_classes`` is the
"no label" token used for classifier-free guidance): a residual MLP for 2-D points and flattened 8x8 digits, and a
one-level convolutional U-Net for images. Both are deliberately tiny so the whole comparison runs on a laptop CPU.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def timestep_embedding(timesteps: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of (possibly fractional) DDPM timesteps, shape (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=timesteps.device) / half)
    args = timesteps.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ConditionEmbedding(nn.Module):
    """Timestep (+ optional class) embedding shared by every block."""

    def __init__(self, dim: int, num_classes: int = 0) -> None:
        super().__init__()
        self.dim = dim
        self.num_classes = num_classes
        self.time_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.class_embedding = nn.Embedding(num_classes + 1, dim) if num_classes > 0 else None

    def forward(self, timesteps: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        embedding = self.time_mlp(timestep_embedding(timesteps, self.dim))
        if self.class_embedding is not None:
            if labels is None:  # unconditional: the null token
                labels = torch.full_like(timesteps, self.num_classes, dtype=torch.long)
            embedding = embedding + self.class_embedding(labels.long())
        return embedding


def input_gain_layer(embed_dim: int) -> nn.Linear:
    """A timestep-dependent scalar gain on the input, added to the output: ``eps = net(x, t) + g(t) x``.

    Both networks end in a normalisation layer, so without this path their output cannot grow with ``|x|``. At high
    noise the ideal prediction is ``eps ~ x``; a bounded output there leaves tail samples of the initial noise
    uncorrected, the DDIM x0 prediction divides that error by ``sqrt(alpha_bar)``, and those samples leave the data
    range entirely (measured: |x| > 100 on the 2-D ring). Initialised to zero, so it is learnt from the loss.
    """
    layer = nn.Linear(embed_dim, 1)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class ResidualMLPBlock(nn.Module):
    def __init__(self, width: int, embed_dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, width)
        self.emb = nn.Linear(embed_dim, width)
        self.fc2 = nn.Linear(width, width)
        self.act = nn.SiLU()

    def forward(self, h: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        z = self.fc1(self.act(self.norm(h))) + self.emb(embedding)
        return h + self.fc2(self.act(z))


class MLPDenoiser(nn.Module):
    """Residual MLP on flattened data; ``data_shape`` is restored on output."""

    def __init__(
        self,
        data_shape: tuple[int, ...],
        width: int = 256,
        depth: int = 4,
        num_classes: int = 0,
        embed_dim: int = 64,
    ) -> None:
        super().__init__()
        self.data_shape = tuple(data_shape)
        data_dim = math.prod(self.data_shape)
        self.condition = ConditionEmbedding(embed_dim, num_classes)
        self.input = nn.Linear(data_dim, width)
        self.blocks = nn.ModuleList(ResidualMLPBlock(width, embed_dim) for _ in range(depth))
        self.out_norm = nn.LayerNorm(width)
        self.output = nn.Linear(width, data_dim)
        self.input_gain = input_gain_layer(embed_dim)

    def forward(
        self, x: torch.Tensor, timesteps: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        embedding = self.condition(timesteps, labels)
        h = self.input(x.flatten(1))
        for block in self.blocks:
            h = block(h, embedding)
        out = self.output(torch.nn.functional.silu(self.out_norm(h))).view(x.shape)
        return out + self.input_gain(embedding).view(-1, *([1] * (x.ndim - 1))) * x


class ResidualConvBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, embed_dim: int, groups: int = 8) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(min(groups, in_channels), in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.emb = nn.Linear(embed_dim, out_channels)
        self.norm2 = nn.GroupNorm(min(groups, out_channels), out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        self.act = nn.SiLU()

    def forward(self, h: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        z = self.conv1(self.act(self.norm1(h))) + self.emb(embedding)[:, :, None, None]
        z = self.conv2(self.act(self.norm2(z)))
        return self.skip(h) + z


class ConvUNetDenoiser(nn.Module):
    """A one-level U-Net: full resolution -> half resolution (two blocks) -> back up with a skip connection."""

    def __init__(
        self, data_shape: tuple[int, ...], width: int = 32, num_classes: int = 0, embed_dim: int = 64
    ) -> None:
        super().__init__()
        if len(data_shape) != 3 or data_shape[1] % 2 or data_shape[2] % 2:
            raise ValueError(
                f"ConvUNetDenoiser needs (channels, height, width) with even sides, got {data_shape}; "
                "use network='mlp' for flat data."
            )
        channels = data_shape[0]
        self.condition = ConditionEmbedding(embed_dim, num_classes)
        self.input = nn.Conv2d(channels, width, 3, padding=1)
        self.down_block = ResidualConvBlock(width, width, embed_dim)
        self.downsample = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.mid_block1 = ResidualConvBlock(2 * width, 2 * width, embed_dim)
        self.mid_block2 = ResidualConvBlock(2 * width, 2 * width, embed_dim)
        self.upsample = nn.Conv2d(2 * width, width, 3, padding=1)
        self.up_block = ResidualConvBlock(2 * width, width, embed_dim)
        self.out_norm = nn.GroupNorm(8, width)
        self.output = nn.Conv2d(width, channels, 3, padding=1)
        self.input_gain = input_gain_layer(embed_dim)

    def forward(
        self, x: torch.Tensor, timesteps: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        embedding = self.condition(timesteps, labels)
        skip = self.down_block(self.input(x), embedding)
        h = self.mid_block1(self.downsample(skip), embedding)
        h = self.mid_block2(h, embedding)
        h = self.upsample(nn.functional.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.up_block(torch.cat([h, skip], dim=1), embedding)
        out = self.output(nn.functional.silu(self.out_norm(h)))
        return out + self.input_gain(embedding).view(-1, 1, 1, 1) * x


NETWORKS = ("mlp", "conv_unet")


def build_denoiser(
    network: str, data_shape: tuple[int, ...], width: int, depth: int, num_classes: int, embed_dim: int = 64
) -> nn.Module:
    """Build a denoiser by name (the teacher's hyperparameters hold only these plain values)."""
    if network == "mlp":
        return MLPDenoiser(data_shape, width=width, depth=depth, num_classes=num_classes, embed_dim=embed_dim)
    if network == "conv_unet":
        return ConvUNetDenoiser(data_shape, width=width, num_classes=num_classes, embed_dim=embed_dim)
    raise ValueError(f"unknown network {network!r}; choose one of {NETWORKS}")


def lora_target_modules(network: nn.Module) -> list[str]:
    """Names of every Linear/Conv2d layer except the embedding tables: where LoRA adapters go."""
    return [name for name, module in network.named_modules() if isinstance(module, nn.Linear | nn.Conv2d)]
