"""tools/misc/readme_claims.py: every number registered in docs/claims.yml
is what its README states and what its results JSON holds (issue 29, case
18: a README number the documented command no longer gives)."""
import json
import re
import shlex
import subprocess
import sys
import textwrap

import pytest

from tests.tool_runner import run_tool_cli

TOOL = 'misc/readme_claims'


def test_the_readmes_agree_with_the_recorded_results(capsys):
    """What CI runs: a README edit that contradicts a results JSON (or a
    results JSON rewritten without the README) fails here."""
    assert run_tool_cli(TOOL) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert ' 0 errors' in out.splitlines()[-1]


README = textwrap.dedent('''\
    | model | IoU % | Fa (1e-6) |
    |---|---|---|
    | A | 36.27 | 50.9 |

    The demo: IoU 77.75 % after 800 iterations (`0.5` in code is no claim).
    Elsewhere 1.25 and 2.50 are stated without a claim.
    ''')


def write_case(root, readme=README, iou=0.36268, demo_command='true'):
    """A README, a results JSON and a registry of two claims under
    ``root``: the table row (recorded) and the demo line (whose JSON the
    command ``demo_command`` writes)."""
    (root / 'README.md').write_text(readme)
    (root / 'results').mkdir(exist_ok=True)
    (root / 'results' / 'table.json').write_text(json.dumps(dict(rows=[
        dict(model='b', scores=dict(IoU=0.5, Fa=1.0)),
        dict(model='a', scores=dict(IoU=iou, Fa=50.85))])))
    (root / 'claims.yml').write_text(textwrap.dedent(f'''\
        claims:
          - id: table/a
            readme: README.md
            line: '| A |'
            command: python make_table.py --model a
            results: results/table.json
            numbers:
              - {{cell: 2, scale: 100, format: .2f, text: '36.27',
                  key: 'rows[model=a].scores.IoU'}}
              - {{cell: 3, format: .1f, text: '50.9',
                  key: 'rows[model=a].scores.Fa'}}
          - id: demo
            readme: README.md
            line: 'The demo: IoU'
            command: {json.dumps(demo_command)}
            results: results/demo.json
            numbers:
              - {{scale: 100, format: .2f, text: '77.75',
                  key: metrics.irstd/IoU}}
        '''))
    return ['--registry', str(root / 'claims.yml'), '--root', str(root)]


def test_agreeing_numbers_pass_and_an_unrecorded_claim_warns(tmp_path,
                                                             capsys):
    args = write_case(tmp_path)
    assert run_tool_cli(TOOL, *args) == 0
    out = capsys.readouterr().out
    assert ('warning: README.md:5: claim demo: not recorded, '
            'results/demo.json is missing') in out
    # 1.25 and 2.50 are counted; 36.27, 50.9 and 77.75 are claimed, the
    # code span is not read
    assert 'warning: README.md: 2 decimal numbers without a claim' in out
    assert run_tool_cli(TOOL, *args, '--unregistered') == 0
    out = capsys.readouterr().out
    assert 'warning: README.md:6: 1.25\nwarning: README.md:6: 2.50' in out
    # before a release every claim must be recorded
    assert run_tool_cli(TOOL, *args, '--release') == 1
    assert 'error: README.md:5: claim demo: not recorded' in \
        capsys.readouterr().err


def test_a_results_json_that_gives_another_number_fails(tmp_path, capsys):
    args = write_case(tmp_path, iou=0.3701)
    assert run_tool_cli(TOOL, *args) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        'error: README.md:3: claim table/a: the README states 36.27, '
        'results/table.json rows[model=a].scores.IoU gives 37.01: update '
        'the README and the registry (or rerun: python make_table.py '
        '--model a)']


def test_a_readme_edit_that_contradicts_the_claim_fails(tmp_path, capsys):
    args = write_case(tmp_path, readme=README.replace('50.9', '59.0'))
    assert run_tool_cli(TOOL, *args) == 1
    assert capsys.readouterr().err.splitlines() == [
        'error: README.md:3: claim table/a: the README states 59.0 where '
        'the claim registers 50.9 (rows[model=a].scores.Fa)']
    # a line the claim can no longer find
    args = write_case(tmp_path, readme=README.replace('| A |', '| A2 |'))
    assert run_tool_cli(TOOL, *args) == 1
    assert "0 lines hold '| A |'" in capsys.readouterr().err


