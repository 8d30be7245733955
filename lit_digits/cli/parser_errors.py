"""The argument parsers' refusals as one line: ``lit_digits: error: KEY: what it takes, got VALUE``.

jsonargparse explains a refused value as a tree (the union of types it tried, each type's
error, the class whose option it was) after the whole usage text; a user needs the key, what it
takes and what it got. ``--help`` and ``--print_config`` are untouched.
"""

import argparse
import difflib
import re
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

from lightning.pytorch.cli import LightningArgumentParser

from lit_digits.checkpoints import accepted_arguments

KEY = re.compile(r'Parser key "([^"]+)"')
CLASS = re.compile(r"Problem with given class_path '([^']+)'")
NOT_AN_OPTION = re.compile(r"Option '([^']+)' is not accepted")
NOT_A_SUBCLASS = re.compile(r"Import path (?:(\S+) )?does not correspond to a subclass of (\w+)"
                            r"|Expected '([^']+)' to be a subclass of <class '(\w+)'>")  # fmt: skip
EXPECTED = re.compile(r"Expected a (.+?)(?:\. Got value: (.*))?$")
GIVEN = re.compile(r"Given value: (?:NestedArg\(key='[^']*', val=(.*)\)|(.*))$")
UNRECOGNIZED = re.compile(r"unrecognized arguments: (.*)")
IMPORT_FAILED = re.compile(r"No module named|cannot import|has no attribute")
NOT_ACCEPTED_KEY = re.compile(r"does not accept option '([^']+)'")
TYPE_WORDS = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string",
              "dict": "a mapping", "list": "a list", "Path": "a path", "NoneType": "null",
              "class path": "the class path of an importable class"}  # fmt: skip


def refuse(message: str) -> NoReturn:
    """Print ``message`` as lit_digits' one-line error and exit with status 2, as argparse does."""
    print(f"lit_digits: error: {message}", file=sys.stderr)
    sys.exit(2)


class OneLineParser(LightningArgumentParser):
    """LightningCLI's parser, whose refusals are one line (``one_line``)."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error:  # a caller that handles the refusal itself
            super().error(message, ex)
        parser = getattr(ex, "subcommand_parser", None) or self  # jsonargparse's: the subcommand that refused
        refuse(one_line(message, lambda: parser.get_defaults().keys()))


class OneLineArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose refusals are one line, naming the command's ``--help``."""

    def error(self, message: str) -> NoReturn:
        refuse(f"{message} ({self.prog} --help shows the usage)")


def one_line(message: str, known_keys: Any = None) -> str:
    """jsonargparse's refusal ``message`` in one line; ``known_keys()`` (optional) lists the parser's
    keys, for the nearest one to a key it does not know."""
    lines = [line.strip(" -") for line in message.splitlines() if line.strip(" -")]
    unknown = UNRECOGNIZED.search(message) or NOT_ACCEPTED_KEY.search(message)
    if unknown:
        key = unknown.group(1).split()[0].lstrip("-")
        return f"{key}: no such option{nearest(key, _keys(known_keys))}; --help lists the options"
    path, owner = [], None
    for line in lines:
        if match := KEY.search(line):
            path += ["init_args", match.group(1)] if owner else [match.group(1)]
        elif match := CLASS.search(line):
            owner = match.group(1)
        elif owner and IMPORT_FAILED.search(line):
            return f"{'.'.join(path)}: cannot import {owner} ({line})"
        elif match := NOT_AN_OPTION.search(line):
            option = match.group(1)
            return f"{'.'.join([*path, 'init_args', option])}: {owner} takes no option {option!r}{nearest(option, _arguments(owner))}"
        elif match := NOT_A_SUBCLASS.search(line):
            named = match.group(1) or match.group(3) or given_value(lines)
            return f"{'.'.join(path)}: {named} is not a subclass of {match.group(2) or match.group(4)}"
    expected = [match for line in lines if (match := EXPECTED.search(line))]
    if not path or not expected:
        return "; ".join(lines)
    got = next((m.group(2) for m in reversed(expected) if m.group(2)), None) or given_value(lines)
    return f"{'.'.join(path)}: expected {type_words(m.group(1) for m in expected)}, got {got.strip(chr(39))!r}"


def given_value(lines: list[str]) -> str:
    """The value jsonargparse says it was given (the innermost one), as the user wrote it."""
    given = next((m for line in reversed(lines) if (m := GIVEN.search(line))), None)
    return (given.group(1) or given.group(2)).strip("'") if given else "?"


def type_words(types: Iterable[str]) -> str:
    """jsonargparse's type names (``<class 'int'>``, ``typing.Literal['a', 'b']``) as words: ``an
    integer``, ``one of a, b``; null left out where something else is allowed."""
    words, choices = [], []
    for name in types:
        literal = re.fullmatch(r"typing\.Literal\[(.*)\]", name)
        if literal:
            choices += [choice.strip(" '\"") for choice in literal.group(1).split(",")]
            continue
        if re.fullmatch(r"path but \S+ either not accessible or invalid", name):
            name = "<class 'class path'>"
        plain = re.fullmatch(r"<class '(?:[\w.]*\.)?([\w ]+)'>", name)
        words.append(TYPE_WORDS.get(plain.group(1), plain.group(1)) if plain else name.replace("typing.", ""))
    if choices:
        words.append("one of " + ", ".join(dict.fromkeys(choices)))
    words = list(dict.fromkeys(words))
    if len(words) > 1 and "null" in words:
        words.remove("null")
    return " or ".join(words)


def nearest(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the candidate closest to ``name``, if one is close."""
    close = difflib.get_close_matches(name, [c for c in candidates if c != name], n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _keys(known_keys: Any) -> list[str]:
    """The parser's keys, each also without its first part (a subcommand's keys, seen from the top)."""
    keys = list(known_keys()) if known_keys else []
    return keys + [key.partition(".")[2] for key in keys if "." in key]


def _arguments(class_path: str | None) -> list[str]:
    """The arguments ``class_path``'s class takes, where it is imported (jsonargparse imports the
    classes a config names)."""
    module, _, name = (class_path or "").rpartition(".")
    cls = getattr(sys.modules.get(module), name, None)
    return accepted_arguments(cls) if isinstance(cls, type) else []
