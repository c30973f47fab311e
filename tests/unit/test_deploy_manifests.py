"""The deployment files agree with the code: they parse, every setting the code reads is documented
and present, probes hit routes that exist on the ports the processes listen on, and grace periods
cover the services' drain deadlines. (No image is built and no cluster is needed.)"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import services.gateway.observability.metrics  # noqa: F401  (defines the gateway's metrics)
from services.agent.observability.health_server import WorkerHealthServer
from services.gateway.app import create_app
from services.gemini_emulator.config import EmulatorConfig
from shared.settings import Settings, SettingsError

# The /chatkit handler (not ours) still relies on inferred dependencies.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*Inferred dependency field:litestar.exceptions.LitestarDeprecationWarning"
)

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAY = K8S / "overlays" / "example"
SECRET_NAMES = {
    "DATABASE_URL",
    "MIGRATION_DATABASE_URL",
    "REDIS_URL",
    "GEMINI_API_KEY",
    "JWT_SECRET",
    "LOG_PSEUDONYM_SECRET",
}
MINIMAL_ENV = {
    "DATABASE_URL": "postgresql://u@db/taskchat",
    "REDIS_URL": "redis://redis:6379/0",
    "GEMINI_API_KEY": "k",
    "JWT_SECRET": "unit-test-secret-that-is-32-bytes-long",
}


class RecordingEnv(dict[str, str]):
    """A mapping that remembers every name looked up in it."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return super().__contains__(key)


def settings_names() -> set[str]:
    names: set[str] = set()
    for needs_model in (True, False):
        env = RecordingEnv(MINIMAL_ENV)
        Settings.from_env(env, needs_model=needs_model)
        names |= env.read
    return names


def emulator_names() -> set[str]:
    env = RecordingEnv({})
    EmulatorConfig.from_env(env)
    return env.read


def documents(path: Path) -> list[dict[str, Any]]:
    with path.open() as file:
        return [doc for doc in yaml.safe_load_all(file) if doc is not None]


def k8s_objects() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            for doc in documents(path):
                yield path, doc


def k8s(kind: str, name: str) -> dict[str, Any]:
    [found] = [
        doc
        for path, doc in k8s_objects()
        if path.is_relative_to(BASE) and doc["kind"] == kind and doc["metadata"]["name"] == name
    ]
    return found


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    [only] = containers
    return only


def configmap() -> dict[str, str]:
    data: dict[str, str] = k8s("ConfigMap", "taskchat-config")["data"]
    return data


def secret_example() -> dict[str, str]:
    data: dict[str, str] = k8s("Secret", "taskchat-secrets")["stringData"]
    return data


def compose() -> dict[str, Any]:
    [doc] = documents(ROOT / "compose.yaml")
    return doc


def env_example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_every_file_parses() -> None:
    kinds = {doc["kind"] for _, doc in k8s_objects()}
    assert kinds >= {
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ScaledObject",
        "Job",
        "Ingress",
    }
    assert set(compose()["services"]) == {
        "postgres",
        "redis",
        "emulator",
        "migrate",
        "gateway",
        "worker",
    }


def test_every_setting_is_documented_and_present() -> None:
    names = settings_names()
    assert {"DATABASE_URL", "LOG_FORMAT", "OTEL_EXPORTER_OTLP_ENDPOINT"} <= names  # sanity
    assert names - env_example_names() == set(), ".env.example misses these"
    assert emulator_names() - env_example_names() == set(), ".env.example misses these"
    assert names - set(configmap()) - set(secret_example()) == set(), "k8s config misses these"
    reference = (ROOT / "docs" / "configuration.md").read_text()
    assert {n for n in names if f"`{n}`" not in reference} == set(), "docs/configuration.md misses"
    unknown = env_example_names() - names - emulator_names() - {"TASKCHAT_URL"}
    assert unknown == set(), ".env.example names settings nothing reads"


