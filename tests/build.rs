//! Compiles the gRPC contract in `proto/` into client stubs, so the tests call the server as a
//! client built from the published contract would.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../proto");
    let mut protos: Vec<PathBuf> = std::fs::read_dir(root.join("skinledger/v1"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "proto"))
        .collect();
    protos.sort();
    let mut config = prost_build::Config::new();
    // A vendored protoc, so that building needs nothing installed beyond the Rust toolchain.
    match std::env::var_os("PROTOC") {
        Some(protoc) => config.protoc_executable(protoc),
        None => config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?),
    };
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .compile_with_config(config, &protos, &[root])?;
    println!("cargo:rerun-if-changed=../proto");
    Ok(())
}
