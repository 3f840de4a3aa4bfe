import os
import sys

import pytest

# the package from the build tree when ctest runs us (PYTHONPATH), else from
# build/dev for a plain `pytest tests/python` in the source tree
if not any(os.path.isdir(os.path.join(p, 'softmmu')) for p in sys.path if p):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path.insert(0, os.path.join(root, 'build', 'dev', 'python'))

import softmmu  # noqa: E402

SANITIZED = os.environ.get('SOFTMMU_PY_SANITIZED') == '1'


@pytest.fixture
def mem():
    m = softmmu.Memory()
    yield m
    m.close()
