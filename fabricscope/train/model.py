"""The FabricScope inspector network (torch): a VGG-style backbone shared by two pooled heads.

Backbone: five stride-2 stages (224 -> 112 -> 56 -> 28 -> 14 -> 7), each a 3x3
stride-2 conv, the last three stages followed by one more 3x3 conv; BatchNorm +
ReLU. Each head is a 1x1 conv to 2 channels (0 = fine, 1 = defect) over the 7x7 grid, then its global pooling
(``max`` or ``avg``, per channel) and a softmax over the two classes.

The exported graph may average each head's map over flipped views of the input before pooling
(``views``, see ``view_averaged_maps``); training always sees one view.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

# (out_channels, extra 3x3 convs after the stride-2 conv) per stage
DEFAULT_STAGES: tuple[tuple[int, int], ...] = ((16, 1), (32, 0), (64, 1), (96, 1), (144, 1))
VIEWS = (1, 2, 4)  # 1: the image; 2: + its left-right mirror; 4: + the up-down and the both-ways mirrors
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)


def parse_stages(text: str) -> tuple[tuple[int, int], ...]:
    """A stage layout from ``"16:1,32,64:1,96:1,144:1"``: per stage its channels and, after a colon, how
    many more 3x3 convs follow the stride-2 one (0 when left out). Five stages: 224 px -> 7x7 cells of 32."""
    stages: list[tuple[int, int]] = []
    for part in text.split(","):
        channels, _, extra = part.strip().partition(":")
        try:
            stage = (int(channels), int(extra or 0))
        except ValueError:
            raise ValueError(f"stage {part.strip()!r}: expected CHANNELS or CHANNELS:EXTRA_CONVS") from None
        if stage[0] < 1 or stage[1] < 0:
            raise ValueError(f"stage {part.strip()!r}: channels must be >= 1 and extra convs >= 0")
        stages.append(stage)
    if len(stages) != len(DEFAULT_STAGES):
        raise ValueError(f"{len(DEFAULT_STAGES)} stages make the 7x7 grid of 32-px cells; got {len(stages)}")
    return tuple(stages)


def format_stages(stages: tuple[tuple[int, int], ...]) -> str:
    """The inverse of ``parse_stages``."""
    return ",".join(f"{c}:{e}" if e else str(c) for c, e in stages)


@dataclass(frozen=True)
class Geometry:
    stride: int
    receptive_field: int


def conv_geometry(modules: Iterable[nn.Module]) -> Geometry:
    """Stride and receptive field of the convolutions among ``modules``, taken in execution order."""
    rf, jump = 1, 1
    for m in modules:
        if isinstance(m, nn.Conv2d):
            k, s = m.kernel_size[0], m.stride[0]
            rf += (k - 1) * jump
            jump *= s
    return Geometry(stride=jump, receptive_field=rf)


def conv_bn(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class FabricNet(nn.Module):
    """Backbone + heads. ``forward`` takes float NCHW normalised input, returns the class maps."""

    def __init__(
        self,
        heads: tuple[tuple[str, str], ...] = (("hole", "max"), ("wrinkle", "avg")),
        stages: tuple[tuple[int, int], ...] = DEFAULT_STAGES,
        views: int = 1,
    ) -> None:
        super().__init__()
        if views not in VIEWS:
            raise ValueError(f"views must be one of {VIEWS}; got {views}")
        self.views = views  # used by ExportWrapper only: how many flipped views the exported maps average
        layers: list[nn.Module] = []
        cin = 3
        for cout, extra in stages:
            layers.append(conv_bn(cin, cout, 2))
            for _ in range(extra):
                layers.append(conv_bn(cout, cout, 1))
            cin = cout
        self.backbone = nn.Sequential(*layers)
        self.head_names = tuple(h for h, _ in heads)
        self.poolings = tuple(p for _, p in heads)
        self.heads = nn.ModuleDict({name: nn.Conv2d(cin, 2, 1) for name, _ in heads})
        self.stages = stages

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        f = self.backbone(x)
        return [self.heads[name](f) for name in self.head_names]

    def fine_layer(self) -> tuple[nn.Module, int]:
        """The stride-8 stage whose output the training-only fine hole head reads, and its channels."""
        stride, layer = 1, None
        for block in self.backbone:
            conv = block[0]
            stride *= conv.stride[0]
            if stride == 8:
                layer = block
        if layer is None:
            raise ValueError("backbone has no stride-8 stage")
        return layer, int(layer[0].out_channels)

    def geometry(self) -> Geometry:
        """Stride and receptive field (pixels) of one map cell, from the layer list."""
        return conv_geometry([*self.backbone.modules(), *self.heads.values()])


def view_averaged_maps(net: FabricNet, x: torch.Tensor, views: int) -> list[torch.Tensor]:
    """Each head's map averaged over ``views`` mirrored copies of ``x`` (NCHW), each map mirrored back.

    The training views come mirrored and turned, so the network answers nearly the same on a mirrored
    image; averaging the answers cancels part of what it gets wrong on one view alone. The mirrors form
    a group, so the averaged map mirrors exactly with the input. A map cell covers the same pixels in
    every view when H and W are multiples of 32 (224 -> 7 cells of 32 px). One pass over a V*N batch."""
    if views not in VIEWS:
        raise ValueError(f"views must be one of {VIEWS}; got {views}")
    if views == 1:
        return net(x)
    flips: list[tuple[int, ...]] = [(), (3,), (2,), (2, 3)][:views]
    n = x.shape[0]
    maps = net(torch.cat([x.flip(f) if f else x for f in flips]))
    out = []
    for m in maps:
        total = m[:n]
        for k in range(1, views):
            total = total + m[k * n : (k + 1) * n].flip(flips[k])
        out.append(total * (1.0 / views))
    return out


def stages_from_state(state: dict[str, torch.Tensor]) -> tuple[tuple[int, int], ...]:
    """Recover the stage layout from a state dict (a new stage starts where the channel count changes)."""
    convs = sorted(
        (int(k.split(".")[1]), v.shape)
        for k, v in state.items()
        if k.startswith("backbone.") and k.endswith("0.weight")
    )
    stages: list[list[int]] = []
    for _, shape in convs:
        cout, cin = int(shape[0]), int(shape[1])
        if not stages or cin != cout:
            stages.append([cout, 0])
        else:
            stages[-1][1] += 1
    return tuple((c, e) for c, e in stages)


def apply_temperatures(net: nn.Module, temperatures: dict[str, float]) -> None:
    """Divide each named head's map by its temperature, in place: its 1x1 conv's weights and bias. Max and
    mean commute with a positive scale, so P(defect) becomes sigmoid(pooled margin / T) (train.calibrate)."""
    with torch.no_grad():
        for name, t in temperatures.items():
            net.heads[name].weight.div_(float(t))
            net.heads[name].bias.div_(float(t))


def load_checkpoint(path: str | os.PathLike, calibrated: bool = True) -> FabricNet:
    """The network of a ``.pt`` file written by the training command (plain state dict or with layout):
    a FabricNet, or a PretrainedNet where the file says ``backbone: lite0``. ``calibrated``: with the
    head temperatures the file records applied, as in the exported graph (False: the weights as trained)."""
    obj = torch.load(path, map_location="cpu", weights_only=True)
    net = _network(obj)
    if calibrated and obj.get("temperatures"):
        apply_temperatures(net, obj["temperatures"])
    return net


def _network(obj: dict) -> FabricNet:
    """The network a loaded checkpoint describes, with its weights as saved."""
    state = obj["state_dict"] if "state_dict" in obj else obj
    heads = tuple(tuple(h) for h in obj["heads"]) if "heads" in obj else (("hole", "max"), ("wrinkle", "avg"))
    views = int(obj.get("views", 1))
    if obj.get("backbone") == "lite0":
        from fabricscope.train.pretrained import PretrainedNet  # imports this module

        lite = PretrainedNet(heads=heads, views=views, pretrained=False)  # type: ignore[arg-type]
        lite.load_state_dict(state)
        return lite.eval()  # type: ignore[return-value]  # the same interface
    # the layout as saved; older files without it: read back from the weights' shapes
    stages = tuple(tuple(s) for s in obj["stages"]) if "stages" in obj else stages_from_state(state)
    net = FabricNet(heads=heads, stages=stages, views=views)  # type: ignore[arg-type]
    net.load_state_dict(state)
    return net.eval()


def pool_map(class_map: torch.Tensor, pooling: str) -> torch.Tensor:
    """Global pooling per channel: [N, 2, h, w] -> [N, 2]."""
    if pooling == "max":
        return torch.amax(class_map, dim=(2, 3))
    if pooling == "avg":
        return torch.mean(class_map, dim=(2, 3))
    raise ValueError(f"unknown pooling {pooling!r}")


def normalise(images_uint8_nhwc: torch.Tensor) -> torch.Tensor:
    """uint8 [N, H, W, 3] RGB -> normalised float [N, 3, H, W] (the same maths as inside the ONNX graph)."""
    x = images_uint8_nhwc.to(torch.float32) * (1.0 / 255.0)
    x = x.permute(0, 3, 1, 2)
    mean = torch.tensor(MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean) / std


class ExportWrapper(nn.Module):
    """What the ONNX file computes: uint8 NHWC image -> per head (map, softmax(pool(map)))."""

    def __init__(self, net: FabricNet) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(MEAN, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)
        self.register_buffer(
            "inv_std", 1.0 / (torch.tensor(STD, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)
        )

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = image.to(torch.float32).permute(0, 3, 1, 2)
        x = (x - self.mean) * self.inv_std
        maps = view_averaged_maps(self.net, x, self.net.views)
        out: list[torch.Tensor] = []
        for m, pooling in zip(maps, self.net.poolings, strict=True):
            out.append(m)
            out.append(F.softmax(pool_map(m, pooling), dim=1))
        return tuple(out)
