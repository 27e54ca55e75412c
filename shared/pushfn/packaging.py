"""``pushfn package``: one deployable zip per function, for AWS Lambda or Function Compute.

Each zip holds the function's ``index.py`` at its root, the ``pushfn`` package (without the
emulator, a dev tool) and the runtime dependencies that function imports on that platform,
installed for the target: manylinux2014 wheels of the target CPython and architecture (``pip install
--platform … --python-version … --only-binary=:all: --target …``). Nothing else: no tests, no bench,
no dev dependencies, no ``__pycache__`` of the build machine. When an interpreter of the target
version is on this machine, every module is compiled to ``.pyc`` (``unchecked-hash``: a deployed
package never changes, and Lambda's ``/var/task`` is read-only, so a cold start would otherwise
compile every import); otherwise the zip carries sources only, and the command says how to install
one (:func:`no_interpreter_advice`: PyPI publishes no CPython builds, so nothing is fetched here).

The functions are :data:`pushfn.functions.FUNCTION_NAMES`; which distribution each needs comes from
one table, :data:`NEEDS`; version ranges come from
pushfn's own metadata (``pyproject.toml``), so they are written once. Dependencies published only as
source (``oss2``, ``aliyun-fc2``, ``crcmod``…) are built into wheels here, with no C compiler
(``CC=false``): pure-Python packages build as they are, and ``crcmod`` falls back to its
pure-Python CRC, as its setup script does when no compiler is found. A dependency that cannot be
built that way stops the build with :class:`PackagingError`.

Wheels pip downloads are kept in pip's own cache; the built source wheels in ``cache_dir``
(default ``~/.cache/pushfn/wheels``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pushfn.errors import PushfnError
from pushfn.functions import FILE_PUSH, FUNCTION_NAMES, HTTP_PUSH, QUEUE_PUSH, SCHEDULED_PUSH

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    import subprocess
    from collections.abc import Iterable, Sequence


class PackagingError(PushfnError):
    """A package could not be built: no ``functions/`` folder, pip refused a dependency, a dependency
    only published as source needs a C compiler. The message names the function or dependency."""


CLOUDS: tuple[str, ...] = ("aws", "fc")
ARCHITECTURES: tuple[str, ...] = ("x86_64", "arm64")
#: CPython versions a package can be built for (Lambda: 3.10–3.13; FC 3.0 built-in runtimes: 3.10, 3.12).
PYTHON_VERSIONS: tuple[str, ...] = ("3.10", "3.11", "3.12", "3.13")
#: The runtimes each platform offers (FC: the fc3 component's runtime enum, ``python3.9`` excluded
#: because pushfn needs 3.10; Lambda: the supported ``python3.x`` runtimes).
RUNTIMES: dict[str, tuple[str, ...]] = {"aws": ("3.10", "3.11", "3.12", "3.13"), "fc": ("3.10", "3.12")}

#: Distributions each function imports on each platform, beyond pushfn's core dependencies
#: (:data:`CORE`). AWS: boto3 (DynamoDB store, S3 reader, SQS fan-out and dead letters) is in the
#: Lambda runtime. FC: the Tablestore idempotency store everywhere; the file function also reads
#: OSS (``oss2``) and fans out through asynchronous invocations (``aliyun-fc2``).
NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    HTTP_PUSH: {"aws": (), "fc": ("tablestore",)},
    SCHEDULED_PUSH: {"aws": (), "fc": ("tablestore",)},
    QUEUE_PUSH: {"aws": (), "fc": ("tablestore",)},
    FILE_PUSH: {"aws": (), "fc": ("tablestore", "oss2", "aliyun-fc2")},
}
#: pushfn's core dependencies every function ships: pydantic explains rejected input; requests is the
#: selectable transport (``PUSH_TRANSPORT=requests``) and the credential URI client.
CORE: tuple[str, ...] = ("pydantic", "requests")
#: Distributions the platform's runtime already provides, never shipped.
PROVIDED: dict[str, tuple[str, ...]] = {"aws": ("boto3", "botocore"), "fc": ()}
#: Distributions a dependency declares but never imports, removed after installing (with the reason).
UNUSED: dict[str, str] = {
    # tablestore 6.x requires numpy (~20 MB) but imports it nowhere; flatbuffers uses it only if present.
    "numpy": "declared by tablestore, imported by none of its modules",
}
#: Parts of the pushfn package that no function imports (the emulator is a dev tool that needs aiohttp).
EXCLUDED_PARTS: tuple[str, ...] = ("emulator",)

#: Where pip installs things a function never needs at run time.
_DROPPED_DIRS = {"__pycache__", "bin"}
_DROPPED_SUFFIXES = (".pyc", ".pyo")
_MISSING = re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-\[\]]+(?:[<>=!~][^\s]*)?)")


def requirement_specs() -> dict[str, str]:
    """``{distribution name (normalised): requirement text}`` from pushfn's installed metadata (any extra).

    Raises :class:`PackagingError` when pushfn is not installed (``pip install -e .``).
    """
    from importlib import metadata

    try:
        requires = metadata.requires("pushfn") or []
    except metadata.PackageNotFoundError:
        raise PackagingError("pushfn is not installed: run 'pip install -e .' in the repository first") from None
    specs: dict[str, str] = {}
    for line in requires:
        text = line.split(";", 1)[0].strip()
        name = re.split(r"[\s<>=!~\[]", text, maxsplit=1)[0]
        specs.setdefault(_normalise(name), text)
    return specs


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dependencies(function: str, platform: str) -> tuple[str, ...]:
    """The requirement texts (``pydantic>=2.5``…) shipped in ``function``'s zip for ``platform``, sorted.

    Raises :class:`PackagingError` for an unknown function or platform.
    """
    if function not in NEEDS:
        raise PackagingError(f"unknown function {function!r}: expected one of {', '.join(FUNCTION_NAMES)}")
    if platform not in CLOUDS:
        raise PackagingError(f"unknown platform {platform!r}: expected aws or fc")
    specs = requirement_specs()
    provided = {_normalise(n) for n in PROVIDED[platform]}
    names = [_normalise(n) for n in (*CORE, *NEEDS[function][platform])]
    return tuple(sorted(specs.get(n, n) for n in dict.fromkeys(names) if n not in provided))


def default_cache_dir() -> Path:
    """``~/.cache/pushfn/wheels``: source-only dependencies built into wheels, reused across builds."""
    return Path.home() / ".cache" / "pushfn" / "wheels"


def find_root(start: Path | None = None) -> Path:
    """The repository folder holding ``functions/`` (``start``, default the current directory, or a parent).

    Raises :class:`PackagingError` when none holds every function's ``index.py``.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / "functions" / name / "index.py").is_file() for name in FUNCTION_NAMES):
            return folder
    raise PackagingError(f"no functions/<name>/index.py under {here} or its parents: run it in the repository")


