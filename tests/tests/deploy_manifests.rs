//! Static checks of the deployment files under `deploy/`: they parse, and the settings the server
//! relies on (probes, non-root, config sources, migrations, autoscaling) are where they must be.

#![expect(clippy::expect_used, reason = "tests")]

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize as _;
use serde_json::Value;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every YAML document of one file, as JSON values. Empty documents are skipped.
fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = read(path);
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|document| {
            Value::deserialize(document)
                .unwrap_or_else(|e| panic!("{} does not parse as YAML: {e}", path.display()))
        })
        .filter(|value| !value.is_null())
        .collect()
}

fn k8s_files() -> Vec<PathBuf> {
    let dir = deploy_dir().join("k8s");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    files
}

fn k8s_documents() -> Vec<(PathBuf, Value)> {
    k8s_files()
        .into_iter()
        .flat_map(|path| {
            yaml_documents(&path)
                .into_iter()
                .map(move |document| (path.clone(), document))
        })
        .collect()
}

/// The single Kubernetes object of the given kind.
fn object_of_kind(kind: &str) -> Value {
    let mut found: Vec<Value> = k8s_documents()
        .into_iter()
        .map(|(_, document)| document)
        .filter(|document| document["kind"] == kind)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {kind} under deploy/k8s"
    );
    found.remove(0)
}

fn str_of<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} should be a string, is {value}"))
}

fn array_of<'a>(value: &'a Value, what: &str) -> &'a Vec<Value> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{what} should be a list, is {value}"))
}

fn deployment() -> Value {
    object_of_kind("Deployment")
}

/// The skinledger container of a pod template (the only container, or the one named skinledger).
fn main_container(pod_template: &Value) -> &Value {
    let containers = array_of(&pod_template["spec"]["containers"], "containers");
    assert!(!containers.is_empty(), "the pod template has no containers");
    containers
        .iter()
        .find(|c| c["name"] == "skinledger")
        .unwrap_or(&containers[0])
}

/// Whether a probe's `port` (number or name) designates the container's port 8080.
fn probe_port_is_container_port(container: &Value, port: &Value) -> bool {
    array_of(&container["ports"], "container ports")
        .iter()
        .any(|p| p["containerPort"] == 8080 && (*port == p["containerPort"] || *port == p["name"]))
}

fn env_var<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["env"]
        .as_array()
        .and_then(|env| env.iter().find(|e| e["name"] == name))
}

/// Whether the pod runs as a non-root user, judged from pod and container security contexts.
fn runs_as_non_root(pod_template: &Value, container: &Value) -> bool {
    let pod = &pod_template["spec"]["securityContext"];
    let own = &container["securityContext"];
    let pick = |key: &str| {
        if own[key].is_null() {
            pod[key].clone()
        } else {
            own[key].clone()
        }
    };
    let non_root = pick("runAsNonRoot") == true;
    let user = pick("runAsUser");
    non_root && user.as_u64().is_some_and(|uid| uid != 0)
}

#[test]
fn every_yaml_file_under_deploy_parses_and_each_kubernetes_document_has_api_version_kind_and_name()
{
    let compose = yaml_documents(&deploy_dir().join("compose.yaml"));
    assert_eq!(compose.len(), 1, "compose.yaml should hold one document");

    let files = k8s_files();
    assert!(!files.is_empty(), "deploy/k8s holds no YAML files");
    for path in files {
        let documents = yaml_documents(&path);
        assert!(!documents.is_empty(), "{} is empty", path.display());
        for document in documents {
            for field in ["apiVersion", "kind"] {
                assert!(
                    document[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{} has a document without {field}",
                    path.display()
                );
            }
            assert!(
                document["metadata"]["name"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "{} has a document without metadata.name",
                path.display()
            );
            assert!(
                document["metadata"]["namespace"].is_null(),
                "{} should be namespace-agnostic",
                path.display()
            );
            assert_eq!(
                document["metadata"]["labels"]["app.kubernetes.io/name"],
                "skinledger",
                "{} lacks the label app.kubernetes.io/name: skinledger",
                path.display()
            );
        }
    }
}

#[test]
fn the_deployment_runs_at_least_two_replicas_with_rolling_updates() {
    let deployment = deployment();
    let replicas = deployment["spec"]["replicas"]
        .as_u64()
        .expect("spec.replicas should be a number");
    assert!(replicas >= 2, "replicas is {replicas}");
    assert_eq!(deployment["spec"]["strategy"]["type"], "RollingUpdate");
}

#[test]
fn the_deployment_probes_readiness_on_readyz_and_liveness_on_healthz_at_the_container_port() {
    let deployment = deployment();
    let template = &deployment["spec"]["template"];
    let container = main_container(template);

    for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe} should GET {path}");
        assert!(
            probe_port_is_container_port(container, &get["port"]),
            "{probe} port {} is not the container port 8080",
            get["port"]
        );
    }
}

