//! The `shardwatch` binary.

fn main() -> color_eyre::Result<()> {
    let code = shardwatch::cli::run()?;
    std::process::exit(code)
}
