//! Shell completion scripts and the man page, generated from the command line's clap definition
//! (`gateaudit completions bash|zsh|fish`, `gateaudit man`), so they always name the real subcommands and flags.
//!
//! It only renders text into memory and writes it to the given writer: it must read no file, touch no
//! configuration and talk to no service.

use std::io::{self, Write};

/// The shells `gateaudit completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

impl From<CompletionShell> for clap_complete::Shell {
    fn from(shell: CompletionShell) -> Self {
        match shell {
            CompletionShell::Bash => clap_complete::Shell::Bash,
            CompletionShell::Zsh => clap_complete::Shell::Zsh,
            CompletionShell::Fish => clap_complete::Shell::Fish,
        }
    }
}

/// Writes the completion script of `cmd` for `shell` to `out`. The script is rendered in memory first
/// (`clap_complete` panics when its writer fails), so a closed pipe is an error, not a panic.
pub fn completions(
    cmd: &mut clap::Command,
    shell: CompletionShell,
    out: &mut dyn Write,
) -> io::Result<()> {
    let name = cmd.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(clap_complete::Shell::from(shell), cmd, name, &mut script);
    out.write_all(&script)?;
    out.flush()
}

/// Writes the man page (roff, section 1) of `cmd` to `out`: synopsis, options, and the subcommands.
pub fn man_page(cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    out.write_all(&page)?;
    out.flush()
}
