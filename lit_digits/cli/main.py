"""The entry point of ``lit_digits``: the command, and a user's mistakes as one line each."""

import errno
import re
import sys

import torch.distributed
from lightning.pytorch.utilities.exceptions import MisconfigurationException, SIGTERMException

from lit_digits.callbacks.run_checkpoints import EXIT_CODES, CtrlC
from lit_digits.cli.commands import COMMANDS, front_door
from lit_digits.cli.demo_command import demo_command
from lit_digits.cli.export_command import export_command
from lit_digits.cli.lightning_cli import LitDigitsCLI
from lit_digits.cli.output import set_up_output
from lit_digits.cli.report_command import report_command
from lit_digits.cli.serve_command import serve_command
from lit_digits.errors import LitDigitsError, cause_of

FILE_REFUSED = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT}
"""Why the machine refused a file operation (full disk, quota, read-only, permission, a folder that
cannot be made there): the user's to fix."""

STATE_DICT_MISMATCH = "Error(s) in loading state_dict"
"""How torch's ``load_state_dict`` begins its refusal of weights of other names or shapes."""

SOURCE_PREFIX = re.compile(r"^\[[^\]]*\] *")
"""The ``[file.cc:line]`` that gloo's errors start with."""


def main(args: list[str] | None = None) -> None:
    """``lit_digits fit|validate|test|predict`` (LightningCLI's subcommands), ``lit_digits report``,
    ``export``, ``serve`` and ``demo`` (not Trainer methods, so not LightningCLI's), also as ``python -m
    lit_digits``; ``lit_digits --help`` lists them all (``front_door``). A mistake of the user's is
    one line on stderr and exit status 1 (2 for a missing or unknown command, as for what the
    parser refuses); a stop by SIGTERM or Ctrl-C between two steps exits with ``EXIT_CODES``."""
    set_up_output()
    argv = sys.argv[1:] if args is None else args
    if argv[:1] in (["-h"], ["--help"]):
        print(front_door())  # LightningCLI's own would list its subcommands alone, without report
        return
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        given = f"there is no command {argv[0]!r}" if argv else "name a command"
        print(f"lit_digits: error: {given}: {', '.join(COMMANDS)} (lit_digits --help says what each does)",
              file=sys.stderr)  # fmt: skip
        sys.exit(2)
    try:
        if argv[0] == "report":
            report_command(argv[1:])
        elif argv[0] == "export":
            export_command(argv[1:])
        elif argv[0] == "serve":
            serve_command(argv[1:])
        elif argv[0] == "demo":
            demo_command(argv[1:])
        else:
            LitDigitsCLI(args=args)
    except LitDigitsError as err:
        message = str(err)
    except ValueError as err:  # jsonargparse wraps what a class refused while it was built from the config
        cause = cause_of(err, LitDigitsError)
        if cause is None:
            raise
        message = str(cause)
    except (SIGTERMException, CtrlC) as stop:  # training ended cleanly between two steps
        cause = "SIGTERM" if isinstance(stop, SIGTERMException) else "Ctrl-C"
        print(f"lit_digits: stopped by {cause} (exit status {EXIT_CODES[cause]})", file=sys.stderr)
        sys.exit(EXIT_CODES[cause])
    except OSError as err:  # the machine refused a file (FILE_REFUSED): the user's to fix
        if err.errno not in FILE_REFUSED:
            raise
        message = (f"{err.strerror}: {err.filename or 'writing the run files'}; free some space, fix the "
                   "permissions, or pick another folder for runs with --trainer.default_root_dir")  # fmt: skip
    except MisconfigurationException as err:  # Lightning's: settings that do not fit together
        message = f"{str(err).rstrip('.')}. Change one of the settings it names; --print_config shows them all."
    except RuntimeError as err:  # weights that do not fit the model; a collective that lost its peer
        first = SOURCE_PREFIX.sub("", str(err).strip().splitlines()[0])
        if STATE_DICT_MISMATCH in first:
            message = (f"the checkpoint's weights do not fit this model ({first.rstrip(':.')}); pass the config "
                       "it was trained with, or a checkpoint of this recipe")  # fmt: skip
        elif _lost_peer(err):  # another node or process of the run stopped
            message = (f"lost another process of the run ({first}): it stopped, and its own output says why; "
                       "then fit --ckpt_path last, on every node, resumes from the last checkpoint")  # fmt: skip
        else:
            raise
    else:
        # Lightning keeps the process group of a multi-process run after the command; left to the
        # interpreter's exit, its threads can end the process with SIGABRT once the peers have gone.
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        return
    print(f"lit_digits: error: {message}", file=sys.stderr)
    sys.exit(1)


def _lost_peer(err: RuntimeError) -> bool:
    """Whether ``err`` is a collective's failure to reach another process (torch's ``DistError``, gloo's transport)."""
    return isinstance(err, torch.distributed.DistError) or "gloo/transport" in str(err)