#[test]
fn the_deployment_sets_cpu_and_memory_requests_and_limits() {
    let deployment = deployment();
    let container = main_container(&deployment["spec"]["template"]);
    for bound in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            let value = &container["resources"][bound][resource];
            assert!(
                value.is_string() || value.is_number(),
                "resources.{bound}.{resource} is missing"
            );
        }
    }
}

#[test]
fn the_deployment_runs_as_non_root_with_a_read_only_root_filesystem() {
    let deployment = deployment();
    let template = &deployment["spec"]["template"];
    let container = main_container(template);
    assert!(runs_as_non_root(template, container));

    let security = &container["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert!(
        array_of(&security["capabilities"]["drop"], "capabilities.drop").contains(&"ALL".into())
    );
    let data_mounted = array_of(&container["volumeMounts"], "volumeMounts")
        .iter()
        .any(|m| m["mountPath"] == "/app/data");
    assert!(data_mounted, "/app/data must be writable (an emptyDir)");
}

#[test]
fn the_deployment_takes_config_from_the_configmap_and_the_database_url_from_the_secret() {
    let deployment = deployment();
    let container = main_container(&deployment["spec"]["template"]);
    let config_map = object_of_kind("ConfigMap");
    let secret = object_of_kind("Secret");

    let config_map_name = str_of(&config_map["metadata"]["name"], "ConfigMap name");
    let from_config_map = array_of(&container["envFrom"], "envFrom")
        .iter()
        .any(|source| source["configMapRef"]["name"] == config_map_name);
    assert!(from_config_map, "envFrom should name {config_map_name}");

    let database_url = env_var(container, "SKINLEDGER_DATABASE_URL")
        .expect("SKINLEDGER_DATABASE_URL should be set");
    let reference = &database_url["valueFrom"]["secretKeyRef"];
    assert_eq!(reference["name"], secret["metadata"]["name"]);
    let key = str_of(&reference["key"], "secretKeyRef.key");
    assert!(
        !secret["stringData"][key].is_null() || !secret["data"][key].is_null(),
        "the Secret has no key {key}"
    );
}

#[test]
fn the_deployment_reads_the_signing_key_from_a_file_mounted_from_the_secret() {
    let deployment = deployment();
    let template = &deployment["spec"]["template"];
    let container = main_container(template);
    let secret = object_of_kind("Secret");

    let file = env_var(container, "SKINLEDGER_SIGNING_KEY_FILE")
        .expect("SKINLEDGER_SIGNING_KEY_FILE should be set");
    let file = str_of(&file["value"], "SKINLEDGER_SIGNING_KEY_FILE");
    assert_eq!(file, "/etc/skinledger/signing.key");

    let secret_volumes: Vec<&str> = array_of(&template["spec"]["volumes"], "volumes")
        .iter()
        .filter(|v| v["secret"]["secretName"] == secret["metadata"]["name"])
        .map(|v| str_of(&v["name"], "volume name"))
        .collect();
    let mounted = array_of(&container["volumeMounts"], "volumeMounts")
        .iter()
        .any(|m| {
            m["mountPath"] == "/etc/skinledger"
                && m["name"]
                    .as_str()
                    .is_some_and(|n| secret_volumes.contains(&n))
        });
    assert!(mounted, "the Secret should be mounted at /etc/skinledger");
    assert!(!secret["stringData"]["signing.key"].is_null());
}

#[test]
fn the_configmap_turns_off_migrations_at_start() {
    let config_map = object_of_kind("ConfigMap");
    assert_eq!(config_map["data"]["SKINLEDGER_RUN_MIGRATIONS"], "false");
    assert_eq!(config_map["data"]["SKINLEDGER_LISTEN_ADDR"], "0.0.0.0:8080");
}

