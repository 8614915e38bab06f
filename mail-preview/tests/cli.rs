//! The `mail-preview` binary: `check` passes on the real templates and fails, naming template,
//! fixture, locale and rule, on the deliberately broken fixture; `serve` and `export` produce the
//! preview.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mail-preview");

fn broken_dir() -> String {
    format!("{}/tests/broken", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn check_passes_on_the_real_templates() {
    let out = Command::new(BIN).arg("check").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn check_fails_on_the_broken_fixture_naming_where_and_why() {
    let out = Command::new(BIN).args(["check", "--fixtures", &broken_dir()]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL login_link/insecure-link [en] https-links: href=\"http://app.example.com/verify-login"),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL login_link/insecure-link [de] https-links"), "{stdout}");
    assert!(stdout.contains("0 passed, 4 failed"), "{stdout}");
    // The same link is fine once it is the configured login URL.
    let allowed = Command::new(BIN)
        .args(["check", "--fixtures", &broken_dir(), "--login-url", "http://app.example.com/verify-login"])
        .output()
        .unwrap();
    assert!(allowed.status.success(), "{}", String::from_utf8_lossy(&allowed.stdout));
}

#[test]
fn serve_refuses_to_listen_beyond_loopback() {
    let out = Command::new(BIN).args(["serve", "--addr", "0.0.0.0:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[test]
fn serve_answers_with_the_index_the_email_and_the_eml() {
    let mut child = Command::new(BIN).args(["serve", "--addr", "127.0.0.1:0"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
    let addr =
        first_line.split("http://").nth(1).and_then(|r| r.split('/').next()).expect("address printed").to_string();
    let get = |path: &str| testkit::http_get(&addr, path).unwrap();

    let (_, index) = get("/?t=login_link&f=default&l=fr");
    let index = index.expect("index is 200");
    assert!(index.contains("Connexion à Acme"), "subject in the header panel");
    assert!(index.contains("id=\"h-tags\">template=login_link, locale=fr<"), "tags");
    assert!(index.contains("welcome") && index.contains("long-username"), "every template and fixture listed");

    let (_, email) = get("/email.html?t=login_link&f=default&l=de&dark=true");
    let email = email.unwrap();
    assert!(email.contains("<html lang=\"de\"") && email.contains("@media all"), "dark mode applied");

    let (_, eml) = get("/email.eml?t=welcome&f=default&l=en");
    assert!(eml.unwrap().contains("Subject: Welcome to Acme\r\n"));

    let (status, _) = get("/email.html?t=login_link&f=nope&l=en");
    assert!(status.contains("404"), "{status}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_fixture_that_does_not_render_shows_the_error_overlay() {
    let dir = testkit::temp_path("preview-bad");
    std::fs::create_dir_all(dir.join("login_link/fixtures")).unwrap();
    std::fs::write(dir.join("login_link/fixtures/oops.json"), "{\"version\": 1, \"template\": \"login_link\"}")
        .unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--fixtures", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
    let addr = first_line.split("http://").nth(1).and_then(|r| r.split('/').next()).unwrap().to_string();
    let (_, page) = testkit::http_get(&addr, "/").unwrap();
    let page = page.unwrap();
    assert!(page.contains("class=\"error-overlay\"") && page.contains("Rendering failed"), "{page}");
    assert!(page.contains("oops.json is not a valid mail job"), "{page}");
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn export_writes_an_index_and_every_sample() {
    let dir = testkit::temp_path("preview-export");
    let out = Command::new(BIN).args(["export", dir.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(index.contains("href=\"login_link/default/de.html\""), "{index}");
    for file in [
        "login_link/default/de.html",
        "login_link/default/de.txt",
        "login_link/default/de.eml",
        "welcome/long-username/fr.email-dark.html",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let page = std::fs::read_to_string(dir.join("login_link/default/de.html")).unwrap();
    assert!(page.contains("src=\"../../login_link/default/de.email.html\""), "frame link relative to the page");
    let text = std::fs::read_to_string(dir.join("login_link/default/de.txt")).unwrap();
    assert!(text.contains("482 913"));
    std::fs::remove_dir_all(dir).unwrap();
}
