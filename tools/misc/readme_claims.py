"""Check the numbers the READMEs state against the results they come from.

    python tools/misc/readme_claims.py [--release] [--unregistered]
    python tools/misc/readme_claims.py --list
    python tools/misc/readme_claims.py --rerun ID [ID ...]

``docs/claims.yml`` registers the claims: each names a README, the line
that states it (a piece of text found on that line only), the command that
produces it, the results JSON the command writes, optionally the code the
numbers depend on (``depends``), and per number the text
as the README writes it, the key of the JSON holding the value and how the
value is written (``scale``, ``round``, ``format``, ``zero``). The check
(the default) finds every registered number in its README and fails (exit
status 1, one ``error:`` line each) where

* the README no longer states the registered text there (a README edit),
* the results JSON holds another value for it (a rerun the README has not
  followed), or no such key.

Claims whose results JSON is not there yet (``not recorded``), and claims
whose ``depends`` (the code the number depends on) changed in a commit, or
in the working tree, after the last commit of the results JSON (``may be
stale``; told by git), are warnings; ``--release`` (run before a release)
makes them errors. The decimal numbers of the same READMEs that no claim
covers are counted in a warning (``--unregistered`` lists them; code spans
and blocks and link targets are not read). ``--list`` prints every claim
with its command; ``--rerun ID`` runs a claim's command, then checks the
claim against what it wrote. CI runs the check
(``tests/test_tools/test_readme_claims.py``).
"""
import argparse
import json
import os.path as osp
import re
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from typing import Dict, List, Optional, Set, Tuple

import yaml

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_REGISTRY = osp.join(REPO_ROOT, 'docs', 'claims.yml')
#: a number as READMEs write them (not a part of a word, a version or a
#: longer number)
NUMBER = re.compile(r'(?<![\w.])\d+(?:\.\d+)?(?!\w|\.\d)')
#: the decimal numbers the unregistered-number warning counts
DECIMAL = re.compile(r'(?<![\w.])\d+\.\d+(?!\w|\.\d)')
#: what the warning does not read: code spans and link targets
NOT_PROSE = re.compile(r'`[^`]*`|\]\([^)]*\)|https?://\S+')
NUMBER_FIELDS = {'text', 'key', 'format', 'scale', 'round', 'zero', 'cell',
                 'nth'}
CLAIM_FIELDS = {'id', 'readme', 'line', 'command', 'results', 'numbers'}
#: what a claim may leave out
OPTIONAL_CLAIM_FIELDS = {'depends'}


class RegistryError(ValueError):
    """The registry itself is malformed."""


@dataclass
class Number:
    """One number of a claim: ``text`` as the README writes it, the ``nth``
    number of its line (or of the line's table ``cell``, counted from 1 as
    ``line.split('|')`` does), read from the results JSON at ``key`` and
    written as ``format(round(value * scale, round), format)``, or as
    ``zero`` when the value is exactly 0."""
    text: str
    key: str
    format: str
    scale: Fraction = Fraction(1)
    round: Optional[int] = None
    zero: Optional[str] = None
    cell: Optional[int] = None
    nth: int = 0

    def written(self, value: float) -> str:
        """``value`` as the README should write it."""
        if value == 0 and self.zero is not None:
            return self.zero
        value = float(value * self.scale)
        if self.round is not None:
            value = round(value, self.round)
        return format(value, self.format)


@dataclass
class Claim:
    """Numbers of one README line that one command produces, from code in
    ``depends`` (paths, git pathspecs)."""
    id: str
    readme: str
    line: str
    command: str
    results: str
    numbers: List[Number]
    depends: Tuple[str, ...] = ()


def load_registry(path: str) -> List[Claim]:
    """The claims of the registry at ``path``.

    Raises:
        RegistryError: the file is no YAML, a field is missing or unknown,
            or an id repeats.
    """
    with open(path) as handle:
        try:
            entries = (yaml.safe_load(handle) or {}).get('claims') or []
        except yaml.YAMLError as error:
            raise RegistryError(f'{path}: not YAML: {error}') from error
    claims, ids = [], set()
    for entry in entries:
        where = f'{path}: claim {entry.get("id", "?")!r}'
        unknown = set(entry) - CLAIM_FIELDS - OPTIONAL_CLAIM_FIELDS
        missing = CLAIM_FIELDS - set(entry)
        if unknown or missing:
            raise RegistryError(f'{where}: unknown fields {sorted(unknown)}, '
                                f'missing fields {sorted(missing)}')
        if entry['id'] in ids:
            raise RegistryError(f'{where}: the id is used twice')
        ids.add(entry['id'])
        numbers = []
        for number in entry['numbers']:
            unknown = set(number) - NUMBER_FIELDS
            if unknown or not {'text', 'key', 'format'} <= set(number):
                raise RegistryError(
                    f'{where}: a number needs text, key and format and '
                    f'takes {sorted(NUMBER_FIELDS)}, got {sorted(number)}')
            number = dict(number, text=str(number['text']))
            if 'scale' in number:
                number['scale'] = Fraction(str(number['scale']))
            numbers.append(Number(**number))
        claims.append(Claim(**dict(entry, numbers=numbers, depends=tuple(
            entry.get('depends', ())))))
    return claims


