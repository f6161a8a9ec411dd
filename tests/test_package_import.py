"""Importing the package writer leaves no stand-in module behind: a script that imports the
real cached_property backport afterwards gets the real one."""

from __future__ import annotations

import subprocess
import sys


def test_no_stand_in_cached_property_module_stays_after_import() -> None:
    script = (
        "import sys, kam_anki.package\n"
        "assert 'cached_property' not in sys.modules, sys.modules['cached_property']\n"
        "import cached_property\n"
        "assert cached_property.__file__, 'the stand-in has no file'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