def filled_in(example: dict[str, str]) -> dict[str, str]:
    """The example Secret with its CHANGE_ME placeholders replaced, as a deployment must."""
    return {
        name: value.replace("CHANGE_ME_TO_A_LONG_RANDOM_STRING_OF_32_BYTES_OR_MORE", token).replace(
            "CHANGE_ME", token
        )
        for name, value in example.items()
        for token in [secrets.token_urlsafe(32)]
    }


def test_secrets_stay_out_of_the_configmap_and_the_pair_is_a_valid_configuration() -> None:
    assert set(secret_example()) == SECRET_NAMES
    assert SECRET_NAMES.isdisjoint(configmap())
    # As shipped, the example's placeholders keep the services from starting.
    with pytest.raises(SettingsError, match="JWT_SECRET is a placeholder"):
        Settings.from_env({**configmap(), **secret_example()})
    settings = Settings.from_env({**configmap(), **filled_in(secret_example())})
    assert settings.observability.log_format == "json"
    assert settings.observability.worker_health_port == int(configmap()["WORKER_HEALTH_PORT"])
    overlay = dict(
        line.split("=", 1)
        for line in (OVERLAY / "config.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(overlay) <= settings_names()
    Settings.from_env({**configmap(), **overlay, **filled_in(secret_example())})


def gateway_routes() -> set[str]:
    app = create_app(Settings.from_env(MINIMAL_ENV, needs_model=False))
    return {route.path for route in app.routes}


def test_gateway_probes_and_port_match_the_code() -> None:
    deployment = k8s("Deployment", "taskchat-gateway")
    gateway = container(deployment)
    [port] = gateway["ports"]
    assert port["containerPort"] == int(configmap()["GATEWAY_PORT"])
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    routes = gateway_routes()
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert gateway[probe]["httpGet"]["path"] in routes
        assert gateway[probe]["httpGet"]["port"] == port["name"]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] in routes
    assert int(annotations["prometheus.io/port"]) == port["containerPort"]
    service = k8s("Service", "taskchat-gateway")
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    assert gateway["args"] == ["gateway"]


def test_worker_probes_and_port_match_the_code() -> None:
    deployment = k8s("Deployment", "taskchat-worker")
    worker = container(deployment)
    [port] = worker["ports"]
    assert port["containerPort"] == int(configmap()["WORKER_HEALTH_PORT"])
    server = WorkerHealthServer("w", lambda: True)
    for probe in ("livenessProbe", "startupProbe"):
        assert worker[probe]["httpGet"]["port"] == port["name"]
        assert server.answer("GET", worker[probe]["httpGet"]["path"]).startswith(b"HTTP/1.1 200")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert server.answer("GET", annotations["prometheus.io/path"]).startswith(b"HTTP/1.1 200")
    assert int(annotations["prometheus.io/port"]) == port["containerPort"]
    assert worker["args"] == ["worker"]
    assert "readinessProbe" not in worker  # a worker takes no traffic from a Service


def test_grace_periods_cover_the_drain_deadlines() -> None:
    settings = Settings.from_env({**configmap(), **filled_in(secret_example())})
    gateway_drain_s, worker_drain_s = settings.gateway.drain_s, settings.worker.drain_s
    gateway = k8s("Deployment", "taskchat-gateway")["spec"]["template"]["spec"]
    pre_stop_s = int(gateway["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
    assert gateway["terminationGracePeriodSeconds"] >= pre_stop_s + gateway_drain_s + 5
    worker = k8s("Deployment", "taskchat-worker")["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] >= worker_drain_s + 10
    services = compose()["services"]
    assert int(services["gateway"]["stop_grace_period"].rstrip("s")) >= gateway_drain_s + 5
    assert int(services["worker"]["stop_grace_period"].rstrip("s")) >= worker_drain_s + 10


def test_autoscalers_and_budgets_target_the_deployments() -> None:
    scaled = k8s("ScaledObject", "taskchat-worker")["spec"]
    assert scaled["scaleTargetRef"]["name"] == "taskchat-worker"
    assert scaled["minReplicaCount"] >= 1  # /readyz needs a live worker
    [trigger] = scaled["triggers"]
    assert trigger["type"] == "prometheus"
    exported = {metric.name for metric in REGISTRY.collect()}
    queried = set(re.findall(r"taskchat_[a-z_]+", trigger["metadata"]["query"]))
    assert queried == {"taskchat_queue_depth", "taskchat_turns_running"}
    assert queried <= exported
    assert 0 < int(trigger["metadata"]["threshold"]) <= int(configmap()["WORKER_MAX_TURNS"])
    hpa = k8s("HorizontalPodAutoscaler", "taskchat-gateway")["spec"]
    assert hpa["scaleTargetRef"]["name"] == "taskchat-gateway"
    for name in ("taskchat-gateway", "taskchat-worker"):
        labels = k8s("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        selector = k8s("PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items()
    job = k8s("Job", "taskchat-migrate")["spec"]["template"]["spec"]
    assert job["containers"][0]["args"] == ["migrate"]
    assert job["restartPolicy"] == "Never"


def test_every_pod_runs_as_the_image_user_with_resources() -> None:
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    [user] = re.findall(r"^USER (\d+):(\d+)$", dockerfile, flags=re.MULTILINE)
    assert int(user[0]) != 0
    assert re.search(r"^ARG PYTHON_IMAGE=python:\d+\.\d+\.\d+-slim", dockerfile, re.MULTILINE)
    assert "AS build" in dockerfile  # multi-stage: build tools stay out of the runtime image
    exposed = re.findall(r"^EXPOSE (.+)$", dockerfile, flags=re.MULTILINE)[0].split()
    assert {configmap()["GATEWAY_PORT"], configmap()["WORKER_HEALTH_PORT"]} <= set(exposed)
    for name, kind in (
        ("taskchat-gateway", "Deployment"),
        ("taskchat-worker", "Deployment"),
        ("taskchat-migrate", "Job"),
    ):
        pod = k8s(kind, name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == int(user[0])
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["containers"][0]["resources"]["requests"].keys() == {"cpu", "memory"}
        assert pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False


def test_kustomizations_list_files_that_exist() -> None:
    for folder in (BASE, OVERLAY):
        [kustomization] = documents(folder / "kustomization.yaml")
        for resource in kustomization["resources"]:
            assert (folder / resource).exists(), f"{folder}: {resource}"
    [base] = documents(BASE / "kustomization.yaml")
    assert "secret.example.yaml" not in base["resources"]  # real secrets are made out of band


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_the_example_overlay_renders() -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(OVERLAY)], capture_output=True, text=True, check=True
    ).stdout
    objects = [doc for doc in yaml.safe_load_all(rendered) if doc]
    assert {doc["metadata"]["namespace"] for doc in objects} == {"taskchat"}
    images = {
        c["image"]
        for doc in objects
        if doc["kind"] in ("Deployment", "Job")
        for c in doc["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.example.com/taskchat:0.1.0"}


def test_compose_start_order_health_checks_and_profile() -> None:
    services = compose()["services"]
    assert services["emulator"]["profiles"] == ["offline"]
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in ("gateway", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["emulator"]["required"] is False  # only with --profile offline
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("postgres", "redis", "emulator", "gateway", "worker"):
        assert "healthcheck" in services[name], name
    gateway_env = services["gateway"]["environment"]
    gateway_check = " ".join(services["gateway"]["healthcheck"]["test"])
    assert f":{gateway_env['GATEWAY_PORT']}/readyz'" in gateway_check
    assert "/readyz" in gateway_routes()
    assert services["gateway"]["ports"] == [f"127.0.0.1:8000:{gateway_env['GATEWAY_PORT']}"]
    worker_env = services["worker"]["environment"]
    worker_check = " ".join(services["worker"]["healthcheck"]["test"])
    assert f":{worker_env['WORKER_HEALTH_PORT']}/healthz'" in worker_check
    commands = {name: services[name].get("command") for name in services}
    assert commands["gateway"] == ["gateway"] and commands["worker"] == ["worker"]
