"""README examples and docstring examples run as tests, so they cannot go stale."""
import doctest
import importlib
import os
import pkgutil
import re

import pytest

import gradkern

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, "README.md")


def readme_blocks():
    if not os.path.exists(README):
        return []
    text = open(README, encoding="utf-8").read()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.skipif(not os.path.exists(README), reason="needs the source checkout")
@pytest.mark.parametrize("index", range(len(readme_blocks())))
def test_readme_example(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = readme_blocks()[index]
    exec(compile(code, f"README.md[python block {index}]", "exec"), {"__name__": "__readme__"})


def public_modules():
    names = ["gradkern"]
    for m in pkgutil.iter_modules(gradkern.__path__):
        if not m.name.startswith("_") or m.name in ("_report", "_config"):
            names.append(f"gradkern.{m.name}")
    return names


@pytest.mark.parametrize("modname", public_modules())
def test_docstring_examples(modname):
    mod = importlib.import_module(modname)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(mod, modname):
        if test.examples:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0