#[test]
fn a_pod_drains_before_it_stops_within_its_termination_grace_period() {
    let deployment = deployment();
    let pod = &deployment["spec"]["template"];
    let container = main_container(pod);
    let pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_u64()
        .expect("a preStop sleep, so endpoints stop sending traffic before SIGTERM");
    let drain: u64 = object_of_kind("ConfigMap")["data"]["SKINLEDGER_SHUTDOWN_GRACE_SECS"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("SKINLEDGER_SHUTDOWN_GRACE_SECS in the ConfigMap");
    let period = pod["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .expect("terminationGracePeriodSeconds");
    assert!(pre_stop > 0 && drain > 0);
    // What is under way after the drain gets 20 s before the kubelet kills the pod.
    assert!(
        pre_stop + drain + 20 <= period,
        "preStop {pre_stop} s + drain {drain} s + 20 s exceeds terminationGracePeriodSeconds {period}"
    );
}

#[test]
fn the_service_selects_the_deployments_pod_labels() {
    let deployment = deployment();
    let service = object_of_kind("Service");
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let selector = service["spec"]["selector"]
        .as_object()
        .expect("the Service should have a selector");
    assert!(!selector.is_empty(), "the Service selector is empty");
    for (key, value) in selector {
        assert_eq!(&pod_labels[key], value, "pods lack the label {key}");
    }

    let container = main_container(&deployment["spec"]["template"]);
    let ports = array_of(&service["spec"]["ports"], "Service ports");
    assert!(
        ports.iter().any(|p| p["port"] == 8080
            && p["name"] == "http"
            && probe_port_is_container_port(container, &p["targetPort"])),
        "the Service should expose port 8080 named http onto the container port"
    );
}

#[test]
fn the_hpa_targets_the_deployment_with_at_least_two_replicas() {
    let deployment = deployment();
    let hpa = object_of_kind("HorizontalPodAutoscaler");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    let target = &hpa["spec"]["scaleTargetRef"];
    assert_eq!(target["kind"], "Deployment");
    assert_eq!(target["name"], deployment["metadata"]["name"]);
    let min = hpa["spec"]["minReplicas"]
        .as_u64()
        .expect("minReplicas should be a number");
    let max = hpa["spec"]["maxReplicas"]
        .as_u64()
        .expect("maxReplicas should be a number");
    assert!(min >= 2, "minReplicas is {min}");
    assert!(max >= min, "maxReplicas {max} is below minReplicas {min}");
}

#[test]
fn the_migration_job_runs_migrate_with_the_deployments_image_and_security() {
    let deployment = deployment();
    let job = object_of_kind("Job");
    let template = &job["spec"]["template"];
    let container = main_container(template);

    let words: Vec<&str> = [&container["command"], &container["args"]]
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(words.contains(&"migrate"), "the Job runs {words:?}");

    let served = main_container(&deployment["spec"]["template"]);
    assert_eq!(container["image"], served["image"]);
    assert_eq!(container["envFrom"], served["envFrom"]);
    assert_eq!(
        env_var(container, "SKINLEDGER_DATABASE_URL"),
        env_var(served, "SKINLEDGER_DATABASE_URL")
    );
    assert!(runs_as_non_root(template, container));
    assert_eq!(template["spec"]["restartPolicy"], "Never");
    assert!(job["spec"]["backoffLimit"].is_u64());
    assert!(job["spec"]["ttlSecondsAfterFinished"].is_u64());
}

#[test]
fn compose_has_a_healthchecked_db_and_skinledger_waits_for_it_to_be_healthy() {
    let compose = yaml_documents(&deploy_dir().join("compose.yaml")).remove(0);
    let services = &compose["services"];

    let db = &services["db"];
    assert!(
        str_of(&db["image"], "db image").starts_with("postgres:"),
        "db should run PostgreSQL"
    );
    assert!(
        !db["healthcheck"]["test"].is_null(),
        "db needs a healthcheck"
    );

    let server = &services["skinledger"];
    assert_eq!(
        server["depends_on"]["db"]["condition"], "service_healthy",
        "skinledger should wait for a healthy db"
    );
    assert_eq!(server["build"]["context"], "..");
    assert_eq!(server["build"]["dockerfile"], "deploy/Dockerfile");
    let url = str_of(
        &server["environment"]["SKINLEDGER_DATABASE_URL"],
        "SKINLEDGER_DATABASE_URL",
    );
    assert!(url.starts_with("postgres://") && url.contains("@db:5432/"));
    assert_eq!(
        server["environment"]["SKINLEDGER_SIGNING_KEY_FILE"],
        "/run/secrets/signing_key"
    );
    assert!(!compose["secrets"]["signing_key"]["file"].is_null());
}

#[test]
fn the_dockerfile_has_at_least_two_stages_and_runs_as_a_non_root_user() {
    let dockerfile = read(&deploy_dir().join("Dockerfile"));
    let instructions: Vec<(String, String)> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let (word, rest) = line.split_once(char::is_whitespace)?;
            Some((word.to_ascii_uppercase(), rest.trim().to_owned()))
        })
        .collect();

    let stages = instructions
        .iter()
        .filter(|(word, _)| word == "FROM")
        .count();
    assert!(stages >= 2, "the Dockerfile has {stages} FROM stage(s)");

    let last_from = instructions
        .iter()
        .rposition(|(word, _)| word == "FROM")
        .expect("a FROM");
    let user = instructions[last_from..]
        .iter()
        .rev()
        .find(|(word, _)| word == "USER")
        .map(|(_, rest)| rest.as_str())
        .expect("the final stage should set USER");
    let name = user.split(':').next().unwrap_or(user);
    assert!(
        name != "root" && name != "0" && !name.is_empty(),
        "USER {user} is root"
    );
}
