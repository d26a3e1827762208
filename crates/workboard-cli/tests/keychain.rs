//! The OS keychain store on Linux against a real Secret Service (GNOME Keyring in a private
//! D-Bus session: scripts/with-secret-service.sh), and the fallback to the file store where
//! there is no keychain; `workboard status` names the store used.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use workboard_native::workboard_client::store::{check_contract, SharedStore, Swap, Version};
use workboard_native::{CredentialStore, KeychainStore};

const BIN: &str = env!("CARGO_BIN_EXE_workboard");
const INSIDE: &str = "WB_TEST_INSIDE_SECRET_SERVICE";
const CLI_ENV: &[&str] = &[
    "WORKBOARD_ENV",
    "WORKBOARD_SERVER",
    "WORKBOARD_STORE",
    "WORKBOARD_STORE_BACKEND",
    "WORKBOARD_CONFIG_DIR",
];

fn wrapper() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/with-secret-service.sh")
}

/// `workboard ARGS` with its config in `dir`, stdin `input`; (status, stdout, stderr).
fn cli(dir: &Path, args: &[&str], input: &str) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    for v in CLI_ENV {
        cmd.env_remove(v);
    }
    let mut child = cmd
        .env("WORKBOARD_CONFIG_DIR", dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `result` of `--json` output.
fn json(text: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(text.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    v["result"].clone()
}

/// Without a session bus (a headless machine, a container) the CLI uses the file store and
/// `status` says so and why; `--store-backend keychain` is an error with the reason.
#[test]
fn without_a_keychain_the_cli_falls_back_to_the_file_store_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let no_bus = |c: &mut Command| {
        c.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .env("XDG_RUNTIME_DIR", dir.path());
    };
    let mut cmd = Command::new(BIN);
    for v in CLI_ENV {
        cmd.env_remove(v);
    }
    no_bus(&mut cmd);
    let out = cmd
        .env("WORKBOARD_CONFIG_DIR", dir.path())
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(v["store_kind"], "file");
    assert_eq!(
        v["store"],
        dir.path().join("credentials.json").display().to_string()
    );
    assert!(
        v["store_fallback"]
            .as_str()
            .unwrap()
            .contains("no usable OS keychain"),
        "{v}"
    );
    let mut cmd = Command::new(BIN);
    for v in CLI_ENV {
        cmd.env_remove(v);
    }
    no_bus(&mut cmd);
    let out = cmd
        .env("WORKBOARD_CONFIG_DIR", dir.path())
        .args(["status"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Store: file "), "{text}");
    assert!(text.contains("no usable OS keychain"), "{text}");
    let mut cmd = Command::new(BIN);
    for v in CLI_ENV {
        cmd.env_remove(v);
    }
    no_bus(&mut cmd);
    let out = cmd
        .env("WORKBOARD_CONFIG_DIR", dir.path())
        .args(["--store-backend", "keychain", "status"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("keychain"));
}

/// Inside a real Secret Service: the keychain store passes the shared-store contract check
/// (two instances, as two processes would hold them), its values are real keychain items
/// (read back by `secret-tool`, an independent client), and its versions file holds no
/// secret. Run plainly, this test runs itself again inside scripts/with-secret-service.sh
/// and requires that run to pass.
#[test]
fn the_keychain_store_on_a_real_secret_service() {
    if std::env::var_os(INSIDE).is_none() {
        let status = Command::new("bash")
            .arg(wrapper())
            .arg(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "the_keychain_store_on_a_real_secret_service",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(INSIDE, "1")
            .status()
            .unwrap();
        assert!(
            status.success(),
            "the test inside a Secret Service session failed ({status}); it needs \
             dbus-run-session and gnome-keyring-daemon: bash scripts/setup-stores.sh"
        );
        return;
    }
    KeychainStore::probe().expect("a Secret Service in this session");
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("keychain.json");
    let a = KeychainStore::new("contract", &meta).unwrap();
    let b = KeychainStore::new("contract", &meta).unwrap();
    check_contract(&a, &b, &|ms| std::thread::sleep(Duration::from_millis(ms))).unwrap();

    let v = a.get("credentials").unwrap();
    let Swap::Done(_) = a
        .compare_and_swap("credentials", v.version, Some("SECRET-IN-KEYCHAIN"), None)
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        b.load("credentials").unwrap().as_deref(),
        Some("SECRET-IN-KEYCHAIN")
    );
    let found = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            KeychainStore::SERVICE,
            "username",
            "contract:credentials",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&found.stdout), "SECRET-IN-KEYCHAIN");
    let meta_text = std::fs::read_to_string(&meta).unwrap();
    assert!(!meta_text.contains("SECRET"), "{meta_text}");
    assert!(a.get("credentials").unwrap().version > Version(0));

    // The CLI picks the keychain here, stores a personal token in it, and says so.
    let cfg = tempfile::tempdir().unwrap();
    let (ok, _, err) = cli(cfg.path(), &["token", "set"], "wbp_PERSONAL-TOKEN\n");
    assert!(ok, "{err}");
    let (ok, out, err) = cli(cfg.path(), &["status", "--json"], "");
    assert!(ok, "{err}");
    let v = json(&out);
    assert_eq!(v["store_kind"], "keychain", "{v}");
    assert_eq!(v["store_coordination"], "machine", "{v}");
    assert_eq!(v["credentials"], "personal_token");
    assert!(v["store_fallback"].is_null());
    assert!(!cfg.path().join("credentials.json").exists());
    let found = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            KeychainStore::SERVICE,
            "username",
            "default:credentials",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&found.stdout).contains("wbp_PERSONAL-TOKEN"));
    let (_, out, _) = cli(cfg.path(), &["status"], "");
    assert!(out.contains("Store: keychain OS keychain"), "{out}");
    // `logout` forgets it in the keychain too.
    let (ok, _, err) = cli(cfg.path(), &["logout"], "");
    assert!(ok, "{err}");
    let (_, out, _) = cli(cfg.path(), &["status", "--json"], "");
    assert_eq!(json(&out)["credentials"], "none");
}
