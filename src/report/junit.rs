//! `--junit FILE`: one testsuite per play, one testcase per host and task, so CI systems
//! show which device failed which step.

use std::fmt::Write;

use super::result::{RunReport, Status};

/// The report as JUnit XML.
pub fn to_junit(report: &RunReport) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total: usize = report
        .plays
        .iter()
        .flat_map(|p| &p.tasks)
        .map(|t| t.hosts.len())
        .sum();
    let _ = writeln!(
        out,
        "<testsuites name=\"netorch\" tests=\"{total}\" time=\"{:.3}\">",
        report.duration_ms as f64 / 1000.0
    );
    for play in &report.plays {
        let cases: Vec<_> = play
            .tasks
            .iter()
            .flat_map(|t| t.hosts.iter().map(move |h| (t, h)))
            .collect();
        let count = |f: &dyn Fn(Status) -> bool| {
            cases
                .iter()
                .filter(|(_, h)| f(h.result.status) && !h.result.ignored)
                .count()
        };
        let failures = count(&|s| s == Status::Failed);
        let errors = count(&|s| s == Status::Unreachable);
        let skipped = cases
            .iter()
            .filter(|(_, h)| h.result.status == Status::Skipped)
            .count();
        let time: u64 = cases.iter().map(|(_, h)| h.result.duration_ms).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{:.3}\">",
            escape(&play.name),
            cases.len(),
            time as f64 / 1000.0
        );
        for (task, host) in cases {
            let r = &host.result;
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&host.host),
                escape(&format!("{} ({})", task.name, task.location)),
                r.duration_ms as f64 / 1000.0
            );
            let msg = r.msg.as_deref().unwrap_or("");
            match r.status {
                Status::Failed if !r.ignored => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                        escape(first_line(msg)),
                        escape(&failure_text(r))
                    );
                }
                Status::Unreachable => {
                    let _ = writeln!(
                        out,
                        ">\n      <error message=\"{}\">{}</error>\n    </testcase>",
                        escape(first_line(msg)),
                        escape(msg)
                    );
                }
                Status::Skipped => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(msg)
                    );
                }
                _ => {
                    let _ = writeln!(out, "/>");
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn failure_text(r: &super::result::TaskResult) -> String {
    let mut text = r.msg.clone().unwrap_or_default();
    for c in &r.commands {
        let _ = write!(text, "\n$ {}\n{}", c.command, c.output);
    }
    text
}

pub use crate::xml::escape;

#[cfg(test)]
mod tests {
    use super::super::result::*;
    use super::*;

    #[test]
    fn terminal_controls_never_reach_the_file() {
        let e = escape("a\u{1b}]0;t\u{7}b\u{9b}2Jc\u{7f}d\n");
        assert_eq!(e, "a\u{FFFD}]0;t\u{FFFD}b\u{FFFD}2Jc\u{FFFD}d\n");
    }

    #[test]
    fn junit_parses_and_counts() {
        let mut rep = RunReport::new(vec!["site.yml".into()], false);
        let mut failed = TaskResult::failed("% Invalid input <here> & \u{1b}[0m");
        failed.duration_ms = 20;
        rep.plays.push(PlayReport {
            name: "P \"1\"".into(),
            hosts: vec!["a".into(), "b".into(), "c".into()],
            tasks: vec![TaskReport {
                name: "show".into(),
                location: "site.yml:3".into(),
                hosts: vec![
                    HostTaskResult {
                        host: "a".into(),
                        result: TaskResult::ok(),
                    },
                    HostTaskResult {
                        host: "b".into(),
                        result: failed,
                    },
                    HostTaskResult {
                        host: "c".into(),
                        result: TaskResult::unreachable("refused"),
                    },
                ],
            }],
        });
        let xml = to_junit(&rep);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("tests"), Some("3"));
        assert_eq!(suite.attribute("failures"), Some("1"));
        assert_eq!(suite.attribute("errors"), Some("1"));
        assert_eq!(suite.attribute("name"), Some("P \"1\""));
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert!(failure.attribute("message").unwrap().contains("<here> &"));
    }
}