def lookup(data, key: str):
    """The value at ``key`` in ``data``: names joined by dots, a list item
    chosen by one of its fields as ``rows[model=acm]``.

    Raises:
        KeyError: nothing is there.
    """
    value = data
    for part in key.split('.'):
        name, _, selector = part.partition('[')
        if name:
            value = value[name]
        if selector:
            field, _, wanted = selector.rstrip(']').partition('=')
            matches = [item for item in value
                       if str(item.get(field)) == wanted]
            if len(matches) != 1:
                raise KeyError(f'{len(matches)} items with {field}={wanted}')
            value = matches[0]
    return value


def find_line(lines: List[str], claim: Claim) -> int:
    """Index of the one line of ``lines`` holding ``claim.line``.

    Raises:
        LookupError: no line, or several, hold it.
    """
    found = [i for i, line in enumerate(lines) if claim.line in line]
    if len(found) != 1:
        raise LookupError(f'{len(found)} lines hold {claim.line!r} '
                          '(the claim needs exactly one)')
    return found[0]


def number_span(line: str, number: Number) -> Tuple[int, int]:
    """Where ``number`` is on ``line``: (start, end) of its text.

    Raises:
        LookupError: the line has no such cell or number.
    """
    start, end = 0, len(line)
    if number.cell is not None:
        cells = line.split('|')
        if number.cell >= len(cells):
            raise LookupError(f'the line has no table cell {number.cell}')
        start = sum(len(cell) + 1 for cell in cells[:number.cell])
        end = start + len(cells[number.cell])
    found = list(NUMBER.finditer(line, start, end))
    if number.nth >= len(found):
        raise LookupError(f'the line{"" if number.cell is None else " cell"}'
                          f' has {len(found)} numbers, no number '
                          f'{number.nth + 1}')
    return found[number.nth].span()


@dataclass
class Report:
    """What a check found: ``error:`` and ``warning:`` lines, and the
    spans of the numbers claims cover (README -> {(line index, start)})."""
    errors: List[str]
    warnings: List[str]
    covered: Dict[str, Set[Tuple[int, int]]]


def read_lines(path: str) -> List[str]:
    with open(path, encoding='utf-8') as handle:
        return handle.read().splitlines()


def git(root: str, *args: str) -> Optional[str]:
    """The output of ``git args`` in ``root``; None where git fails (no
    git, no repository)."""
    try:
        result = subprocess.run(['git', '-C', root, *args],
                                capture_output=True, text=True)
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


def stale(claim: Claim, root: str) -> Optional[str]:
    """Why ``claim``'s results may no longer be what its command gives:
    commits to its ``depends`` after the last commit of its results JSON,
    or uncommitted changes to them (unless the JSON is being rewritten
    too); None where nothing changed or git cannot tell (no history of the
    JSON)."""
    recorded = git(root, 'log', '-1', '--format=%H', '--', claim.results)
    if not claim.depends or not recorded or git(
            root, 'status', '--porcelain', '--', claim.results):
        return None
    later = (git(root, 'log', '--format=%h', f'{recorded.strip()}..HEAD',
                 '--', *claim.depends) or '').split()
    if later:
        return (f'{len(later)} commits (the newest {later[0]}) changed its '
                f'depends after {claim.results} was recorded')
    if git(root, 'status', '--porcelain', '--', *claim.depends):
        return (f'its depends changed in the working tree after '
                f'{claim.results} was recorded')
    return None


def check_claim(claim: Claim, root: str, release: bool,
                report: Report) -> None:
    """Check one claim's numbers into ``report``."""
    readme = osp.join(root, claim.readme)
    try:
        lines = read_lines(readme)
        index = find_line(lines, claim)
    except (OSError, LookupError) as error:
        report.errors.append(f'{claim.readme}: claim {claim.id}: {error}')
        return
    where = f'{claim.readme}:{index + 1}: claim {claim.id}'
    results = osp.join(root, claim.results)
    data = None
    if osp.isfile(results):
        with open(results) as handle:
            data = json.load(handle)
    else:
        (report.errors if release else report.warnings).append(
            f'{where}: not recorded, {claim.results} is missing (produce it '
            f'with --rerun {claim.id}: {claim.command})')
    reason = stale(claim, root)
    if reason:
        (report.errors if release else report.warnings).append(
            f'{where}: may be stale, {reason} (rerun: --rerun {claim.id})')
    for number in claim.numbers:
        try:
            start, end = number_span(lines[index], number)
        except LookupError as error:
            report.errors.append(f'{where}: {error}')
            continue
        report.covered.setdefault(claim.readme, set()).add((index, start))
        stated = lines[index][start:end]
        if stated != number.text:
            report.errors.append(
                f'{where}: the README states {stated} where the claim '
                f'registers {number.text} ({number.key})')
            continue
        if data is None:
            continue
        try:
            written = number.written(lookup(data, number.key))
        except (KeyError, IndexError, TypeError) as error:
            report.errors.append(f'{where}: {claim.results} has no '
                                 f'{number.key} ({error})')
            continue
        if written != number.text:
            report.errors.append(
                f'{where}: the README states {number.text}, {claim.results} '
                f'{number.key} gives {written}: update the README and the '
                'registry (or rerun: ' + claim.command + ')')


