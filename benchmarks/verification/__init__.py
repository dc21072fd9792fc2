"""The verification apparatus of ``benchmarks/``: our training code checked
against the authors' official code, imported at run time from their
checkouts. The command scripts (``step_exact.py``, ``parity.py``,
``augmentation_parity.py``) parse their command lines and call these
modules:

* ``references``: importing the official files (import shims, stubs, the
  torchvision stand-in, the official data code, the official seeding);
* ``official_models``: the official networks with their loss, optimizer and
  schedule (``build_reference``);
* ``official_data``: the official dataset classes on our data layout;
* ``settings``: what is compared per model (``StepSpec``, ``ParitySpec``);
* ``synthetic``: initial weights and frames reproducible from a seed;
* ``sides``: both training loops stepped in lockstep, learning rates per
  epoch;
* ``trainings``: whole training runs of each side on real data;
* ``comparison``: trained states, fingerprints, initialisation laws;
* ``scoring``: both sides' predictions scored alike;
* ``step_exact_run``, ``sweep``, ``diagnostics``: what the commands of
  ``step_exact.py`` and ``parity.py`` run;
* ``data_hooks``, ``draws``, ``pipelines``, ``image_checks``,
  ``augmentation_cases``: the augmentation check (random draws recorded
  and replayed, parameters parsed and compared, our pipeline, image
  checks, the cases);
* ``reports``: printed tables and JSON files.
"""
import os.path as osp
import sys

BENCHMARKS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO_ROOT = osp.dirname(BENCHMARKS_DIR)
RESULTS_DIR = osp.join(BENCHMARKS_DIR, 'results')
CI_DATA_DIR = osp.join(REPO_ROOT, 'tests', 'data')
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
