// Package memrpc holds the hand-written helpers of the Go client of memrpc;
// the generated messages and gRPC stubs are in package memrpcv1
// (github.com/memrpc/memrpc/clients/go/memrpc/v1).
//
// Every error status the memrpc server returns carries, in its
// grpc-status-details-bin trailer, a google.rpc.ErrorInfo of domain
// memrpc.dev whose reason names a memrpcv1.ErrorReason value and whose
// metadata holds that reason's values (currentVersion on a version mismatch,
// field on an invalid field, ...; see proto/memrpc/v1/error_reason.proto).
// Reason and ErrorMetadata read them from the error of a failed call:
//
//	_, err := client.UpdateMemory(ctx, req)
//	if memrpc.Reason(err) == memrpcv1.ErrorReason_ERROR_REASON_VERSION_MISMATCH {
//		current := memrpc.ErrorMetadata(err)["currentVersion"]
//		...
//	}
//
// A status without that ErrorInfo (one made by gRPC itself, such as a
// deadline that expired in transit), and a reason newer than this client,
// read as ERROR_REASON_UNSPECIFIED: act on the status code alone then.
package memrpc

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	memrpcv1 "github.com/memrpc/memrpc/clients/go/memrpc/v1"
)

// Domain is the ErrorInfo domain of the reasons the memrpc server gives.
const Domain = "memrpc.dev"

// ErrorInfo returns the google.rpc.ErrorInfo of domain memrpc.dev that the
// error of a call carries, or nil.
func ErrorInfo(err error) *errdetails.ErrorInfo {
	st, ok := status.FromError(err)
	if !ok || st == nil {
		return nil
	}
	for _, detail := range st.Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok && info.GetDomain() == Domain {
			return info
		}
	}
	return nil
}

// Reason returns why a call failed: ERROR_REASON_UNSPECIFIED when its error
// gives no reason, or one this client does not know.
func Reason(err error) memrpcv1.ErrorReason {
	if value, ok := memrpcv1.ErrorReason_value[ErrorInfo(err).GetReason()]; ok {
		return memrpcv1.ErrorReason(value)
	}
	return memrpcv1.ErrorReason_ERROR_REASON_UNSPECIFIED
}

// ErrorMetadata returns the metadata of the error's reason (lowerCamelCase
// keys), nil when it gives none.
func ErrorMetadata(err error) map[string]string {
	return ErrorInfo(err).GetMetadata()
}