def unregistered(root: str, readme: str,
                 covered: Set[Tuple[int, int]]) -> List[Tuple[int, str]]:
    """(line number, number) of the decimal numbers of ``readme`` that no
    claim covers, outside code blocks, code spans and link targets."""
    found, in_code = [], False
    for index, line in enumerate(read_lines(osp.join(root, readme))):
        if line.lstrip().startswith('```'):
            in_code = not in_code
            continue
        if in_code:
            continue
        prose = NOT_PROSE.sub(lambda match: ' ' * len(match.group()), line)
        found.extend((index + 1, match.group())
                     for match in DECIMAL.finditer(prose)
                     if (index, match.start()) not in covered)
    return found


def check(claims: List[Claim], root: str, release: bool = False) -> Report:
    """Check every claim (see the module's docstring)."""
    report = Report(errors=[], warnings=[], covered={})
    for claim in claims:
        check_claim(claim, root, release, report)
    return report


def rerun(claim: Claim, root: str) -> int:
    """Run ``claim``'s command in ``root``; its exit status."""
    print(f'{claim.id}: {claim.command}', flush=True)
    return subprocess.run(claim.command, shell=True, cwd=root).returncode


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Check the numbers the READMEs state against the '
        'results JSON they come from (docs/claims.yml)')
    parser.add_argument('--registry', default=DEFAULT_REGISTRY,
                        help='the claims (default: docs/claims.yml)')
    parser.add_argument('--root', default=REPO_ROOT,
                        help='the folder the registry\'s paths and commands '
                        'are relative to (default: the repository)')
    action = parser.add_mutually_exclusive_group()
    action.add_argument('--list', action='store_true',
                        help='print the claims and their commands')
    action.add_argument('--rerun', nargs='+', metavar='ID',
                        help='run these claims\' commands, then check them')
    parser.add_argument('--release', action='store_true',
                        help='a claim not recorded yet, or whose code '
                        'changed after its results were, is an error')
    parser.add_argument('--unregistered', action='store_true',
                        help='list the README numbers no claim covers')
    return parser.parse_args(argv)


def print_list(claims: List[Claim]) -> None:
    for claim in claims:
        texts = ', '.join(number.text for number in claim.numbers)
        print(f'{claim.id}: {claim.readme} ({texts})\n'
              f'    from {claim.results}\n    $ {claim.command}')


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        claims = load_registry(args.registry)
    except RegistryError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    if args.list:
        print_list(claims)
        return 0
    if args.rerun:
        by_id = {claim.id: claim for claim in claims}
        unknown = [name for name in args.rerun if name not in by_id]
        if unknown:
            print(f'error: no claim {", ".join(unknown)} in '
                  f'{args.registry} (--list lists them)', file=sys.stderr)
            return 2
        claims = [by_id[name] for name in args.rerun]
        failed = [claim.id for claim in claims if rerun(claim, args.root)]
        if failed:
            print(f'error: the command of {", ".join(failed)} failed',
                  file=sys.stderr)
            return 1
    report = check(claims, args.root, args.release or bool(args.rerun))
    if not args.rerun:
        for readme in sorted({claim.readme for claim in claims}):
            loose = unregistered(args.root, readme,
                                 report.covered.get(readme, set()))
            if loose:
                report.warnings.append(
                    f'{readme}: {len(loose)} decimal numbers without a claim'
                    + ('' if args.unregistered else ' (--unregistered lists '
                       'them)'))
            if args.unregistered:
                report.warnings.extend(f'{readme}:{line}: {text}'
                                       for line, text in loose)
    for line in report.warnings:
        print(f'warning: {line}')
    for line in report.errors:
        print(f'error: {line}', file=sys.stderr)
    numbers = sum(len(claim.numbers) for claim in claims)
    print(f'{len(claims)} claims, {numbers} numbers: '
          f'{len(report.errors)} errors, {len(report.warnings)} warnings')
    return 1 if report.errors else 0


if __name__ == '__main__':
    sys.exit(main())
