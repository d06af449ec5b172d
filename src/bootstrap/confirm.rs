//! The confirmation `up --target current` asks before its forced server-side apply into
//! someone's cluster: after the dry run, naming the context and the server; y/N on the
//! terminal (plain output) or on the progress screen, unless `--yes`.

use std::io::IsTerminal;

use color_eyre::eyre::Result;

use super::apply::Summary;
use super::steps::Steps;

/// How `up --target current` confirms its apply after showing the dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// `--yes`: apply without asking.
    Yes,
    /// Ask y/N on the terminal (plain output); refuse when stdin is not one.
    AskOnTerminal,
    /// Ask on the progress screen (the TUI path): y applies, anything else refuses.
    AskOnScreen,
}

/// `up --target current` was not confirmed; nothing was applied (exit code 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotConfirmed(pub String);

impl std::fmt::Display for NotConfirmed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotConfirmed {}

/// The question, naming where the apply would write and how much (the list of names may
/// have scrolled away on a small screen).
pub fn question(context: &str, server: &str, preview: &Summary) -> String {
    format!(
        "Apply this to context {context} at {server} (create {}, change {}; a forced server-side apply: \
         fields other managers own are taken over)?",
        preview.created.len(),
        preview.changed.len()
    )
}

/// Asks `question` unless `--yes` or the dry run found nothing to change; Err when not
/// confirmed or it cannot be asked.
pub async fn confirm_current(
    confirm: Confirm,
    question: &str,
    preview: &Summary,
    steps: &mut Steps,
) -> Result<()> {
    let refuse = |why: &str| {
        Err(NotConfirmed(format!("refusing `up --target current`: {why}; nothing was applied")).into())
    };
    match confirm {
        Confirm::Yes => Ok(()),
        // Nothing would be created or changed: there is nothing to agree to.
        _ if preview.nothing_changed() => {
            steps.detail("nothing would change, so nothing is asked");
            Ok(())
        }
        Confirm::AskOnTerminal if !std::io::stdin().is_terminal() => refuse(
            "stdin is not a terminal, so it cannot be confirmed; pass --yes to confirm non-interactively",
        ),
        Confirm::AskOnTerminal => {
            let question = question.to_string();
            // Off the async task, so Ctrl-C still ends `up` while it waits for an answer.
            let answer = tokio::task::spawn_blocking(move || {
                eprint!("{question} y/N: ");
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map(|_| line)
            })
            .await??;
            if is_yes(&answer) { Ok(()) } else { refuse("not confirmed") }
        }
        Confirm::AskOnScreen => match steps.ask(question).await {
            Some(true) => Ok(()),
            _ => refuse("not confirmed"),
        },
    }
}

/// Only an explicit yes confirms (Enter alone is the default, no).
fn is_yes(answer: &str) -> bool {
    matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_yes_confirms() {
        for yes in ["y\n", "Y", " yes \n"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n\n", "no", "yep", "y y"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn the_question_names_context_and_server() {
        let preview = Summary { created: vec!["Namespace/x".into()], unchanged: 4, ..Summary::default() };
        let q = question("kwok-x", "https://127.0.0.1:6443", &preview);
        assert!(
            q.starts_with("Apply this to context kwok-x at https://127.0.0.1:6443 (create 1, change 0; "),
            "{q}"
        );
        assert!(q.contains("forced server-side apply"), "{q}");
    }

    #[tokio::test]
    async fn the_screen_answers_and_a_gone_screen_refuses() {
        let preview = Summary { created: vec!["Namespace/x".into()], ..Summary::default() };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (answer, answers) = tokio::sync::mpsc::unbounded_channel();
        let mut steps = Steps::to_screen(tx, answers);
        answer.send(true).unwrap();
        confirm_current(Confirm::AskOnScreen, "Apply?", &preview, &mut steps).await.unwrap();
        assert!(
            matches!(rx.try_recv(), Ok((_, super::super::steps::Progress::Question(q))) if q == "Apply?")
        );
        answer.send(false).unwrap();
        let e = confirm_current(Confirm::AskOnScreen, "Apply?", &preview, &mut steps).await.unwrap_err();
        assert!(e.downcast_ref::<NotConfirmed>().is_some(), "{e}");
        drop(answer);
        let e = confirm_current(Confirm::AskOnScreen, "Apply?", &preview, &mut steps).await.unwrap_err();
        assert!(e.to_string().contains("nothing was applied"), "{e}");
        // Plain output has no screen: asked there, it refuses.
        let mut plain = Steps::new();
        assert!(confirm_current(Confirm::AskOnScreen, "Apply?", &preview, &mut plain).await.is_err());
        assert!(
            confirm_current(Confirm::AskOnScreen, "Apply?", &Summary::default(), &mut plain).await.is_ok()
        );
    }
}
