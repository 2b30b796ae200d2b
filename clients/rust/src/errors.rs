//! Why a call failed, as a program can read it.
//!
//! Every error status the memrpc server returns carries, in its
//! `grpc-status-details-bin` trailer, a `google.rpc.ErrorInfo` of domain
//! `memrpc.dev` whose `reason` names a [`v1::ErrorReason`] value and whose
//! `metadata` holds that reason's values (`currentVersion` on a version
//! mismatch, `field` on an invalid field, ...; see
//! proto/memrpc/v1/error_reason.proto). [`ErrorReasonExt`] reads them from a
//! [`tonic::Status`]. A status without that ErrorInfo (one made by gRPC
//! itself, such as a deadline that expired in transit), and a reason newer
//! than this client, read as [`v1::ErrorReason::Unspecified`]: act on the
//! status code alone then.

use std::collections::HashMap;

use tonic::Status;
use tonic_types::{ErrorDetail, ErrorInfo, StatusExt};

use crate::v1;

/// The `ErrorInfo.domain` of the reasons the memrpc server gives.
pub const ERROR_DOMAIN: &str = "memrpc.dev";

/// Reads the memrpc `ErrorInfo` of a failed call's [`Status`].
///
/// ```
/// use memrpc_client::tonic::Status;
/// use memrpc_client::v1::ErrorReason;
/// use memrpc_client::ErrorReasonExt;
///
/// fn on_error(status: &Status) {
///     if status.error_reason() == ErrorReason::VersionMismatch {
///         let current = status.error_metadata().get("currentVersion").cloned();
///         // ... read the resource again, retry with its version
///     }
/// }
/// ```
pub trait ErrorReasonExt {
    /// The `google.rpc.ErrorInfo` of domain `memrpc.dev`, if the status carries one.
    fn error_info(&self) -> Option<ErrorInfo>;

    /// Why the call failed: [`v1::ErrorReason::Unspecified`] when the status
    /// gives no reason, or one this client does not know.
    fn error_reason(&self) -> v1::ErrorReason {
        self.error_info()
            .and_then(|info| v1::ErrorReason::from_str_name(&info.reason))
            .unwrap_or(v1::ErrorReason::Unspecified)
    }

    /// The metadata of the reason (lowerCamelCase keys), empty when it gives none.
    fn error_metadata(&self) -> HashMap<String, String> {
        self.error_info()
            .map(|info| info.metadata)
            .unwrap_or_default()
    }
}

impl ErrorReasonExt for Status {
    fn error_info(&self) -> Option<ErrorInfo> {
        self.get_error_details_vec()
            .into_iter()
            .find_map(|detail| match detail {
                ErrorDetail::ErrorInfo(info) if info.domain == ERROR_DOMAIN => Some(info),
                _ => None,
            })
    }
}