def package_source(root: Path) -> Path:
    """The ``pushfn`` package folder a build ships: the repository's ``shared/pushfn`` under ``root`` when
    there is one (a non-editable ``pip install .`` would otherwise ship the installed, possibly stale,
    copy beside a current ``index.py``), else the imported package's folder."""
    local = Path(root) / "shared" / "pushfn"
    if (local / "__init__.py").is_file():
        return local
    import pushfn

    return Path(pushfn.__file__).parent


def find_interpreter(python: str) -> str | None:
    """A CPython of version ``python`` (``"3.12"``) on this machine, to compile ``.pyc``; ``None`` if none.

    This interpreter when it is that version, else ``python3.12`` on ``PATH``, else a pyenv build
    (``~/.pyenv/versions/3.12.*``); each is run once to check its version (a pyenv shim may exist
    for a version it will not start).
    """
    import shutil
    import subprocess

    if f"{sys.version_info.major}.{sys.version_info.minor}" == python:
        return sys.executable
    candidates = [shutil.which(f"python{python}")]
    candidates += sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{python}.*/bin/python{python}"))
    for candidate in filter(None, candidates):
        check = [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        try:
            result = subprocess.run(check, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0 and result.stdout.strip() == python:
            return candidate
    return None


def no_interpreter_advice(python: str) -> str:
    """What ``pushfn package`` says when :func:`find_interpreter` finds no CPython ``python`` (``"3.12"``).

    No CPython can be fetched from PyPI (python-build-standalone, which ``uv python install`` and
    ``pbs-installer`` use, is published on GitHub only), so the message says how to install one.
    """
    return (
        f"no python{python} on this machine, so the zips carry sources only and every cold start compiles "
        f"the modules it imports (the deployed folder is read-only). To ship .pyc, install CPython {python} "
        f"so that python{python} is on PATH (the OS package python{python}, 'pyenv install {python}' or "
        f"'uv python install {python}') and re-run"
    )


class Build:
    """One build: the target (``platform``, ``python`` as ``"3.12"``, ``arch``) and where zips go.

    ``root`` holds ``functions/``; ``cache_dir`` keeps built source wheels between builds;
    ``compile_pyc``: ``None`` compiles when :func:`find_interpreter` finds one, ``False`` never.
    Raises :class:`PackagingError` for an unknown platform, Python version or architecture.
    """

    def __init__(
        self,
        *,
        platform: str,
        python: str,
        arch: str = "x86_64",
        out: Path,
        root: Path | None = None,
        cache_dir: Path | None = None,
        compile_pyc: bool | None = None,
    ) -> None:
        if platform not in CLOUDS:
            raise PackagingError(f"--platform must be aws or fc, got {platform!r}")
        if python not in PYTHON_VERSIONS:
            raise PackagingError(f"--python must be one of {', '.join(PYTHON_VERSIONS)}, got {python!r}")
        if arch not in ARCHITECTURES:
            raise PackagingError(f"--arch must be x86_64 or arm64, got {arch!r}")
        if platform == "fc" and arch != "x86_64":
            raise PackagingError("Function Compute's built-in Python runtimes run on x86_64 only: use --arch x86_64")
        self.platform, self.python, self.arch = platform, python, arch
        self.out = Path(out)
        self.root = find_root(root)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.interpreter = find_interpreter(python) if compile_pyc is not False else None

    @property
    def pip_platform(self) -> str:
        """The wheel platform tag pip is asked for: manylinux2014 (glibc 2.17) runs on every Lambda and FC image."""
        return f"manylinux2014_{'aarch64' if self.arch == 'arm64' else 'x86_64'}"

    def install(self, requirements: Sequence[str], target: Path) -> None:
        """``pip install`` ``requirements`` for the target into ``target`` (a fresh folder).

        Wheels come from :attr:`cache_dir`, offline; what is missing there is downloaded into it
        first (``pip download``). Source-only distributions pip reports as missing are built into
        pure wheels there. Raises :class:`PackagingError`.
        """
        wheels = self.cache_dir
        wheels.mkdir(parents=True, exist_ok=True)
        install = ["install", "--target", str(target), "--no-compile", "--no-index"]
        if self._pip(install, requirements).returncode != 0:
            self._download(requirements)
            result = self._pip(install, requirements)
            if result.returncode != 0:
                tail = " ".join(result.stderr.strip().splitlines()[-3:])
                raise PackagingError(f"pip could not install {' '.join(requirements)} for {self}: {tail}")
        _remove_unused(target)

    def _pip(self, command: Sequence[str], requirements: Sequence[str]) -> subprocess.CompletedProcess[str]:
        import subprocess

        target = [
            "--platform", self.pip_platform, "--implementation", "cp", "--python-version", self.python,
            "--only-binary=:all:", "--find-links", str(self.cache_dir),
        ]  # fmt: skip
        pip = [sys.executable, "-m", "pip", *command[:1], "--quiet", "--disable-pip-version-check"]
        return subprocess.run([*pip, *command[1:], *target, *requirements], capture_output=True, text=True)

    def _download(self, requirements: Sequence[str]) -> None:
        built: set[str] = set()
        while True:
            result = self._pip(["download", "--dest", str(self.cache_dir)], requirements)
            if result.returncode == 0:
                return
            missing = _MISSING.search(result.stderr)
            if missing is None or missing.group(1) in built:
                tail = " ".join(result.stderr.strip().splitlines()[-3:])
                raise PackagingError(f"pip could not download {' '.join(requirements)} for {self}: {tail}")
            self._build_source_wheel(missing.group(1), self.cache_dir)
            built.add(missing.group(1))

    def _build_source_wheel(self, requirement: str, wheels: Path) -> None:
        import shutil
        import subprocess
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:
            # No C compiler: a package with an optional extension builds its pure-Python fallback.
            command = [
                "env", "CC=false", "CXX=false", sys.executable, "-m", "pip", "wheel", "--quiet",
                "--disable-pip-version-check", "--no-deps", "--no-cache-dir",
                "--no-binary=:all:", "--wheel-dir", scratch, requirement,
            ]  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True)
            made = list(Path(scratch).glob("*.whl"))
            if result.returncode != 0 or not made:
                tail = " ".join(result.stderr.strip().splitlines()[-2:])
                raise PackagingError(f"{requirement} has no wheel for {self} and could not be built: {tail}")
            for wheel in made:
                if not wheel.name.endswith("-none-any.whl"):
                    raise PackagingError(
                        f"{requirement} is published only as source and needs a C compiler ({wheel.name}); "
                        "it cannot be cross-built here"
                    )
                shutil.move(str(wheel), wheels / wheel.name)

    def site(self, requirements: Sequence[str], work: Path) -> Path:
        """The folder holding ``requirements`` installed for the target, pruned and compiled (once per set)."""
        folder = work / ("site-" + "-".join(re.sub(r"[^a-z0-9]+", "", r.lower()) for r in requirements))
        if not folder.is_dir():
            self.install(requirements, folder)
            _prune(folder)
            self._compile(folder)
        return folder

    def build(self, functions: Iterable[str] = FUNCTION_NAMES) -> list[Path]:
        """Build each function's zip into ``out`` as ``<function>.zip``; returns their paths.

        Raises :class:`PackagingError` (unknown function, a dependency pip cannot install).
        """
        import shutil
        import tempfile

        functions = list(functions)
        for function in functions:
            dependencies(function, self.platform)  # an unknown name fails before anything is built
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PackagingError(f"--out {self.out}: cannot be made ({exc.strerror or type(exc).__name__})") from None
        zips = []
        with tempfile.TemporaryDirectory(prefix="pushfn-package-") as scratch:
            work = Path(scratch)
            source = package_source(self.root)
            app = work / "app"
            shutil.copytree(
                source,
                app / "pushfn",
                ignore=lambda folder, names: [
                    n for n in names if n in _DROPPED_DIRS or (Path(folder) == source and n in EXCLUDED_PARTS)
                ],
            )
            _prune(app)
            self._compile(app)
            for function in functions:
                entry = work / f"index-{function}"
                entry.mkdir()
                shutil.copyfile(self.root / "functions" / function / "index.py", entry / "index.py")
                self._compile(entry)
                site = self.site(dependencies(function, self.platform), work)
                zips.append(write_zip((entry, app, site), self.out / f"{function}.zip"))
        return zips

    def _compile(self, staged: Path) -> None:
        import subprocess

        if not self.interpreter:
            return
        command = [
            self.interpreter or sys.executable, "-m", "compileall", "-q", "-j", "0",
            "--invalidation-mode", "unchecked-hash", str(staged),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise PackagingError(f"compiling .pyc with {self.interpreter} failed: {result.stdout[-300:]}")

    def __str__(self) -> str:
        return f"{self.platform} python{self.python} {self.arch}"


def _remove_unused(site: Path) -> None:
    """Delete every file of the :data:`UNUSED` distributions installed in ``site`` (their RECORD lists them)."""
    import shutil

    for info in site.glob("*.dist-info"):
        name = _normalise(info.name.split("-", 1)[0])
        if name not in UNUSED or not (info / "RECORD").is_file():
            continue
        tops = {line.split(",", 1)[0].split("/", 1)[0] for line in (info / "RECORD").read_text().splitlines()}
        # Scripts are recorded as ../../bin/…: only names inside the folder are removed.
        for top in tops - {"", ".", ".."}:
            path = site / top
            if path.is_dir():
                shutil.rmtree(path)
            elif path.is_file():
                path.unlink()


def _prune(staged: Path) -> None:
    import shutil

    for path in sorted(staged.rglob("*"), reverse=True):
        if path.is_dir() and path.name in _DROPPED_DIRS:
            shutil.rmtree(path)
        elif path.is_file() and path.suffix in _DROPPED_SUFFIXES:
            path.unlink()


def write_zip(folders: Sequence[Path], destination: Path) -> Path:
    """Zip the contents of ``folders`` (paths relative to each, merged) into ``destination``, reproducibly.

    Entries sorted, every timestamp 1980-01-01 (the ``.pyc`` are hash-based, so times do not matter),
    files 0644 and folders 0755 so the platform's runtime user can read them. Raises
    :class:`PackagingError` when two folders hold the same file.
    """
    import zipfile

    entries: dict[str, Path] = {}
    for folder in folders:
        for path in folder.rglob("*"):
            name = path.relative_to(folder).as_posix() + ("/" if path.is_dir() else "")
            if name in entries and not name.endswith("/"):
                raise PackagingError(f"{name} comes from both {entries[name]} and {path}")
            entries.setdefault(name, path)
    tmp = destination.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            if name.endswith("/"):
                info.external_attr = (0o40755 << 16) | 0x10
                archive.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, entries[name].read_bytes())
    tmp.replace(destination)
    return destination


def largest_parts(path: Path, count: int = 4) -> list[tuple[str, int]]:
    """The ``count`` largest top-level parts of a zip (``pydantic_core``, ``pushfn``…) by compressed bytes."""
    import zipfile

    sizes: dict[str, int] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            top = info.filename.split("/", 1)[0]
            if top.endswith(".dist-info"):
                top = "*.dist-info"
            sizes[top] = sizes.get(top, 0) + info.compress_size
    return sorted(sizes.items(), key=lambda item: -item[1])[:count]


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count / 1000:.0f} kB"


