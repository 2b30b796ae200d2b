// A program of a memrpc C++ client user: UpdateSession, AppendTurns, GetSession.
//   consumer TARGET NAMESPACE THREAD
#include <chrono>
#include <iostream>
#include <memory>

#include "memrpc/client.h"

namespace {

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

int Fail(const char* call, const grpc::Status& status) {
  std::cerr << call << ": " << status.error_code() << " " << status.error_message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: consumer TARGET NAMESPACE THREAD\n";
    return 2;
  }
  auto channel = grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials());
  auto stub = memrpc::v1::WorkingMemory::NewStub(channel);

  memrpc::v1::UpdateSessionRequest update;
  update.set_namespace_(argv[2]);
  update.set_thread_id(argv[3]);
  update.mutable_session()->set_goal("installed cpp package");
  update.mutable_update_mask()->add_paths("goal");
  memrpc::v1::UpdateSessionResponse updated;
  grpc::Status status = stub->UpdateSession(Context().get(), update, &updated);
  if (!status.ok()) return Fail("UpdateSession", status);

  memrpc::v1::AppendTurnsRequest append;
  append.set_namespace_(argv[2]);
  append.set_thread_id(argv[3]);
  auto* turn = append.add_turns();
  turn->set_role("user");
  turn->set_content("hello from the cpp package");
  memrpc::v1::AppendTurnsResponse appended;
  status = stub->AppendTurns(Context().get(), append, &appended);
  if (!status.ok()) return Fail("AppendTurns", status);

  memrpc::v1::GetSessionRequest get;
  get.set_namespace_(argv[2]);
  get.set_thread_id(argv[3]);
  memrpc::v1::GetSessionResponse got;
  status = stub->GetSession(Context().get(), get, &got);
  if (!status.ok()) return Fail("GetSession", status);
  if (got.session().goal() != "installed cpp package" || got.session().turns_size() != 1) {
    std::cerr << "unexpected session: " << got.session().DebugString() << "\n";
    return 1;
  }
  std::cout << "cpp: session version " << got.session().version() << "\n";
  return 0;
}
