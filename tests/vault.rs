//! Ansible Vault: files and values encrypted at test time by the real `ansible-vault` (the
//! pinned oracle), read by netorch: vaulted group_vars, inline `!vault` values, vault ids
//! (1.2 envelopes), password files and scripts, errors, masking, and Ansible's own reading
//! of the same data as the reference.

use std::path::Path;
use std::process::Output;

use crate::util::{self, ansible, netorch};

const DEFAULT_PW: &str = "correct horse battery";
const PROD_PW: &str = "prod-Vault-pw-77";

/// `ansible::command`, with an empty configuration file of our own: ansible-core 2.19
/// refuses `ANSIBLE_CONFIG=/dev/null` ("Unsupported configuration file extension").
fn oracle(program: &str, dir: &Path) -> std::process::Command {
    let cfg = util::write(dir, ".oracle/ansible.cfg", "");
    let mut cmd = ansible::command(program, dir);
    cmd.env("ANSIBLE_CONFIG", cfg);
    cmd
}

/// A folder with the two password files (`pw`, `prodpw`).
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    util::write(dir.path(), "pw", &format!("{DEFAULT_PW}\n"));
    util::write(dir.path(), "prodpw", &format!("{PROD_PW}\n"));
    dir
}

/// `ansible-vault encrypt` of `name` in place, with `id_args` (`--vault-id prod@prodpw`).
fn encrypt_file(dir: &Path, name: &str, id_args: &[&str]) {
    let mut cmd = oracle("ansible-vault", dir);
    cmd.arg("encrypt").args(id_args).arg(name);
    ansible::run_ok(&mut cmd);
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    assert!(text.starts_with("$ANSIBLE_VAULT;"), "{text}");
}

