//! Compiles the gRPC contract in `proto/` into server stubs and a descriptor set for reflection.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
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
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .build_client(false)
        .codec_path("crate::grpc::codec::Codec")
        .file_descriptor_set_path(out.join("skinledger_descriptor.bin"))
        .compile_with_config(config, &protos, &[root])?;
    println!("cargo:rerun-if-changed=../../proto");
    Ok(())
}
