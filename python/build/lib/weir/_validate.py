"""validate(): a bundle against the JSON Schema of weir.model/1, then libweir's
own loader (the authority), with its warnings.

The JSON Schema (bundle.schema.json, beside this file) describes the format
of docs/bundle.md for editors and other tools; a test keeps its keys and
choices the same as the C loader's.
"""
import json
import os

__all__ = ["validate", "bundle_schema", "Invalid"]


class Invalid(ValueError):
    """The bundle is not a valid weir.model/1; .problems lists why."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


def bundle_schema():
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundle.schema.json")) as f:
        return json.load(f)


def _path(error):
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate(path, *, library=True):
    """Checks a bundle file; returns {"warnings": [...]} or raises Invalid.

    The schema check names the path of each problem; libweir (when it can be
    loaded, and @library is true) then loads the bundle exactly as weir does,
    checking what a schema cannot (dimensions, trees, caps) and reporting
    warnings such as a reference whose categories the encoder does not list.
    """
    import jsonschema
    with open(path, "rb") as f:
        text = f.read()
    try:
        bundle = json.loads(text)
    except ValueError as e:
        raise Invalid([f"{path}: {e}"]) from None
    validator = jsonschema.Draft202012Validator(bundle_schema())
    problems = [f"{path}: {_path(e) or '(top level)'}: {e.message}"
                for e in sorted(validator.iter_errors(bundle), key=lambda e: list(e.absolute_path))]
    if problems:
        raise Invalid(problems)
    report = {"warnings": [], "checked_by_libweir": False}
    if library:
        from ._engine import Bundle, WeirError
        try:
            with Bundle(path) as b:
                report["warnings"] = list(b.warnings)
                report["checked_by_libweir"] = True
        except WeirError as e:
            if "cannot load libweir" in str(e):
                return report
            raise Invalid([str(e)]) from None
    return report
