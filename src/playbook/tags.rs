//! `--tags` / `--skip-tags` selection with Ansible's rules (`ansible/playbook/taggable.py`):
//! no `--tags` means `all`; `all` selects everything except `never`; `always` runs unless
//! `always` itself (or one of the task's other tags) is skipped; `never` tasks run only when
//! one of their tags is asked for; `tagged` / `untagged` select tasks with / without tags.

pub(crate) fn should_run(task_tags: &[String], only: &[String], skip: &[String]) -> bool {
    let untagged = ["untagged".to_string()];
    let tags: &[String] = if task_tags.is_empty() {
        &untagged
    } else {
        task_tags
    };
    let has = |t: &str| tags.iter().any(|x| x == t);
    let any_in = |set: &[String]| tags.iter().any(|x| set.contains(x));
    let skip_has = |t: &str| skip.iter().any(|x| x == t);

    let all = ["all".to_string()];
    let only: &[String] = if only.is_empty() { &all } else { only };
    let only_has = |t: &str| only.iter().any(|x| x == t);
    let run = has("always")
        || (only_has("all") && !has("never"))
        || any_in(only)
        || (only_has("tagged") && !task_tags.is_empty() && !has("never"));
    let mut run = run;
    if run && !skip.is_empty() {
        if skip_has("all") {
            if !has("always") || skip_has("always") {
                run = false;
            }
        } else if any_in(skip) || (skip_has("tagged") && !task_tags.is_empty()) {
            run = false;
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::should_run;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn default_runs_all_but_never() {
        assert!(should_run(&v(&[]), &v(&[]), &v(&[])));
        assert!(should_run(&v(&["ntp"]), &v(&[]), &v(&[])));
        // no --tags behaves as --tags all, which excludes `never`
        assert!(!should_run(&v(&["never"]), &v(&[]), &v(&[])));
        assert!(!should_run(&v(&["never"]), &v(&["all"]), &v(&[])));
    }

    #[test]
    fn only_tags() {
        let only = v(&["ntp"]);
        assert!(should_run(&v(&["ntp", "x"]), &only, &v(&[])));
        assert!(!should_run(&v(&["vlans"]), &only, &v(&[])));
        assert!(!should_run(&v(&[]), &only, &v(&[])));
        assert!(should_run(&v(&["always"]), &only, &v(&[])));
        assert!(should_run(&v(&["never", "ntp"]), &only, &v(&[])));
        assert!(!should_run(&v(&["never", "vlans"]), &only, &v(&[])));
    }

    #[test]
    fn tagged_and_untagged() {
        assert!(should_run(&v(&["a"]), &v(&["tagged"]), &v(&[])));
        assert!(!should_run(&v(&[]), &v(&["tagged"]), &v(&[])));
        assert!(should_run(&v(&[]), &v(&["untagged"]), &v(&[])));
        assert!(!should_run(&v(&["a"]), &v(&["untagged"]), &v(&[])));
        assert!(!should_run(&v(&[]), &v(&[]), &v(&["untagged"])));
    }

    #[test]
    fn skip_tags() {
        assert!(!should_run(&v(&["ntp"]), &v(&[]), &v(&["ntp"])));
        assert!(should_run(&v(&["vlans"]), &v(&[]), &v(&["ntp"])));
        assert!(should_run(&v(&["always"]), &v(&[]), &v(&["all"])));
        assert!(!should_run(&v(&["always"]), &v(&[]), &v(&["always"])));
        assert!(!should_run(
            &v(&["always", "ntp"]),
            &v(&["x"]),
            &v(&["ntp"])
        ));
    }
}
