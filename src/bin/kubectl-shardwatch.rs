//! The same program as `shardwatch`, named so that `kubectl shardwatch` finds it.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(shardwatch::cli::exit_code(shardwatch::cli::run()))
}
