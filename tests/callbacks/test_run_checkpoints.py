"""``RunCheckpoints`` keeps its state where a plain ``ModelCheckpoint`` kept it."""

import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from lit_digits.callbacks.run_checkpoints import BEST, RunCheckpoints


def test_runs_saved_by_a_plain_model_checkpoint_resume_with_their_best_score():
    # Before RunCheckpoints, best.ckpt's ModelCheckpoint wrote its state under its own key;
    # Lightning restores a callback from checkpoint["callbacks"][callback.state_key].
    plain = ModelCheckpoint(**BEST)
    plain.best_model_score = torch.tensor(0.93)
    saved_callbacks = {plain.state_key: plain.state_dict()}

    resumed = RunCheckpoints()
    resumed.load_state_dict(saved_callbacks[resumed.state_key])
    assert resumed.best_model_score == torch.tensor(0.93)
