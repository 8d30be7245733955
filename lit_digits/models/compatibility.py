"""How checkpoints and configs written by earlier versions keep their meaning: the one place
where an older spelling of a recipe is read as today's."""

LATER_ARGUMENTS = {"summed_loss": None}
"""``ImageClassifier``'s arguments added after 0.1.0, with their defaults. Each is recorded in a
checkpoint's hyper-parameters only when given, so that an older checkpoint resumes into the
hyper-parameters it holds; and a checkpoint that lacks one had it at this default, whatever the
config given with ``--ckpt_path`` says (``LitDigitsCLI.apply_checkpoint_hyper_parameters``)."""
