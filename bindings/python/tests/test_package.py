"""The package as pip installed it from the wheel: where it lives, what the wheel declares,
the native library inside it, and the type information a type checker sees."""
import platform
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import workboard_connect as wc

HERE = Path(__file__).resolve().parent


def test_imported_from_the_installed_wheel_not_the_source_tree():
    pkg = Path(wc.__file__).resolve().parent
    assert pkg == Path(sysconfig.get_paths()["purelib"]).resolve() / "workboard_connect"
    assert (pkg / "_native" / "libworkboard_ffi.so").is_file()
    assert (pkg / "_native" / "workboard_ffi.py").is_file()
    assert wc.version() == metadata.version("workboard-connect") == "0.1.0"


def test_wheel_is_platform_tagged():
    wheel = metadata.distribution("workboard-connect").read_text("WHEEL")
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    assert tags, wheel
    for tag in tags:
        py, abi, plat = tag.split("-")
        assert plat != "any" and plat.endswith(platform.machine()), tag
        assert (py, abi) == ("py3", "none"), tag   # the module is ctypes: no CPython ABI


def test_type_information_is_shipped():
    pkg = Path(wc.__file__).resolve().parent
    assert (pkg / "py.typed").is_file()
    stub = (pkg / "__init__.pyi").read_text()
    # Every public name of the package is in the stub.
    for name in wc.__all__:
        assert f" {name}" in stub, name


def mypy(path):
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--no-error-summary",
         "--python-version", f"{sys.version_info[0]}.{sys.version_info[1]}", str(path)],
        cwd=HERE / "typing", capture_output=True, text=True, timeout=300,
    )


def test_typed_usage_passes_mypy_strict():
    r = mypy(HERE / "typing" / "usage.py")
    assert r.returncode == 0, r.stdout + r.stderr


def test_wrong_usage_is_caught_by_mypy():
    src = (HERE / "typing" / "wrong.py").read_text().splitlines()
    expected = {i + 1 for i, line in enumerate(src) if "# error:" in line}
    r = mypy(HERE / "typing" / "wrong.py")
    assert r.returncode == 1, r.stdout + r.stderr
    reported = {int(line.split(":")[1]) for line in r.stdout.splitlines() if ": error:" in line}
    assert reported == expected, r.stdout
