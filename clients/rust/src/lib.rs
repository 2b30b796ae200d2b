//! Rust client for memrpc, the gRPC memory service for AI agents.
//!
//! The messages and client stubs of `memrpc.v1` are generated at build time
//! from the repository's `proto/` (prost + tonic), with `serde` support that
//! follows the proto3 JSON mapping (pbjson). See README.md.
//!
//! ```no_run
//! use memrpc_client::v1::GetSessionRequest;
//! use memrpc_client::WorkingMemoryClient;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut sessions = WorkingMemoryClient::connect("http://127.0.0.1:50051").await?;
//! let session = sessions
//!     .get_session(GetSessionRequest {
//!         namespace: "acme".into(),
//!         thread_id: "thread-1".into(),
//!     })
//!     .await?
//!     .into_inner();
//! # Ok(()) }
//! ```

mod errors;
mod wkt;

/// Reading why a call failed: the `ErrorInfo` reason and metadata of a [`tonic::Status`].
pub use errors::{ErrorReasonExt, ERROR_DOMAIN};

/// `google.protobuf.FieldMask` and `google.protobuf.Timestamp`, with the
/// canonical proto3 JSON (the other well-known types are `pbjson_types`').
pub use wkt::{FieldMask, Timestamp};

/// The `memrpc.v1` package: messages, enums and the client stubs
/// (`working_memory_client`, `long_term_memory_client`, `event_log_client`,
/// `namespaces_client`).
#[allow(clippy::all, missing_docs, rustdoc::all)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/memrpc.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/memrpc.v1.serde.rs"));
}

pub use v1::event_log_client::EventLogClient;
pub use v1::long_term_memory_client::LongTermMemoryClient;
pub use v1::namespaces_client::NamespacesClient;
pub use v1::working_memory_client::WorkingMemoryClient;

/// The crates the generated code is built on, re-exported so that callers
/// use the same versions: `tonic` (channels, `Status`), `prost` (binary
/// encoding), `pbjson_types` (well-known types such as `Timestamp`,
/// `Duration`, `Struct`) and `tonic_types` (`StatusExt`, to read the
/// `google.rpc.BadRequest` detail of an error).
pub use {pbjson_types, prost, tonic, tonic_types};
