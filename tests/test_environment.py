"""The pip path (pyproject.toml + requirements.lock) and environment.yml agree."""

import re
import tomllib

from ser.config import PROJECT_ROOT

PIN = re.compile(r"^\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#;]+)")


def _pins(lines) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = PIN.match(line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return _pins(requirements)


def environment_yml_pins() -> dict[str, str]:
    text = (PROJECT_ROOT / "environment.yml").read_text()
    pip_section = text.split("- pip:", 1)[1]
    return _pins(pip_section.splitlines())


def test_every_dependency_is_pinned_exactly():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    assert all("==" in requirement for requirement in project["dependencies"])


def test_environment_yml_pins_the_same_packages_and_versions():
    assert environment_yml_pins() == pyproject_pins()


def test_environment_yml_installs_the_package_and_python_311():
    text = (PROJECT_ROOT / "environment.yml").read_text()
    assert "- -e ." in text and "python=3.11" in text


def test_lock_file_agrees_with_the_pins():
    lock = _pins((PROJECT_ROOT / "requirements.lock").read_text().splitlines())
    for name, version in pyproject_pins().items():
        assert lock.get(name) == version, f"{name}: lock has {lock.get(name)}, pyproject {version}"
