"""The digit classifiers, by name.

Every model takes float32 ``[N, 1, 28, 28]`` images in 0..1 with bright ink
(the MNIST convention) and returns logits ``[N, 10]``, or ``[N, 11]`` for a model
trained with a "not a single digit" class (class 10, :data:`REJECT_CLASS`). The MNIST mean/std
normalization is a layer of the model, so the exported ONNX input is the plain
0..1 image and the recognizer never has to know the constants.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

DIGITS = 10
REJECT_CLASS = 10
"""Index of the extra output a reject-trained model has: "this is not one digit"."""
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


class Normalize(nn.Module):
    """``(x - mean) / std`` with the MNIST statistics, kept inside the graph."""

    def __init__(self, mean: float = MNIST_MEAN, std: float = MNIST_STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean))
        self.register_buffer("std", torch.tensor(std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def conv_bn(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 conv (no bias: BN has one), batch norm, ReLU; keeps the spatial size."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class Cnn(nn.Module):
    """The shipped model: two conv-conv-pool stages (32, 64), one hidden FC layer.

    28x28 -> 14x14 -> 7x7 -> one more 2x2 pool to 3x3 keeps the FC layer (and the
    ONNX file) small while the convolutions see the full resolution.
    """

    def __init__(self, dropout: float = 0.3, classes: int = DIGITS):
        super().__init__()
        self.description = (
            "Normalize, [conv3x3-BN-ReLU 32, 32, maxpool] [conv3x3-BN-ReLU 64, 64, maxpool] "
            f"conv3x3-BN-ReLU 128, maxpool, dropout, FC 1152-128-BN-ReLU, dropout, FC {classes}"
        )
        self.features = nn.Sequential(
            Normalize(),
            conv_bn(1, 32), conv_bn(32, 32), nn.MaxPool2d(2),   # 14x14
            conv_bn(32, 64), conv_bn(64, 64), nn.MaxPool2d(2),  # 7x7
            conv_bn(64, 128), nn.MaxPool2d(2),                  # 3x3
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(128 * 3 * 3, 128, bias=False),
            nn.BatchNorm1d(128),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(128, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class CnnSmall(nn.Module):
    """A fast model for quick runs, tests and benchmarks (about 99% on MNIST)."""

    def __init__(self, classes: int = DIGITS):
        super().__init__()
        self.description = ("Normalize, conv3x3-BN-ReLU 16, maxpool, conv3x3-BN-ReLU 32, maxpool, "
                            f"conv3x3-BN-ReLU 64, maxpool, FC 576-{classes}")
        self.features = nn.Sequential(
            Normalize(),
            conv_bn(1, 16), nn.MaxPool2d(2),   # 14x14
            conv_bn(16, 32), nn.MaxPool2d(2),  # 7x7
            conv_bn(32, 64), nn.MaxPool2d(2),  # 3x3
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64 * 3 * 3, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "cnn": Cnn,
    "cnn-small": CnnSmall,
}


def build_model(name: str, classes: int = DIGITS) -> nn.Module:
    """A freshly initialized model of the named architecture with ``classes`` outputs (10 or 11)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture '{name}': choose one of {', '.join(ARCHITECTURES)}.")
    if classes not in (DIGITS, DIGITS + 1):
        raise ValueError(f"A digit model has 10 outputs, or 11 with the reject class; not {classes}.")
    return ARCHITECTURES[name](classes=classes)


def classes_in(state_dict: dict) -> int:
    """Outputs of the model a state dict belongs to: the rows of its last 2-D weight (the final layer)."""
    weights = [v for k, v in state_dict.items() if k.endswith("weight") and getattr(v, "ndim", 0) == 2]
    return int(weights[-1].shape[0]) if weights else DIGITS


def load_matching(model: nn.Module, state_dict: dict) -> list[str]:
    """Load ``state_dict`` into ``model``; a final layer with fewer outputs fills the first rows.

    Fine-tuning a 10-class model into an 11-class one keeps every learned weight,
    the ten digit rows of the last layer included; only the new reject row starts
    fresh. Returns the names of the tensors that were filled partly.
    """
    own = model.state_dict()
    partly = []
    for key, value in state_dict.items():
        if key not in own:
            raise ValueError(f"init_from: the starting weights have {key}, which this network lacks.")
        if own[key].shape == value.shape:
            own[key] = value
        elif own[key].ndim == value.ndim and own[key].shape[1:] == value.shape[1:] and own[key].shape[0] > value.shape[0]:
            own[key][:value.shape[0]] = value
            partly.append(key)
        else:
            raise ValueError(f"init_from: {key} has shape {tuple(value.shape)}, not {tuple(own[key].shape)}.")
    model.load_state_dict(own)
    return partly


def describe(name: str) -> str:
    return build_model(name).description


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (BN running statistics are buffers, not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
