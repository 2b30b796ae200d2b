// Rich errors of memrpc: every failed call carries a google.rpc.Status in
// the `grpc-status-details-bin` trailer (grpc::Status::error_details()).
// Every status the server itself returns has a google.rpc.ErrorInfo of domain
// `memrpc.dev` whose reason names a memrpc::v1::ErrorReason value, with the
// reason's metadata (see proto/memrpc/v1/error_reason.proto); invalid requests
// also carry a google.rpc.BadRequest naming the fields.
//
//   if (memrpc::ReasonOf(status) == memrpc::v1::ERROR_REASON_VERSION_MISMATCH) {
//     std::string current = memrpc::ErrorMetadata(status)["currentVersion"];
//     ...
//   }
#ifndef MEMRPC_ERRORS_H_
#define MEMRPC_ERRORS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/support/status.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "memrpc/v1/error_reason.pb.h"

namespace memrpc {

// The domain of every google.rpc.ErrorInfo the memrpc server sends.
inline constexpr char kErrorDomain[] = "memrpc.dev";

// The google.rpc.Status of a failed call, or nullopt when the server sent none.
std::optional<google::rpc::Status> RichStatus(const grpc::Status& status);

// The first google.rpc.ErrorInfo of domain memrpc.dev of a failed call, or
// nullopt (an OK status, or one made by the gRPC library rather than the server).
std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const grpc::Status& status);

// Why a call failed, as the generated enum: ERROR_REASON_UNSPECIFIED when the
// status carries no memrpc ErrorInfo, or a reason this client does not know
// (a newer server's): act on the status code alone then.
v1::ErrorReason ReasonOf(const grpc::Status& status);

// The metadata of the ErrorInfo (keys in lowerCamelCase, e.g.
// `currentVersion`), empty when there is none.
std::map<std::string, std::string> ErrorMetadata(const grpc::Status& status);

// The google.rpc.BadRequest detail of a failed call, or nullopt.
std::optional<google::rpc::BadRequest> BadRequestOf(const grpc::Status& status);

// The fields named by the BadRequest details (`memories[1].text`, ...), in order.
std::vector<std::string> InvalidFields(const grpc::Status& status);

}  // namespace memrpc

#endif  // MEMRPC_ERRORS_H_
