"""SLURM's warning before a job's time limit (``sbatch --signal=SIGUSR1@90``): the job is requeued."""

import logging
import os
import subprocess

log = logging.getLogger(__name__)


def job_id() -> str:
    """The job's id as ``scontrol`` names it (``ARRAYJOB_TASK`` for a task of a job array)."""
    array_job = os.environ.get("SLURM_ARRAY_JOB_ID")
    if array_job:
        return f"{array_job}_{os.environ['SLURM_ARRAY_TASK_ID']}"
    return os.environ["SLURM_JOB_ID"]


def requeue() -> None:
    """``scontrol requeue`` this job: SLURM ends it, and starts its script again when it can."""
    job = job_id()
    try:
        done = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True, check=False)
    except OSError as err:
        log.warning(f"could not requeue SLURM job {job}: {err}; resubmit the job script to resume")
        return
    if done.returncode == 0:
        log.info(f"requeued SLURM job {job}: when it starts again, fit --ckpt_path last resumes the run")
    else:
        log.warning(f"scontrol requeue {job} failed ({done.stderr.strip() or done.returncode}); resubmit the job")
