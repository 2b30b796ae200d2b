#include "memrpc/errors.h"

namespace memrpc {

std::optional<google::rpc::Status> RichStatus(const grpc::Status& status) {
  if (status.ok() || status.error_details().empty()) return std::nullopt;
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return std::nullopt;
  return rich;
}

std::optional<google::rpc::BadRequest> BadRequestOf(const grpc::Status& status) {
  auto rich = RichStatus(status);
  if (!rich) return std::nullopt;
  for (const auto& detail : rich->details()) {
    google::rpc::BadRequest bad;
    if (detail.Is<google::rpc::BadRequest>() && detail.UnpackTo(&bad)) return bad;
  }
  return std::nullopt;
}

std::vector<std::string> InvalidFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  auto rich = RichStatus(status);
  if (!rich) return fields;
  for (const auto& detail : rich->details()) {
    google::rpc::BadRequest bad;
    if (!detail.Is<google::rpc::BadRequest>() || !detail.UnpackTo(&bad)) continue;
    for (const auto& violation : bad.field_violations()) fields.push_back(violation.field());
  }
  return fields;
}

}  // namespace memrpc
