// Rich errors of memrpc: every failed call carries a google.rpc.Status in
// the `grpc-status-details-bin` trailer (grpc::Status::error_details()),
// and invalid requests a google.rpc.BadRequest detail naming the fields.
#ifndef MEMRPC_ERRORS_H_
#define MEMRPC_ERRORS_H_

#include <optional>
#include <string>
#include <vector>

#include <grpcpp/support/status.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace memrpc {

// The google.rpc.Status of a failed call, or nullopt when the server sent none.
std::optional<google::rpc::Status> RichStatus(const grpc::Status& status);

// The google.rpc.BadRequest detail of a failed call, or nullopt.
std::optional<google::rpc::BadRequest> BadRequestOf(const grpc::Status& status);

// The fields named by the BadRequest details (`memories[1].text`, ...), in order.
std::vector<std::string> InvalidFields(const grpc::Status& status);

}  // namespace memrpc

#endif  // MEMRPC_ERRORS_H_
