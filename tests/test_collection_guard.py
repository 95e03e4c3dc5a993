"""Collection: every claims file is collected once, and nothing under a claims folder is skipped without a word.

Classes: one file reached along several paths (a symlink loop, a symlinked claims folder listed twice, a folder
and a file of it both on the command line) is collected once; ``.TOML`` is a claims file like ``.toml``;
sub-folders are not collected and get a warning that names them and says how to include them.
"""

from __future__ import annotations

import pytest
from claimsfile import claim, fixed, results, write

pytestmark = pytest.mark.fast


def _claims_dirs(project: pytest.Pytester, *dirs: str) -> None:
    listed = ", ".join(f'"{d}"' for d in dirs)
    project.makepyprojecttoml(
        f'[tool.pytest.ini_options]\naddopts = ["--strict-markers"]\nclaims_dirs = [{listed}]\n'
        'filterwarnings = ["ignore::pytest.PytestAssertRewriteWarning"]\n'
    )


def _ids(project: pytest.Pytester) -> list[str]:
    return sorted(results(project))


def test_a_symlink_loop_under_claims_collects_each_claim_once(project: pytest.Pytester) -> None:
    write(project, claim("v.one", value=1.0, measure=fixed(1.0)), claim("v.two", value=1.0, measure=fixed(1.0)))
    (project.path / "claims" / "loop").symlink_to(".", target_is_directory=True)
    (project.path / "claims" / "a_loop").symlink_to(project.path / "claims", target_is_directory=True)
    run = project.runpytest("-p", "no:cacheprovider", "--claims-out=out", "claims")
    run.assert_outcomes(passed=2)
    assert _ids(project) == ["v.one", "v.two"]
    assert "claims/toy.toml::v.one" in results(project)["v.one"]["nodeid"]  # the file's own path, not a link's


def test_one_folder_listed_twice_or_given_twice_is_collected_once(project: pytest.Pytester) -> None:
    write(project, claim("v.one", value=1.0, measure=fixed(1.0)))
    (project.path / "same").symlink_to(project.path / "claims", target_is_directory=True)
    _claims_dirs(project, "claims", "./claims", "same")
    for args in ((), ("claims", "claims/toy.toml"), ("claims", "same")):
        run = project.runpytest("-p", "no:cacheprovider", "--claims-out=out", *args)
        run.assert_outcomes(passed=1)
        assert _ids(project) == ["v.one"]


def test_upper_case_toml_files_are_claims_files(project: pytest.Pytester) -> None:
    write(project, claim("v.lower", value=1.0, measure=fixed(1.0)))
    write(project, claim("v.upper", value=1.0, measure=fixed(1.0)), name="UPPER")
    (project.path / "claims" / "UPPER.toml").rename(project.path / "claims" / "UPPER.TOML")
    write(project, claim("v.mixed", value=1.0, measure=fixed(1.0)), name="mixed")
    (project.path / "claims" / "mixed.toml").rename(project.path / "claims" / "mixed.Toml")
    run = project.runpytest("-p", "no:cacheprovider", "--claims-out=out")
    run.assert_outcomes(passed=3)
    assert _ids(project) == ["v.lower", "v.mixed", "v.upper"]


def test_a_sub_folder_with_claims_files_is_named_in_a_warning(project: pytest.Pytester) -> None:
    write(project, claim("v.top", value=1.0, measure=fixed(1.0)))
    sub = project.path / "claims" / "extra" / "deeper"
    sub.mkdir(parents=True)
    (project.path / "claims" / "toy.toml").rename(project.path / "claims" / "keep.toml")
    write(project, claim("v.sub", value=1.0, measure=fixed(1.0)))
    (project.path / "claims" / "toy.toml").rename(sub / "one.toml")
    (project.path / "claims" / "keep.toml").rename(project.path / "claims" / "toy.toml")
    (project.path / "claims" / "empty").mkdir()  # no claims files: no warning
    run = project.runpytest("-p", "no:cacheprovider", "--claims-out=out")
    run.assert_outcomes(passed=1, warnings=1)
    text = run.stdout.str()
    assert "its sub-folder claims/extra/ holds claims files that are not collected (extra/deeper/one.toml)" in text
    assert 'add "claims/extra" to claims_dirs' in text and "claims/empty" not in text
    _claims_dirs(project, "claims", "claims/extra/deeper")  # as the warning says: now collected
    run = project.runpytest("-p", "no:cacheprovider", "--claims-out=out")
    run.assert_outcomes(passed=2)  # and no warning: nothing under claims/extra is left out
    assert _ids(project) == ["v.sub", "v.top"]
