//! The same program as `shardwatch`, named so that `kubectl shardwatch` finds it.

fn main() -> color_eyre::Result<()> {
    let code = shardwatch::cli::run()?;
    std::process::exit(code)
}