/// `ansible-vault encrypt_string`: the `!vault |` YAML value (without the name), indented
/// by `indent` spaces for its place in a file.
fn encrypt_string(dir: &Path, value: &str, id_args: &[&str], indent: usize) -> String {
    let mut cmd = oracle("ansible-vault", dir);
    cmd.arg("encrypt_string").args(id_args).arg(value);
    let out = ansible::run_ok(&mut cmd);
    let text = String::from_utf8(out.stdout).unwrap();
    let text = text.trim_start().strip_prefix("!vault |").unwrap_or(&text);
    let pad = " ".repeat(indent);
    let body: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{pad}{l}"))
        .collect();
    format!("!vault |\n{}", body.join("\n"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `netorch ARGS` in `dir`, with no vault variables from the environment.
fn nt(dir: &Path, args: &[&str]) -> Output {
    netorch()
        .current_dir(dir)
        .env_remove("ANSIBLE_VAULT_PASSWORD_FILE")
        .env_remove("ANSIBLE_VAULT_IDENTITY_LIST")
        .args(args)
        .output()
        .unwrap()
}

/// An inventory of one local host: a vaulted file in a group_vars folder (default id,
/// 1.1), a vaulted host_vars file (id `prod`, 1.2) and an inline value for `prod`.
fn vaulted_inventory(dir: &Path) {
    util::write(
        dir,
        "group_vars/all/vault.yml",
        "ntp_key: Vlt-Ntp-Key-4471\n",
    );
    encrypt_file(
        dir,
        "group_vars/all/vault.yml",
        &["--vault-password-file", "pw"],
    );
    util::write(dir, "host_vars/r1.yml", "site_name: ams-vaulted-site\n");
    encrypt_file(dir, "host_vars/r1.yml", &["--vault-id", "prod@prodpw"]);
    let inline = encrypt_string(dir, "Vlt-Snmp-Ro-9023", &["--vault-id", "prod@prodpw"], 10);
    util::write(
        dir,
        "hosts.yml",
        &format!(
            "all:\n  hosts:\n    r1:\n      ansible_connection: local\n      snmp_ro: {inline}\n"
        ),
    );
}

const PLAINTEXTS: [&str; 3] = ["Vlt-Ntp-Key-4471", "Vlt-Snmp-Ro-9023", "ams-vaulted-site"];

#[test]
fn vaulted_group_vars_and_inline_values_match_what_ansible_decrypts() {
    let dir = workdir();
    let d = dir.path();
    vaulted_inventory(d);
    util::write(
        d,
        "show.j2",
        "{{ ntp_key }}|{{ snmp_ro }}|{{ site_name }}\n",
    );
    let ids = ["--vault-id", "pw", "--vault-id", "prod@prodpw"];

    // The reference: Ansible's own reading of the same files.
    util::write(
        d,
        "show.yml",
        "- hosts: r1\n  gather_facts: false\n  tasks:\n    - debug:\n        msg: \
         \"VALUE={{ ntp_key }}|{{ snmp_ro }}|{{ site_name }}\"\n",
    );
    let mut cmd = oracle("ansible-playbook", d);
    cmd.args(["-i", "hosts.yml", "show.yml"]).args(ids);
    let out = ansible::run_ok(&mut cmd);
    let ansible_says = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            let l = l.trim().trim_start_matches("\"msg\": \"");
            l.strip_prefix("VALUE=")
                .map(|v| v.trim_end_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("{}", text(&out)));
    assert_eq!(ansible_says, PLAINTEXTS.join("|"));

    // netorch decrypts the same values (shown only when asked to).
    let mut args = vec!["template", "-i", "hosts.yml", "--host", "r1", "show.j2"];
    args.extend(ids);
    let out = nt(d, &[args.as_slice(), &["--show-secrets"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        ansible_says
    );

    // By default every decrypted value is masked, whatever its variable is called.
    let out = nt(d, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        "********|********|********"
    );
    let mut args = vec!["inventory", "-i", "hosts.yml", "host", "r1"];
    args.extend(ids);
    let out = nt(d, &args);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("ntp_key: ********"), "{shown}");
    assert!(shown.contains("snmp_ro: ********"), "{shown}");
    for p in PLAINTEXTS.iter().chain([&DEFAULT_PW, &PROD_PW]) {
        assert!(!shown.contains(p), "{p} shown: {shown}");
    }
}

#[test]
fn missing_wrong_and_corrupt_vaults_are_clear_errors() {
    let dir = workdir();
    let d = dir.path();
    vaulted_inventory(d);
    let inv = ["inventory", "-i", "hosts.yml", "host", "r1"];

    // No password: the vaulted file needs one at load; the error says how to give it.
    let out = nt(d, &inv);
    let e = text(&out);
    assert_eq!(out.status.code(), Some(4), "{e}");
    assert!(e.contains("group_vars/all/vault.yml"), "{e}");
    assert!(e.contains("no vault password was given"), "{e}");
    assert!(e.contains("--vault-password-file"), "{e}");

    // A wrong password: which ids were tried.
    let out = nt(
        d,
        &[inv.as_slice(), &["--vault-id", "prod@prodpw"]].concat(),
    );
    let e = text(&out);
    assert_eq!(out.status.code(), Some(4), "{e}");
    assert!(
        e.contains("group_vars/all/vault.yml")
            && e.contains("decryption failed: no vault secret matched (tried ids: prod)"),
        "{e}"
    );
    assert!(!e.contains(PROD_PW), "{e}");

    // A truncated file: refused, naming the file, never a panic.
    let whole = std::fs::read_to_string(d.join("group_vars/all/vault.yml")).unwrap();
    util::write(d, "group_vars/all/vault.yml", &whole[..whole.len() / 2]);
    let out = nt(
        d,
        &[inv.as_slice(), &["--vault-password-file", "pw"]].concat(),
    );
    let e = text(&out);
    assert_eq!(out.status.code(), Some(4), "{e}");
    assert!(e.contains("group_vars/all/vault.yml"), "{e}");
    assert!(e.contains("truncated") || e.contains("hexadecimal"), "{e}");

    // --ask-vault-pass with no terminal: refused at once, not hung.
    let out = nt(d, &[inv.as_slice(), &["--ask-vault-pass"]].concat());
    let e = text(&out);
    assert_eq!(out.status.code(), Some(5), "{e}");
    assert!(e.contains("needs a terminal"), "{e}");
}

#[test]
fn password_scripts_client_scripts_and_the_environment() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workdir();
    let d = dir.path();
    vaulted_inventory(d);
    util::write(d, "show.j2", "{{ ntp_key }}|{{ snmp_ro }}\n");
    let script = util::write(d, "pw.sh", &format!("#!/bin/sh\necho '{DEFAULT_PW}'\n"));
    // A client script is asked for the password of the id it is given.
    let client = util::write(
        d,
        "vault-client.sh",
        &format!(
            "#!/bin/sh\n[ \"$1\" = --vault-id ] || exit 3\ncase \"$2\" in prod) echo \
             '{PROD_PW}';; *) echo '{DEFAULT_PW}';; esac\n"
        ),
    );
    for f in [&script, &client] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let show = [
        "template",
        "-i",
        "hosts.yml",
        "--host",
        "r1",
        "show.j2",
        "--show-secrets",
    ];
    let out = nt(
        d,
        &[
            show.as_slice(),
            &[
                "--vault-password-file",
                "pw.sh",
                "--vault-id",
                "prod@vault-client.sh",
            ],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        "Vlt-Ntp-Key-4471|Vlt-Snmp-Ro-9023"
    );

    // A vaulted `-e @file`.
    util::write(d, "extra.yml", "ntp_key: Vlt-Extra-Key-2209\n");
    encrypt_file(d, "extra.yml", &["--vault-password-file", "pw"]);
    let out = nt(
        d,
        &[
            show.as_slice(),
            &[
                "-e",
                "@extra.yml",
                "--vault-id",
                "pw",
                "--vault-id",
                "prod@prodpw",
            ],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        "Vlt-Extra-Key-2209|Vlt-Snmp-Ro-9023"
    );

    // ANSIBLE_VAULT_PASSWORD_FILE and ANSIBLE_VAULT_IDENTITY_LIST, as Ansible reads them.
    let out = netorch()
        .current_dir(d)
        .env("ANSIBLE_VAULT_PASSWORD_FILE", "pw")
        .env("ANSIBLE_VAULT_IDENTITY_LIST", "prod@prodpw")
        .args(show)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        "Vlt-Ntp-Key-4471|Vlt-Snmp-Ro-9023"
    );

    // A script that fails gives no password, and says so.
    let bad = util::write(d, "bad.sh", "#!/bin/sh\nexit 7\n");
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = nt(
        d,
        &[show.as_slice(), &["--vault-password-file", "bad.sh"]].concat(),
    );
    let e = text(&out);
    assert_eq!(out.status.code(), Some(5), "{e}");
    assert!(e.contains("bad.sh") && e.contains("failed"), "{e}");
}

/// A playbook against the simulator: the device password is an inline vaulted value
/// (1.2, id `prod`), a vaulted vars_files holds a value the tasks use, an inline value
/// for an id no password is given for is never used (and needs none), and no plaintext
/// appears in the output or the JSON report.
#[test]
fn a_run_against_the_simulator_uses_vaulted_credentials_and_never_shows_them() {
    let device_pw = "Vlt-Device-Pw-5531";
    let sim = util::sim::Sim::with("cisco_ios", 1)
        .password(device_pw)
        .start();
    let d = sim.dir.path();
    util::write(d, "pw", &format!("{DEFAULT_PW}\n"));
    util::write(d, "prodpw", &format!("{PROD_PW}\n"));
    // The sim's inventory with its password vaulted inline; plus a value for an id whose
    // password is never given.
    let plain_inv = std::fs::read_to_string(&sim.inventory).unwrap();
    let vaulted_pw = encrypt_string(d, device_pw, &["--vault-id", "prod@prodpw"], 6);
    util::write(d, "otherpw", "not-given-to-netorch\n");
    let unused = encrypt_string(d, "Vlt-Unused-3390", &["--vault-id", "other@otherpw"], 6);
    let inv = plain_inv.replace(
        &format!("    password: {device_pw}\n"),
        &format!("    password: {vaulted_pw}\n    unused_value: {unused}\n"),
    );
    assert_ne!(
        inv, plain_inv,
        "the sim inventory has no `password:` line:\n{plain_inv}"
    );
    util::write(d, "vaulted-inv.yml", &inv);
    util::write(d, "vars/secrets.yml", "banner_word: Vlt-Banner-Word-7261\n");
    encrypt_file(d, "vars/secrets.yml", &["--vault-password-file", "pw"]);
    let playbook = util::write(
        d,
        "site.yml",
        "- hosts: all\n  gather_facts: false\n  vars_files: [vars/secrets.yml]\n  tasks:\n    \
         - command: show version\n    \
         - debug:\n        msg: \"word {{ banner_word }} pw {{ password }}\"\n    \
         - debug:\n        var: banner_word\n",
    );
    let run = |extra: &[&str]| {
        netorch()
            .current_dir(d)
            .env_remove("ANSIBLE_VAULT_PASSWORD_FILE")
            .env_remove("ANSIBLE_VAULT_IDENTITY_LIST")
            .args(["run", "-i", "vaulted-inv.yml"])
            .arg(&playbook)
            .args(extra)
            .output()
            .unwrap()
    };
    let ids = ["--vault-id", "default@pw", "--vault-id", "prod@prodpw"];
    let out = run(&ids);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("word ******** pw ********"), "{shown}");
    let out = run(&[ids.as_slice(), &["--json"]].concat());
    let json = text(&out);
    assert_eq!(out.status.code(), Some(0), "{json}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc.is_object(), "{json}");
    for p in [
        device_pw,
        "Vlt-Banner-Word-7261",
        "Vlt-Unused-3390",
        DEFAULT_PW,
        PROD_PW,
    ] {
        assert!(!shown.contains(p), "{p} shown: {shown}");
        assert!(!json.contains(p), "{p} in the JSON: {json}");
    }

    // `check` and `exec` take the same options.
    let out = nt(
        d,
        &[
            &["check", "-i", "vaulted-inv.yml", "site.yml"],
            ids.as_slice(),
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = nt(
        d,
        &[
            &["exec", "-i", "vaulted-inv.yml", "show clock"],
            ids.as_slice(),
        ]
        .concat(),
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(!shown.contains(device_pw), "{shown}");

    // Without the prod password the device password cannot be decrypted: the run is
    // refused, naming the variable, where it is written, and the ids tried.
    let out = run(&["--vault-password-file", "pw"]);
    let e = text(&out);
    assert_ne!(out.status.code(), Some(0), "{e}");
    assert!(e.contains("`password`"), "{e}");
    assert!(e.contains("vaulted-inv.yml:"), "{e}");
    assert!(
        e.contains("no vault secret matched (tried ids: default)"),
        "{e}"
    );
}

/// Ansible decrypts inline values lazily: a run that never uses one needs no password.
#[test]
fn an_unused_inline_value_needs_no_password_and_a_used_one_says_which_flag() {
    let dir = workdir();
    let d = dir.path();
    let inline = encrypt_string(d, "Vlt-Lazy-1188", &["--vault-password-file", "pw"], 10);
    util::write(
        d,
        "hosts.yml",
        &format!(
            "all:\n  hosts:\n    r1:\n      ansible_connection: local\n      \
             lazy_value: {inline}\n      plain: visible-text\n"
        ),
    );
    util::write(d, "plain.j2", "{{ plain }}\n");
    util::write(d, "lazy.j2", "{{ lazy_value }}\n");
    let out = nt(
        d,
        &["template", "-i", "hosts.yml", "--host", "r1", "plain.j2"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "visible-text\n");

    let out = nt(
        d,
        &["template", "-i", "hosts.yml", "--host", "r1", "lazy.j2"],
    );
    let e = text(&out);
    assert_ne!(out.status.code(), Some(0), "{e}");
    assert!(e.contains("`lazy_value`"), "{e}");
    assert!(e.contains("hosts.yml:5"), "{e}");
    assert!(e.contains("no vault password was given"), "{e}");
    assert!(e.contains("--vault-password-file"), "{e}");

    let out = nt(
        d,
        &[
            "template",
            "-i",
            "hosts.yml",
            "--host",
            "r1",
            "lazy.j2",
            "--vault-password-file",
            "pw",
            "--show-secrets",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Vlt-Lazy-1188\n");
}

/// A dynamic inventory gives vaulted values in Ansible's JSON form
/// (`{"__ansible_vault": "..."}`); Ansible decrypts them when used, and so does netorch.
#[test]
fn a_dynamic_inventory_may_give_vaulted_values_in_ansibles_json_form() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workdir();
    let d = dir.path();
    util::write(d, "plain.txt", "Vlt-Script-Val-6610");
    let mut cmd = oracle("ansible-vault", d);
    cmd.args([
        "encrypt",
        "--vault-password-file",
        "pw",
        "--output",
        "-",
        "plain.txt",
    ]);
    let envelope = String::from_utf8(ansible::run_ok(&mut cmd).stdout).unwrap();
    let doc = serde_json::json!({
        "_meta": {"hostvars": {"r1": {
            "ansible_connection": "local",
            "tok": {"__ansible_vault": envelope},
        }}},
        "all": {"hosts": ["r1"]},
    });
    let script = util::write(
        d,
        "inv.sh",
        &format!("#!/bin/sh\ncat <<'EOF'\n{doc}\nEOF\n"),
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    util::write(
        d,
        "show.yml",
        "- hosts: r1\n  gather_facts: false\n  tasks:\n    - debug:\n        msg: \"V={{ tok }}\"\n",
    );
    let mut cmd = oracle("ansible-playbook", d);
    cmd.args(["-i", "inv.sh", "show.yml", "--vault-password-file", "pw"]);
    let out = ansible::run_ok(&mut cmd);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"msg\": \"V=Vlt-Script-Val-6610\""),
        "{}",
        text(&out)
    );
    util::write(d, "tok.j2", "V={{ tok }}\n");
    let show = ["template", "-i", "inv.sh", "--host", "r1", "tok.j2"];
    let with_pw = [show.as_slice(), &["--vault-password-file", "pw"]].concat();
    let out = nt(d, &[with_pw.as_slice(), &["--show-secrets"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "V=Vlt-Script-Val-6610\n"
    );
    let out = nt(d, &with_pw);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "V=********\n");
    let out = nt(d, &show);
    let e = text(&out);
    assert_ne!(out.status.code(), Some(0), "{e}");
    assert!(
        e.contains("`tok`") && e.contains("no vault password was given"),
        "{e}"
    );
}

/// `--ask-vault-pass` on a terminal (a pseudo-terminal from util-linux `script`): the
/// prompt is shown, the password typed is not echoed, and it opens the vault.
#[test]
fn ask_vault_pass_prompts_on_a_terminal_without_echo() {
    let dir = workdir();
    let d = dir.path();
    vaulted_inventory(d);
    util::write(d, "show.j2", "{{ ntp_key }}\n");
    let cmdline = format!(
        "{} template -i hosts.yml --host r1 show.j2 --ask-vault-pass --vault-id prod@prodpw \
         --show-secrets",
        env!("CARGO_BIN_EXE_netorch")
    );
    // The password is typed once the prompt is up (typed earlier, the terminal would
    // echo it before netorch turned echo off, as it would for any program).
    let out = std::process::Command::new("sh")
        .current_dir(d)
        .env_remove("ANSIBLE_VAULT_PASSWORD_FILE")
        .env_remove("ANSIBLE_VAULT_IDENTITY_LIST")
        .arg("-c")
        .arg(format!(
            "(sleep 2; printf '%s\\n' '{DEFAULT_PW}') | script -qec '{cmdline}' /dev/null"
        ))
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.starts_with("Vault password: "), "{shown}");
    assert!(shown.contains("Vlt-Ntp-Key-4471"), "{shown}");
    assert!(
        !shown.contains(DEFAULT_PW),
        "the password was echoed: {shown}"
    );
}

/// A whole inventory file encrypted with ansible-vault is read, as Ansible reads it.
#[test]
fn a_vaulted_inventory_file_is_read() {
    let dir = workdir();
    let d = dir.path();
    util::write(
        d,
        "hosts.yml",
        "all:\n  hosts:\n    r9:\n      ansible_connection: local\n      role_name: vaulted-inv-role\n",
    );
    encrypt_file(d, "hosts.yml", &["--vault-password-file", "pw"]);
    util::write(
        d,
        "show.yml",
        "- hosts: r9\n  gather_facts: false\n  tasks:\n    - debug:\n        msg: \"V={{ role_name }}\"\n",
    );
    let mut cmd = oracle("ansible-playbook", d);
    cmd.args(["-i", "hosts.yml", "show.yml", "--vault-password-file", "pw"]);
    let out = ansible::run_ok(&mut cmd);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"msg\": \"V=vaulted-inv-role\""),
        "{}",
        text(&out)
    );
    let out = nt(
        d,
        &[
            "inventory",
            "-i",
            "hosts.yml",
            "host",
            "r9",
            "--vault-password-file",
            "pw",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("inventory_hostname: r9"),
        "{}",
        text(&out)
    );
    let out = nt(d, &["inventory", "-i", "hosts.yml", "list"]);
    let e = text(&out);
    assert_eq!(out.status.code(), Some(4), "{e}");
    assert!(
        e.contains("hosts.yml") && e.contains("no vault password was given"),
        "{e}"
    );
}
