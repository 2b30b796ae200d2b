//! Generates the memrpc.v1 messages (prost), the client stubs (tonic) and
//! their proto3 JSON mapping (pbjson) from `proto/` at build time, into
//! OUT_DIR. Nothing generated is committed.
//!
//! protoc comes from the `protoc-bin-vendored` crate, so no system protoc is
//! needed. Well-known types map to `pbjson_types` (serde per the proto3 JSON
//! mapping), except the two whose pbjson-types JSON is not canonical:
//! `google.protobuf.FieldMask` (`{"paths": [...]}` instead of `"a,b"`) and
//! `google.protobuf.Timestamp` (`+00:00` instead of `Z`), which map to this
//! crate's own types (src/wkt.rs).

use std::env;
use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "memrpc/v1/error_reason.proto",
    "memrpc/v1/working_memory.proto",
    "memrpc/v1/long_term_memory.proto",
    "memrpc/v1/event_log.proto",
    "memrpc/v1/namespace_settings.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    // The repository's proto/ (the crate lives at clients/rust); override
    // with MEMRPC_PROTO_DIR when building from elsewhere.
    println!("cargo:rerun-if-env-changed=MEMRPC_PROTO_DIR");
    let proto_dir = match env::var_os("MEMRPC_PROTO_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest_dir.join("../../proto"),
    };
    let proto_dir = proto_dir
        .canonicalize()
        .map_err(|err| format!("memrpc protos not found at {}: {err}", proto_dir.display()))?;
    // google/api/field_behavior.proto, which the protos import: `make`
    // copies it into .tools/googleapis (see buf.yaml); override with
    // MEMRPC_GOOGLEAPIS_DIR.
    println!("cargo:rerun-if-env-changed=MEMRPC_GOOGLEAPIS_DIR");
    let googleapis_dir = match env::var_os("MEMRPC_GOOGLEAPIS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest_dir.join("../../.tools/googleapis"),
    };
    let googleapis_dir = googleapis_dir.canonicalize().map_err(|err| {
        format!(
            "google/api protos not found at {} (run `make generate`): {err}",
            googleapis_dir.display()
        )
    })?;
    let protos: Vec<PathBuf> = PROTOS.iter().map(|p| proto_dir.join(p)).collect();
    for proto in &protos {
        println!("cargo:rerun-if-changed={}", proto.display());
    }

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptor_path = out_dir.join("memrpc_descriptor.bin");

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    let wkt_include = protoc_bin_vendored::include_path()?;

    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .build_transport(true)
        .emit_rerun_if_changed(false)
        .file_descriptor_set_path(&descriptor_path)
        .compile_well_known_types(true)
        .extern_path(".google.protobuf.FieldMask", "crate::FieldMask")
        .extern_path(".google.protobuf.Timestamp", "crate::Timestamp")
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_with_config(config, &protos, &[proto_dir, googleapis_dir, wkt_include])?;

    let descriptor_set = std::fs::read(&descriptor_path)?;
    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_set)?
        .build(&[".memrpc"])?;
    Ok(())
}
