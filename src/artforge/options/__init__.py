"""Every command's options, each owned by its part: the one source of defaults for the CLI and the Python API.

A command's options are a frozen dataclass in the command's module here (``prepare``, ``train``,
``sample``, ``evaluate``, ``export``, ``explore``, ``provenance``: recreate and verify, ``apply``:
translate and upscale, ``bench``); `artforge train`'s are split further by owner (``engine``,
``generation`` and ``translation`` for the tasks, ``families``). A field's metadata carries its help text
and choices (``fields.option``), so ``cli.py`` builds its argparse options from these classes and the
API builds the same dataclass from keyword arguments: a default changed here changes both. Validation
lives in ``__post_init__`` and raises ``UsageError`` naming the CLI flag, so both entry points report
bad values alike. Nothing here imports torch.
"""

from __future__ import annotations

from .apply import TranslateConfig, UpscaleConfig
from .bench import ToyBenchConfig
from .evaluate import EvaluateConfig
from .explore import InterpolateConfig, LayoutConfig, MixConfig, PaletteConfig, ProjectConfig, split_layer_spec
from .export import ExportConfig
from .fields import flag_name, from_dict, to_dict
from .prepare import AudioPrepareConfig, MusicPrepareConfig, PrepareConfig
from .provenance import RecreateConfig, VerifyConfig
from .sample import SampleConfig, parse_seeds
from .train import TrainConfig

# Each command's options class, by the name commands.COMMANDS gives it (explore's are per action, in
# commands/explore.py's ACTIONS; report takes a run folder and an output file only).
COMMAND_OPTIONS: dict[str, type] = {
    "prepare": PrepareConfig, "prepare-audio": AudioPrepareConfig, "prepare-music": MusicPrepareConfig,
    "train": TrainConfig, "sample": SampleConfig, "evaluate": EvaluateConfig, "export": ExportConfig,
    "recreate": RecreateConfig, "verify": VerifyConfig, "translate": TranslateConfig, "upscale": UpscaleConfig,
    "bench": ToyBenchConfig,
}

__all__ = ["COMMAND_OPTIONS", "AudioPrepareConfig", "EvaluateConfig", "ExportConfig", "InterpolateConfig", "LayoutConfig", "MixConfig",
           "MusicPrepareConfig", "PaletteConfig", "PrepareConfig", "ProjectConfig", "RecreateConfig", "SampleConfig",
           "ToyBenchConfig", "TrainConfig", "TranslateConfig", "UpscaleConfig", "VerifyConfig", "flag_name",
           "from_dict", "parse_seeds", "split_layer_spec", "to_dict"]
