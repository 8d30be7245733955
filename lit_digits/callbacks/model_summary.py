"""The model summary at the start of a fit, without the column Lightning cannot fill."""

import logging
from typing import Any

from lightning.pytorch.callbacks import ModelSummary
from lightning.pytorch.utilities.model_summary import get_formatted_model_size, get_human_readable_count

log = logging.getLogger(__name__)


class ParameterSummary(ModelSummary):
    """Lightning's ``ModelSummary``: a row per top-level module (name, type, parameters, mode) and
    the totals; the FLOPs column and total only where Lightning counted some (it counts them only
    for models with an ``example_input_array``, and shows zeros otherwise)."""

    @staticmethod
    def summarize(
        summary_data: list[tuple[str, list[str]]],
        total_parameters: int,
        trainable_parameters: int,
        model_size: float,
        total_training_modes: dict[str, int],
        total_flops: int,
        **summarize_kwargs: Any,
    ) -> None:
        columns = [(name, values) for name, values in summary_data if name != "FLOPs" or total_flops]
        widths = [max(len(name), *(len(str(value)) for value in values)) for name, values in columns]
        rows = [[name for name, _ in columns], *zip(*(values for _, values in columns))]
        table = [" | ".join(f"{cell!s:<{width}}" for cell, width in zip(row, widths)) for row in rows]
        rule = "-" * max(len(line) for line in table)
        trainable = get_human_readable_count(trainable_parameters).strip()
        frozen = get_human_readable_count(total_parameters - trainable_parameters).strip()
        modes = f"{total_training_modes['train']} in train mode, {total_training_modes['eval']} in eval mode"
        size = get_formatted_model_size(model_size)
        totals = [f"{trainable} trainable, {frozen} frozen parameters ({size} MB); modules: {modes}"]
        if total_flops:
            totals.append(f"{get_human_readable_count(total_flops)} FLOPs per forward pass")
        log.info("\n".join(["", table[0], rule, *table[1:], rule, *totals]))
