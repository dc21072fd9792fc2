"""Golden vectors of ACM (BasicIRSTD) from the official code.

Usage::

    git clone https://github.com/XinyiYing/BasicIRSTD
    python benchmarks/golden/make_acm.py BasicIRSTD \
        [--out tests/data/golden/acm.pt]

What is built and stored: ``basicirstd_golden.py`` beside this file.
"""
from basicirstd_golden import main

if __name__ == '__main__':
    main('acm')
