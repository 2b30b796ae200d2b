// Everything a memrpc client needs: the typed stubs of the four services
// (memrpc::v1::WorkingMemory, LongTermMemory, EventLog, Namespaces), their
// messages, and the rich-error helpers of errors.h.
#ifndef MEMRPC_CLIENT_H_
#define MEMRPC_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include "memrpc/errors.h"
#include "memrpc/v1/event_log.grpc.pb.h"
#include "memrpc/v1/long_term_memory.grpc.pb.h"
#include "memrpc/v1/namespace_settings.grpc.pb.h"
#include "memrpc/v1/working_memory.grpc.pb.h"

#endif  // MEMRPC_CLIENT_H_
