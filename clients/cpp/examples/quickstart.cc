// One call of each memrpc service, an agent step (GetContext, then
// AppendTurns), then a TailEvents stream that is resumed from its last cursor. Built with the client (clients/cpp/generate):
//
//   clients/cpp/build/memrpc-quickstart 127.0.0.1:50051 [namespace]
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "memrpc/client.h"

namespace v1 = memrpc::v1;

// Where a tail stands: thread id -> the last event id seen there.
using Cursors = std::map<std::string, std::string>;

// Reads a TailEvents stream from `cursors`, keeping them current, until
// `want` events arrived (then cancels). Returns the events' ids.
std::vector<std::string> Tail(v1::EventLog::Stub& events, const std::string& ns,
                              Cursors& cursors, size_t want) {
  v1::TailEventsRequest request;
  request.set_namespace_(ns);
  for (const auto& [thread, after] : cursors) {
    auto* cursor = request.add_cursors();
    cursor->set_thread_id(thread);
    cursor->set_after_event_id(after);  // "" = from now, "0" = from the start
  }
  grpc::ClientContext context;
  auto reader = events.TailEvents(&context, request);
  std::vector<std::string> seen;
  v1::TailEventsResponse message;
  while (seen.size() < want && reader->Read(&message)) {
    if (message.has_checkpoint()) {  // first, then on quiet heartbeats
      for (const auto& c : message.checkpoint().cursors()) cursors[c.thread_id()] = c.after_event_id();
    } else {
      const v1::Event& event = message.event();
      cursors[event.thread_id()] = event.id();
      seen.push_back(event.id());
      std::cout << "event " << event.id() << " " << event.type() << "\n";
    }
  }
  context.TryCancel();  // done: stop the stream
  grpc::Status status = reader->Finish();
  if (seen.size() < want) {  // ended early: reconnect with `cursors` to resume
    std::cerr << "tail ended: " << status.error_code() << " " << status.error_message() << "\n";
  }
  return seen;
}

int main(int argc, char** argv) {
  const std::string target = argc > 1 ? argv[1] : "127.0.0.1:50051";
  const std::string ns = argc > 2 ? argv[2] : "quickstart";

  // Plaintext. For TLS: grpc::SslCredentials(grpc::SslCredentialsOptions()).
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());

  // Working memory: append a turn to a thread's session (created if needed).
  auto working = v1::WorkingMemory::NewStub(channel);
  {
    v1::AppendTurnsRequest request;
    request.set_namespace_(ns);
    request.set_thread_id("thread-1");
    request.set_user_id("alice");
    auto* turn = request.add_turns();
    turn->set_role("user");
    turn->set_content("Find me a flight to Oslo");
    v1::AppendTurnsResponse response;
    grpc::ClientContext context;
    grpc::Status status = working->AppendTurns(&context, request, &response);
    if (!status.ok()) {
      std::cerr << "AppendTurns: " << status.error_message() << "\n";
      for (const auto& field : memrpc::InvalidFields(status)) std::cerr << "  bad field " << field << "\n";
      return 1;
    }
    std::cout << "session version " << response.version() << "\n";
  }

  // Long-term memory: store a fact, then search by meaning.
  auto long_term = v1::LongTermMemory::NewStub(channel);
  {
    v1::CreateMemoriesRequest create;
    create.set_namespace_(ns);
    auto* memory = create.add_memories();
    memory->set_text("Alice is allergic to peanuts");
    memory->set_user_id("alice");
    memory->set_kind(v1::MEMORY_KIND_SEMANTIC);
    v1::CreateMemoriesResponse created;
    grpc::ClientContext context;
    if (grpc::Status status = long_term->CreateMemories(&context, create, &created); !status.ok()) {
      std::cerr << "CreateMemories: " << status.error_message() << "\n";
      return 1;
    }

    v1::SearchMemoriesRequest search;
    search.set_namespace_(ns);
    search.set_text("What is Alice allergic to?");
    search.mutable_filter()->add_user_ids("alice");
    v1::SearchMemoriesResponse found;
    grpc::ClientContext search_context;
    if (grpc::Status status = long_term->SearchMemories(&search_context, search, &found); !status.ok()) {
      std::cerr << "SearchMemories: " << status.error_message() << "\n";
      return 1;
    }
    for (const auto& match : found.matches()) {
      std::cout << match.distance() << " " << match.memory().text() << "\n";
    }
  }

  // An agent step is two calls. Before the model call, GetContext: the
  // session (goal, running summary, recent turns) and the memories relevant
  // to the message, of the session's user, in one round trip; after it,
  // AppendTurns.
  {
    const std::string message = "What can't I eat?";
    v1::GetContextRequest get;
    get.set_namespace_(ns);
    get.set_thread_id("thread-1");
    get.set_text(message);
    get.set_limit(3);
    v1::GetContextResponse context;
    grpc::ClientContext get_context;
    if (grpc::Status status = working->GetContext(&get_context, get, &context); !status.ok()) {
      std::cerr << "GetContext: " << status.error_message() << "\n";
      return 1;
    }
    // context.has_session() is false for a thread without a session.
    const v1::Session& session = context.session();
    std::string reply = "[" + std::to_string(session.turns_size()) + " recent turns; earlier: " +
                        session.summary().text() + "] " + std::to_string(context.matches_size()) +
                        " memories recalled";  // your LLM call

    v1::AppendTurnsRequest step;
    step.set_namespace_(ns);
    step.set_thread_id("thread-1");
    auto* asked = step.add_turns();
    asked->set_role("user");
    asked->set_content(message);
    auto* answered = step.add_turns();
    answered->set_role("assistant");
    answered->set_content(reply);
    v1::AppendTurnsResponse recorded;
    grpc::ClientContext append_context;
    if (grpc::Status status = working->AppendTurns(&append_context, step, &recorded); !status.ok()) {
      std::cerr << "AppendTurns: " << status.error_message() << "\n";
      return 1;
    }
    std::cout << "agent step: session version " << recorded.version() << "\n";
  }

  // Event log: append events to a thread.
  auto events = v1::EventLog::NewStub(channel);
  auto append = [&](const std::string& type) {
    v1::AppendEventsRequest request;
    request.set_namespace_(ns);
    request.set_thread_id("thread-2");
    auto* event = request.add_events();
    event->set_type(type);
    (*event->mutable_json()->mutable_fields())["step"].set_string_value(type);
    v1::AppendEventsResponse response;
    grpc::ClientContext context;
    return events->AppendEvents(&context, request, &response);
  };
  if (grpc::Status status = append("plan"); !status.ok()) {
    std::cerr << "AppendEvents: " << status.error_message() << "\n";
    return 1;
  }

  // Tail from the start of thread-2 until one event arrived, then resume from
  // the saved cursor: only events after it are delivered.
  Cursors cursors{{"thread-2", "0"}};
  Tail(*events, ns, cursors, 1);
  if (grpc::Status status = append("act"); !status.ok()) return 1;
  auto resumed = Tail(*events, ns, cursors, 1);
  std::cout << "resumed at " << cursors["thread-2"] << "\n";
  return resumed.size() == 1 ? 0 : 1;
}