def test_list_and_rerun(tmp_path, capsys):
    writer = ("import json; json.dump(dict(metrics={'irstd/IoU': %s}), "
              "open('results/demo.json', 'w'))")
    args = write_case(tmp_path, demo_command=' '.join(
        [shlex.quote(sys.executable), '-c', shlex.quote(writer % 0.77751)]))
    assert run_tool_cli(TOOL, *args, '--list') == 0
    out = capsys.readouterr().out
    assert ('table/a: README.md (36.27, 50.9)\n'
            '    from results/table.json\n'
            '    $ python make_table.py --model a\n') in out
    # the rerun writes the JSON, then the claim is checked against it
    assert run_tool_cli(TOOL, *args, '--rerun', 'demo') == 0
    assert json.loads((tmp_path / 'results' / 'demo.json').read_text()) == {
        'metrics': {'irstd/IoU': 0.77751}}
    capsys.readouterr()
    args = write_case(tmp_path, demo_command=' '.join(
        [shlex.quote(sys.executable), '-c', shlex.quote(writer % 0.781)]))
    assert run_tool_cli(TOOL, *args, '--rerun', 'demo') == 1
    assert 'the README states 77.75, results/demo.json metrics.irstd/IoU ' \
        'gives 78.10' in capsys.readouterr().err
    assert run_tool_cli(TOOL, *args, '--rerun', 'nothing') == 2
    assert 'error: no claim nothing' in capsys.readouterr().err


@pytest.mark.parametrize('body, message', [
    ('claims:\n  - {id: x}\n', "missing fields ['command', 'line'"),
    ('claims: [\n', 'not YAML'),
])
def test_a_malformed_registry_is_one_error_line(tmp_path, capsys, body,
                                                message):
    (tmp_path / 'claims.yml').write_text(body)
    assert run_tool_cli(TOOL, '--registry', str(tmp_path / 'claims.yml'),
                        '--root', str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and message in err


def test_a_claim_whose_code_changed_after_its_results_may_be_stale(
        tmp_path, capsys):
    """``depends``: a commit (or a working-tree change) to the code after
    the results JSON's last commit is a warning, an error before a
    release; rewriting the JSON (the rerun) clears it."""
    args = write_case(tmp_path)
    registry = tmp_path / 'claims.yml'
    registry.write_text(registry.read_text().replace(
        '    results: results/table.json\n',
        '    results: results/table.json\n    depends: [model.py]\n'))
    (tmp_path / 'model.py').write_text('width = 8\n')

    def git(*argv):
        subprocess.run(['git', '-c', 'user.name=t', '-c', 'user.email=t@t',
                        *argv], cwd=tmp_path, check=True,
                       capture_output=True)

    git('init', '-q')
    git('add', '.')
    git('commit', '-q', '-m', 'recorded')
    assert run_tool_cli(TOOL, *args) == 0
    assert 'may be stale' not in capsys.readouterr().out
    (tmp_path / 'model.py').write_text('width = 16\n')
    assert run_tool_cli(TOOL, *args) == 0
    assert ('warning: README.md:3: claim table/a: may be stale, its depends '
            'changed in the working tree after results/table.json was '
            'recorded (rerun: --rerun table/a)') in capsys.readouterr().out
    git('commit', '-q', '-am', 'wider')
    assert run_tool_cli(TOOL, *args, '--release') == 1
    assert re.search(r'error: README\.md:3: claim table/a: may be stale, 1 '
                     r'commits \(the newest \w+\) changed its depends after '
                     r'results/table\.json was recorded',
                     capsys.readouterr().err)
    write_case(tmp_path, iou=0.36271)  # the rerun rewrote the JSON
    registry.write_text(registry.read_text().replace(
        '    results: results/table.json\n',
        '    results: results/table.json\n    depends: [model.py]\n'))
    assert run_tool_cli(TOOL, *args) == 0
    assert 'may be stale' not in capsys.readouterr().out
