"""The public estimators' docstrings agree with their signatures.

Every estimator that ``skadapt`` exports (a name of ``skadapt.__all__`` that
subclasses sklearn's ``BaseEstimator``, so a new one is checked without
editing this file) documents each ``__init__`` parameter in its class
docstring, in signature order, with a type, a description and the
``default=`` its own signature has, and documents nothing else; each of its
public methods whose docstring has a Parameters section lists exactly the
method's parameters, in order. The class docstrings are literals in the
source, which IDEs, type checkers and the API reference read statically.

The checks are numpydoc's validation (``numpydoc.validate``, the ``test``
extra). sklearn's ``check_docstring_parameters`` is not used: it returns no
error for any function whose module is not ``sklearn.*``, so on skadapt it
would pass whatever the docstrings say.
"""

import ast
import inspect
import re
import sys
import warnings
from pathlib import Path

import pytest
from numpydoc.docscrape import get_doc_object
from numpydoc.validate import validate
from sklearn.base import BaseEstimator

import skadapt

# Parameters: one not documented (PR01), one documented but not in the
# signature (PR02), the wrong order (PR03), no type (PR04), no description
# (PR07); sections numpydoc does not know (GL06) or out of order (GL07);
# no Examples (EX01): they are the API reference's examples.
CLASS_CODES = {"PR01", "PR02", "PR03", "PR04", "PR07", "GL06", "GL07", "EX01"}
# Methods: the parameter list against the signature only.
METHOD_CODES = {"PR01", "PR02", "PR03"}

# Docstrings of methods outside this test's reach that disagree with their signature today; strict,
# so the test fails once one is fixed and the entry can go.
KNOWN_MISMATCHES = {}  # "Class.method": why, for a mismatch to fix later (a strict xfail)

EXPECTED = {"AutoClassifier", "AutoRegressor", "FineTunedClassifier", "FineTunedRegressor",
            "PretrainedFeaturizer", "ScratchClassifier", "ScratchRegressor"}


def public_estimators():
    found = []
    for name in skadapt.__all__:
        obj = getattr(skadapt, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found.append(obj)
    return found


ESTIMATORS = public_estimators()


def public_methods(cls):
    """``(name, function)`` of the public methods skadapt defines (not sklearn's or skorch's own)."""
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if not name.startswith("_") and member.__module__.startswith("skadapt"):
            yield name, member


def docstring_errors(obj, codes):
    """numpydoc's errors of ``obj``'s docstring among ``codes``; a warning while parsing is one too."""
    where = obj.__qualname__
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Unknown section", "potentially wrong underline length"
        try:
            result = validate(get_doc_object(obj))
        except Exception as exc:  # the parse error is the finding
            return [f"{where}: numpydoc could not parse the docstring: {exc}"]
    return [f"{where}: {code} {message}" for code, message in result["errors"] if code in codes]


def default_errors(cls):
    """Parameters whose documented ``default=`` is missing or differs from the signature's."""
    signature = inspect.signature(cls)
    errors = []
    for param in get_doc_object(cls)["Parameters"]:
        if param.name not in signature.parameters:
            continue  # PR02 reports it
        default = signature.parameters[param.name].default
        if default is inspect.Parameter.empty:
            continue
        match = re.search(r"default=(.+)$", param.type)
        if not match:
            errors.append(f"{cls.__name__}.{param.name}: the type line does not say default={default!r}")
            continue
        try:
            documented = ast.literal_eval(match.group(1).strip())
        except (ValueError, SyntaxError):
            errors.append(f"{cls.__name__}.{param.name}: default={match.group(1)} is not a Python literal")
            continue
        if documented != default or type(documented) is not type(default):
            errors.append(f"{cls.__name__}.{param.name}: documented default={match.group(1)}, "
                          f"the signature has {default!r}")
    return errors


def test_every_public_estimator_is_collected():
    assert EXPECTED <= {cls.__name__ for cls in ESTIMATORS}


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_class_docstring_matches_init(cls):
    errors = docstring_errors(cls, CLASS_CODES) + default_errors(cls)
    assert not errors, "\n".join(errors)


def _method_params():
    params = []
    for cls in ESTIMATORS:
        for name, method in public_methods(cls):
            if not get_doc_object(method)["Parameters"]:
                continue  # a one-line docstring: nothing to compare
            reason = KNOWN_MISMATCHES.get(method.__qualname__)
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            params.append(pytest.param(cls, name, marks=marks, id=f"{cls.__name__}.{name}"))
    return params


@pytest.mark.parametrize("cls, name", _method_params())
def test_method_docstring_matches_signature(cls, name):
    errors = docstring_errors(getattr(cls, name), METHOD_CODES)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_class_docstring_is_a_literal(cls):
    # Not assembled at import time (``__doc__ = "..." + SHARED``): what static tools read is what help() shows.
    source = Path(sys.modules[cls.__module__].__file__).read_text(encoding="utf-8")
    node = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    assert ast.get_docstring(node) == inspect.cleandoc(cls.__doc__)


class _Mismatched(BaseEstimator):
    """An estimator whose docstring disagrees with its signature.

    Parameters
    ----------
    alpha : float, default=0.5
        Its signature default is 1.0.
    gamma : str
        Not in the signature.

    Examples
    --------
    >>> _Mismatched()
    _Mismatched()
    """

    def __init__(self, alpha=1.0, delta=None):
        self.alpha = alpha
        self.delta = delta


class _Reordered(BaseEstimator):
    """An estimator whose docstring lists its parameters in another order.

    Parameters
    ----------
    beta : int, default=1
        Documented first.
    alpha : float, default=1.0
        Documented second.

    Examples
    --------
    >>> _Reordered()
    _Reordered()
    """

    def __init__(self, alpha=1.0, beta=1):
        self.alpha = alpha
        self.beta = beta


def test_the_checks_find_mismatches():
    # The checks must not pass vacuously, as sklearn's check_docstring_parameters does outside sklearn.
    found = docstring_errors(_Mismatched, CLASS_CODES)
    assert any("PR01" in e and "delta" in e for e in found), found
    assert any("PR02" in e and "gamma" in e for e in found), found
    assert any("PR03" in e for e in docstring_errors(_Reordered, CLASS_CODES))
    found = default_errors(_Mismatched)
    assert any("alpha" in e and "1.0" in e for e in found), found
    assert not default_errors(_Reordered)