# --- the CLI subcommand ----------------------------------------------------------------------------------------------


def add_package_command(sub: argparse._SubParsersAction) -> None:
    """Add ``pushfn package`` to the CLI's subcommands."""
    command = sub.add_parser(
        "package",
        help="build one deployable zip per function (AWS Lambda or Function Compute)",
        description="Build one zip per function: index.py at the root, the pushfn package and the runtime "
        "dependencies the function imports, installed for the target Python and architecture. Run it in the "
        "repository (it reads functions/).",
        epilog="exit codes: 0 built, 2 bad option or build failure",
    )
    command.add_argument("--out", type=Path, help="folder for the zips (default: dist/<platform>)")
    command.add_argument("--platform", choices=CLOUDS, default="aws", help="aws (Lambda) or fc (Function Compute)")
    command.add_argument("--python", choices=PYTHON_VERSIONS, default="3.12", help="target CPython (default 3.12)")
    command.add_argument("--arch", choices=ARCHITECTURES, default="x86_64", help="target CPU (default x86_64)")
    command.add_argument(
        "--function", action="append", choices=FUNCTION_NAMES, help="build only this function (repeat it; default all)"
    )
    command.set_defaults(run=_run_package)


def _run_package(args: argparse.Namespace) -> int:
    from pushfn.cli import EXIT_BAD_INPUT, EXIT_OK, _err

    if args.python not in RUNTIMES[args.platform]:
        offered = ", ".join(RUNTIMES[args.platform])
        _err(f"package: {args.platform} has no python{args.python} runtime (offered: {offered})")
        return EXIT_BAD_INPUT
    try:
        build = Build(
            platform=args.platform,
            python=args.python,
            arch=args.arch,
            out=args.out or Path("dist") / args.platform,
        )
        if build.interpreter is None:
            _err(f"package: {no_interpreter_advice(args.python)}")
        zips = build.build(args.function or FUNCTION_NAMES)
    except PackagingError as exc:
        _err(f"package: {exc}")
        return EXIT_BAD_INPUT
    except OSError as exc:  # a zip that cannot be written (disk full, permissions): named, never a traceback
        _err(f"package: {exc.filename or args.out}: {exc.strerror or type(exc).__name__}")
        return EXIT_BAD_INPUT
    for path in zips:
        parts = ", ".join(f"{name} {_size(size)}" for name, size in largest_parts(path))
        print(f"{path}  {_size(path.stat().st_size)}  (largest: {parts})")
    return EXIT_OK


__all__ = [
    "CORE",
    "NEEDS",
    "PROVIDED",
    "Build",
    "PackagingError",
    "add_package_command",
    "dependencies",
    "find_root",
    "largest_parts",
    "no_interpreter_advice",
    "package_source",
    "requirement_specs",
    "write_zip",
]
