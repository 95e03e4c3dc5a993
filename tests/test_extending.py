"""Extension points: a measurement kind, a unit and a model builder from another installed package.

"Installed" the way pip installs: a ``<name>.dist-info`` folder with ``entry_points.txt`` on ``sys.path``, which
``importlib.metadata`` reads exactly as it reads a wheel's. Nothing is pip-installed; the subprocess pytest run
finds the plug-in through ``PYTHONPATH``, the same path an installed package takes. docs/extending.md shows the
same package.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from claimsfile import claims_toml

pytestmark = pytest.mark.fast

KINDS_MODULE = '''
"""Third-party kinds: a constant, and one that counts a model's parameters through a custom builder."""
from harness.measure.measurement import Measurement
from harness.measure.registry import register


@register("constant", required=("value",), optional=("unit",), markers=("speed",))
def constant(claim, context):
    p = claim.measure.params
    return Measurement(float(p["value"]), p.get("unit", claim.unit), evidence={"path": "fake_plugin", "smoke": True})
'''

UNITS_MODULE = """
from harness.spec.units import Unit, register_unit


def setup():
    register_unit(Unit("kiloparameters", "count", 1e3), origin="fake_plugin.units")
"""

BUILDERS_MODULE = """
from harness.ml.models import BUILDERS


def two_linear(auto_class, config, device, dtype):
    import torch

    with torch.device(device):
        width = config["width"]
        return torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.Linear(width, 1))


BUILDERS.add("two_linear", two_linear, "fake_plugin.builders")
"""

ENTRY_POINTS = """\
[claims_harness.kinds]
fake = fake_plugin.kinds

[claims_harness.units]
fake = fake_plugin.units:setup

[claims_harness.builders]
fake = fake_plugin.builders
"""


def install_fake_plugin(site: Path) -> None:
    package = site / "fake_plugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "kinds.py").write_text(KINDS_MODULE)
    (package / "units.py").write_text(UNITS_MODULE)
    (package / "builders.py").write_text(BUILDERS_MODULE)
    info = site / "fake_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)


HEADER = {
    "schema_version": 1,
    "source": {"key": "toy", "title": "A toy paper", "reference": "arXiv:0000.00000", "version": "v1"},
    "models": {
        "mlp": {
            "hub_id": "nobody/mlp",
            "auto_class": "AutoModel",
            "builder": "two_linear",
            "config_source": "the test",
            "config": {"model_type": "bert", "width": 10},
        }
    },
}


def record(cid: str, value: float, unit: str, measure: dict) -> dict:
    return {
        "id": cid,
        "quote": "q",
        "location": "Table 1",
        "value": value,
        "unit": unit,
        "precision": 0.01,
        "tolerance": {"kind": "relative", "value": 0.01, "rationale": "test"},
        "measure": measure,
    }


def test_plugin_kind_unit_and_builder_from_an_installed_package(pytester: pytest.Pytester, tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_fake_plugin(site)
    claims = pytester.path / "claims"
    claims.mkdir()
    records = [
        record("plugin.constant", 4.2, "ratio", {"kind": "constant", "value": 4.2}),
        # 10*10+10 + 10*1+1 = 121 parameters = 0.121 kiloparameters, counted on the plug-in's builder
        record("plugin.params", 0.121, "kiloparameters", {"kind": "parameter_count", "model": "mlp"}),
    ]
    (claims / "toy.toml").write_text(claims_toml(*records, header=HEADER))
    pytester.makeini("[pytest]\n")
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        result = pytester.runpytest_subprocess("-m", "claims", "--claims-out=out", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    data = json.loads((pytester.path / "out" / "latest" / "results.json").read_text())
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["plugin.constant"]["verdict"] == "REPRODUCED"
    assert by_id["plugin.params"]["measured"] == pytest.approx(0.121)
    # the plug-in kind's markers apply: -m speed selects it
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", env["PYTHONPATH"])
        speed = pytester.runpytest_subprocess("-m", "speed", "--claims-out=out2", "-p", "no:cacheprovider")
    speed.assert_outcomes(passed=1)


def test_an_unknown_kind_says_did_you_mean_and_where_kinds_come_from(pytester: pytest.Pytester) -> None:
    claims = pytester.path / "claims"
    claims.mkdir()
    (claims / "toy.toml").write_text(
        claims_toml(record("bad.kind", 1.0, "ratio", {"kind": "paramater_count", "model": "mlp"}), header=HEADER)
    )
    pytester.makeini("[pytest]\n")
    result = pytester.runpytest_subprocess("-m", "claims", "--claims-out=out", "-p", "no:cacheprovider")
    # without the plug-in installed its builder is unknown too: checked at collection, its own failing item
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    assert "field 'measure.kind'" in text
    assert "'parameter_count'" in text
    assert "field 'models.mlp.builder': expected a registered builder (transformers)" in text


def test_a_broken_entry_point_is_the_harness_error_naming_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    site = tmp_path / "site"
    info = site / "broken-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[claims_harness.kinds]\nbroken = no_such_module_anywhere\n")
    code = (
        "from harness.spec.kinds import KINDS\n"
        "from harness.core.registry import PluginError\n"
        "try:\n    list(KINDS)\nexcept PluginError as e:\n    print('PluginError:', e)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(Path(__file__).resolve().parents[1])])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert "PluginError: the claims_harness.kinds entry point 'broken' = 'no_such_module_anywhere'" in out
    assert "Fix or uninstall the package that declares it" in out


def test_registering_a_name_twice_is_an_error() -> None:
    from harness.core.registry import PluginError, Registry

    registry: Registry[int] = Registry("thing", "claims_harness.test_things")
    registry.add("a", 1, "first.module")
    with pytest.raises(PluginError, match=r"thing 'a' is registered twice \(first by first.module, again by x\)"):
        registry.add("a", 2, "x")
    with pytest.raises(KeyError, match=r"unknown thing 'b'.*Known: a"):
        registry["b"]
