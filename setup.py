"""The import layout: the folders at the repository root install under `llmspell`.

`runtime/` is `llmspell.runtime`, `adapters/` is `llmspell.adapters`, and so on, so no generic
top-level name (`runtime`, `gateway`) lands in site-packages. A wheel copies the folders under
`llmspell/`; `pip install -e .` maps the same names onto the checkout through setuptools'
editable finder, so edits and new modules are seen without reinstalling. The rest of the
distribution is declared in pyproject.toml; only this mapping needs code, because setuptools'
package discovery cannot put a prefix in front of the names it finds.
"""

from setuptools import find_namespace_packages, setup

FOLDERS = {"llmspell": "llmspell"} | {
    f"llmspell.{folder}": folder
    for folder in ("runtime", "adapters", "protocols", "gateway", "conformance")
}


def packages(package: str, folder: str) -> list[str]:
    """The package and everything below it, data-only folders (conformance/mcp, ...) included."""
    found = find_namespace_packages(folder, exclude=("__pycache__", "*.__pycache__"))
    return [package, *(f"{package}.{sub}" for sub in found)]


setup(
    package_dir=FOLDERS,
    packages=[name for package, folder in FOLDERS.items() for name in packages(package, folder)],
    package_data={"": ["*"]},
)
