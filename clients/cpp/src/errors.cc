#include "memrpc/errors.h"

namespace memrpc {
namespace {

// Every detail of type T in the status, in order, for which keep(detail) holds.
template <class T, class Keep>
std::vector<T> DetailsOf(const grpc::Status& status, Keep keep) {
  std::vector<T> found;
  auto rich = RichStatus(status);
  if (!rich) return found;
  for (const auto& any : rich->details()) {
    T detail;
    if (any.Is<T>() && any.UnpackTo(&detail) && keep(detail)) found.push_back(std::move(detail));
  }
  return found;
}

template <class T>
std::optional<T> FirstOf(std::vector<T> details) {
  if (details.empty()) return std::nullopt;
  return std::move(details.front());
}

}  // namespace

std::optional<google::rpc::Status> RichStatus(const grpc::Status& status) {
  if (status.ok() || status.error_details().empty()) return std::nullopt;
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return std::nullopt;
  return rich;
}

std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const grpc::Status& status) {
  return FirstOf(DetailsOf<google::rpc::ErrorInfo>(
      status, [](const google::rpc::ErrorInfo& info) { return info.domain() == kErrorDomain; }));
}

v1::ErrorReason ReasonOf(const grpc::Status& status) {
  auto info = ErrorInfoOf(status);
  v1::ErrorReason reason = v1::ERROR_REASON_UNSPECIFIED;
  if (info && !v1::ErrorReason_Parse(info->reason(), &reason)) {
    reason = v1::ERROR_REASON_UNSPECIFIED;
  }
  return reason;
}

std::map<std::string, std::string> ErrorMetadata(const grpc::Status& status) {
  auto info = ErrorInfoOf(status);
  if (!info) return {};
  return {info->metadata().begin(), info->metadata().end()};
}

std::optional<google::rpc::BadRequest> BadRequestOf(const grpc::Status& status) {
  return FirstOf(
      DetailsOf<google::rpc::BadRequest>(status, [](const google::rpc::BadRequest&) { return true; }));
}

std::vector<std::string> InvalidFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  for (const auto& bad : DetailsOf<google::rpc::BadRequest>(
           status, [](const google::rpc::BadRequest&) { return true; })) {
    for (const auto& violation : bad.field_violations()) fields.push_back(violation.field());
  }
  return fields;
}

}  // namespace memrpc
