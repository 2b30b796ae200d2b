// The C++ conformance runner: runs a scenario with the generated C++ stubs
// of clients/cpp against a live memrpc server. The format is described in
// tests/conformance/README.md; runners/python/runner.py is the reference.
//
//   memrpc-conformance --target HOST:PORT --scenario FILE [--var NAME=VALUE]...
//                      [--service-config FILE]
//
// `run` passes the published service config, clients/service-config.json,
// which the channel then uses.
//
// JSON goes through protobuf's own proto3 JSON mapping: requests are parsed
// with JsonStringToMessage (unknown fields rejected), responses printed with
// MessageToJsonString (lowerCamelCase, defaults omitted), and the scenario
// itself is read as a google.protobuf.Value.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "memrpc/client.h"

namespace {

using google::protobuf::Message;
using google::protobuf::Value;
using Clock = std::chrono::system_clock;

constexpr auto kNextTimeout = std::chrono::seconds(10);
constexpr auto kCallTimeout = std::chrono::seconds(30);

// A step's outcome differs from its expectation.
struct StepFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",   "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",      "UNAVAILABLE",      "DATA_LOSS",
      "UNAUTHENTICATED"};
  int index = static_cast<int>(code);
  return index >= 0 && index <= 16 ? kNames[index] : "UNKNOWN";
}

// --- JSON through google.protobuf.Value ------------------------------------

std::string ToJson(const Message& message) {
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out);
  if (!status.ok()) throw StepFailed("cannot print JSON: " + status.ToString());
  return out;
}

Value ParseValue(const std::string& json) {
  Value value;
  auto status = google::protobuf::util::JsonStringToMessage(json, &value);
  if (!status.ok()) throw StepFailed("invalid JSON: " + status.ToString());
  return value;
}

// `actual` as JSON text, for messages (nullptr is "absent").
std::string Show(const Value* actual) { return actual ? ToJson(*actual) : "absent"; }

// The member `key` of an object, or nullptr.
const Value* Get(const Value& object, const std::string& key) {
  if (object.kind_case() != Value::kStructValue) return nullptr;
  const auto& fields = object.struct_value().fields();
  auto it = fields.find(key);
  return it == fields.end() ? nullptr : &it->second;
}

const Value& Require(const Value& object, const std::string& key) {
  const Value* value = Get(object, key);
  if (!value) throw StepFailed("missing key '" + key + "'");
  return *value;
}

// The keys of an object, sorted (protobuf maps have no order).
std::vector<std::string> Keys(const Value& object) {
  std::vector<std::string> keys;
  for (const auto& [key, _] : object.struct_value().fields()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// --- variables ----------------------------------------------------------------

using Variables = std::map<std::string, std::string>;

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// `text` with every `${name}` replaced by the variable's value.
std::string SubstituteString(const std::string& text, const Variables& variables) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = text.find("${", pos);
    if (start == std::string::npos) break;
    size_t end = start + 2;
    while (end < text.size() && IsNameChar(text[end])) ++end;
    if (end == start + 2 || end >= text.size() || text[end] != '}') {
      out.append(text, pos, start + 2 - pos);  // not a reference: keep it
      pos = start + 2;
      continue;
    }
    std::string name = text.substr(start + 2, end - start - 2);
    auto it = variables.find(name);
    if (it == variables.end()) throw StepFailed("unknown variable '" + name + "'");
    out.append(text, pos, start - pos);
    out += it->second;
    pos = end + 1;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

// `value` with every `${name}` in its strings replaced.
Value Substitute(const Value& value, const Variables& variables) {
  Value out = value;
  switch (value.kind_case()) {
    case Value::kStringValue:
      out.set_string_value(SubstituteString(value.string_value(), variables));
      break;
    case Value::kListValue:
      for (auto& item : *out.mutable_list_value()->mutable_values()) item = Substitute(item, variables);
      break;
    case Value::kStructValue:
      for (auto& [_, field] : *out.mutable_struct_value()->mutable_fields()) {
        field = Substitute(field, variables);
      }
      break;
    default:
      break;
  }
  return out;
}

// --- matching -----------------------------------------------------------------

double NumberOf(const Value* actual, const std::string& where) {
  if (!actual) return 0;  // absent counts as 0
  if (actual->kind_case() == Value::kNumberValue) return actual->number_value();
  if (actual->kind_case() == Value::kStringValue) {
    const std::string& text = actual->string_value();
    char* end = nullptr;
    double number = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size()) return number;
  }
  throw StepFailed(where + ": expected a number, got " + Show(actual));
}

bool IsEmpty(const Value& v) {
  switch (v.kind_case()) {
    case Value::kStringValue: return v.string_value().empty() || v.string_value() == "0";
    case Value::kNumberValue: return v.number_value() == 0;
    case Value::kBoolValue: return !v.bool_value();
    case Value::kListValue: return v.list_value().values().empty();
    case Value::kStructValue: return v.struct_value().fields().empty();
    default: return true;  // null
  }
}

// Throws StepFailed unless `actual` (canonical JSON; nullptr when absent)
// satisfies `expected`.
void Match(const Value& expected, const Value* actual, const std::string& path = "") {
  const std::string where = path.empty() ? "response" : path;
  auto fail = [&](const std::string& want) {
    throw StepFailed(where + ": expected " + want + ", got " + Show(actual));
  };
  switch (expected.kind_case()) {
    case Value::kStringValue: {
      const std::string& want = expected.string_value();
      if (!want.empty() && want[0] == '$') {
        bool ok;
        if (want == "$any") {
          ok = actual != nullptr;
        } else if (want == "$absent") {
          ok = actual == nullptr;
        } else if (want == "$nonempty") {
          ok = actual != nullptr && !IsEmpty(*actual);
        } else if (want.rfind("$lte:", 0) == 0 || want.rfind("$gte:", 0) == 0) {
          double bound = std::stod(want.substr(5));
          double number = NumberOf(actual, where);
          ok = want[1] == 'l' ? number <= bound : number >= bound;
        } else {
          throw StepFailed(where + ": unknown matcher '" + want + "'");
        }
        if (!ok) fail(want);
        return;
      }
      if (!actual || actual->kind_case() != Value::kStringValue || actual->string_value() != want) {
        fail(ToJson(expected));
      }
      return;
    }
    case Value::kStructValue: {
      if (!actual || actual->kind_case() != Value::kStructValue) fail("an object");
      for (const auto& key : Keys(expected)) {
        Match(expected.struct_value().fields().at(key), Get(*actual, key),
              path.empty() ? key : path + "." + key);
      }
      return;
    }
    case Value::kListValue: {
      const auto& want = expected.list_value().values();
      if (!actual || actual->kind_case() != Value::kListValue ||
          actual->list_value().values_size() != want.size()) {
        fail(std::to_string(want.size()) + " items");
      }
      for (int i = 0; i < want.size(); ++i) {
        Match(want[i], &actual->list_value().values(i), path + "." + std::to_string(i));
      }
      return;
    }
    case Value::kNumberValue:
      if (!actual || actual->kind_case() != Value::kNumberValue ||
          actual->number_value() != expected.number_value()) {
        fail(ToJson(expected));
      }
      return;
    case Value::kBoolValue:
      if (!actual || actual->kind_case() != Value::kBoolValue ||
          actual->bool_value() != expected.bool_value()) {
        fail(ToJson(expected));
      }
      return;
    default:  // null
      if (!actual || actual->kind_case() != Value::kNullValue) fail("null");
      return;
  }
}

// The value at a dotted path (`results.0.memory.id`), as a string: a string
// as is, anything else as its JSON text.
std::string Lookup(const Value& document, const std::string& path) {
  const Value* value = &document;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    if (value->kind_case() == Value::kListValue) {
      char* end = nullptr;
      long index = std::strtol(part.c_str(), &end, 10);
      if (part.empty() || *end != '\0' || index < 0 || index >= value->list_value().values_size()) {
        throw StepFailed("save: no item '" + part + "' in " + path);
      }
      value = &value->list_value().values(static_cast<int>(index));
    } else {
      value = Get(*value, part);
      if (!value) throw StepFailed("save: no key '" + part + "' in " + path);
    }
  }
  return value->kind_case() == Value::kStringValue ? value->string_value() : ToJson(*value);
}

// --- the typed stubs ----------------------------------------------------------

// A unary method of a typed stub, behind a type-erased signature.
struct Method {
  std::function<std::unique_ptr<Message>()> new_request;
  std::function<grpc::Status(grpc::ClientContext*, const Message&, std::unique_ptr<Message>*)> call;
};

template <class Stub, class Request, class Response>
Method Unary(Stub* stub, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*)) {
  return Method{
      [] { return std::make_unique<Request>(); },
      [stub, rpc](grpc::ClientContext* context, const Message& request,
                  std::unique_ptr<Message>* out) {
        auto response = std::make_unique<Response>();
        grpc::Status status =
            (stub->*rpc)(context, static_cast<const Request&>(request), response.get());
        *out = std::move(response);
        return status;
      }};
}

// A TailEvents stream read on a thread, so that `next` can time out.
class Tail {
 public:
  Tail(memrpc::v1::EventLog::Stub* stub, const memrpc::v1::TailEventsRequest& request) {
    reader_ = stub->TailEvents(&context_, request);
    pump_ = std::thread([this] { Pump(); });
  }

  ~Tail() { Close(); }

  // The next message within 10 s, or nullopt when the stream has ended
  // instead (then `end` is how: every later call gives the same).
  std::optional<memrpc::v1::TailEventsResponse> Next(grpc::Status* end) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!ready_.wait_for(lock, kNextTimeout, [this] { return !messages_.empty() || ended_; })) {
      throw StepFailed("no message within 10 s");
    }
    if (messages_.empty()) {
      *end = end_;
      return std::nullopt;
    }
    auto message = std::move(messages_.front());
    messages_.pop_front();
    return message;
  }

  // Cancels the call and waits for the reading thread.
  void Close() {
    if (!pump_.joinable()) return;
    context_.TryCancel();
    pump_.join();
  }

 private:
  void Pump() {
    memrpc::v1::TailEventsResponse message;
    while (reader_->Read(&message)) {
      std::lock_guard<std::mutex> lock(mutex_);
      messages_.push_back(message);
      ready_.notify_all();
    }
    grpc::Status status = reader_->Finish();
    std::lock_guard<std::mutex> lock(mutex_);
    end_ = status;
    ended_ = true;
    ready_.notify_all();
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<memrpc::v1::TailEventsResponse>> reader_;
  std::thread pump_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<memrpc::v1::TailEventsResponse> messages_;
  bool ended_ = false;
  grpc::Status end_;
};

// --- the runner -----------------------------------------------------------------

class Runner {
 public:
  Runner(const std::shared_ptr<grpc::Channel>& channel, Variables variables)
      : variables_(std::move(variables)),
        working_memory_(memrpc::v1::WorkingMemory::NewStub(channel)),
        long_term_memory_(memrpc::v1::LongTermMemory::NewStub(channel)),
        event_log_(memrpc::v1::EventLog::NewStub(channel)),
        namespaces_(memrpc::v1::Namespaces::NewStub(channel)) {
    using memrpc::v1::EventLog;
    using memrpc::v1::LongTermMemory;
    using memrpc::v1::Namespaces;
    using memrpc::v1::WorkingMemory;
#define MEMRPC_UNARY(stub, Service, Name) \
  methods_["memrpc.v1." #Service "/" #Name] = Unary(stub.get(), &Service::Stub::Name)
    MEMRPC_UNARY(working_memory_, WorkingMemory, GetSession);
    MEMRPC_UNARY(working_memory_, WorkingMemory, UpdateSession);
    MEMRPC_UNARY(working_memory_, WorkingMemory, AppendTurns);
    MEMRPC_UNARY(working_memory_, WorkingMemory, DeleteSession);
    MEMRPC_UNARY(working_memory_, WorkingMemory, ListSessions);
    MEMRPC_UNARY(working_memory_, WorkingMemory, GetContext);
    MEMRPC_UNARY(long_term_memory_, LongTermMemory, CreateMemories);
    MEMRPC_UNARY(long_term_memory_, LongTermMemory, SearchMemories);
    MEMRPC_UNARY(long_term_memory_, LongTermMemory, GetMemory);
    MEMRPC_UNARY(long_term_memory_, LongTermMemory, UpdateMemory);
    MEMRPC_UNARY(long_term_memory_, LongTermMemory, DeleteMemory);
    MEMRPC_UNARY(long_term_memory_, LongTermMemory, DeleteMemories);
    MEMRPC_UNARY(long_term_memory_, LongTermMemory, ListMemories);
    MEMRPC_UNARY(event_log_, EventLog, AppendEvents);
    MEMRPC_UNARY(event_log_, EventLog, ListEvents);
    MEMRPC_UNARY(event_log_, EventLog, TrimEvents);
    MEMRPC_UNARY(event_log_, EventLog, CreateConsumerGroup);
    MEMRPC_UNARY(event_log_, EventLog, DeleteConsumerGroup);
    MEMRPC_UNARY(event_log_, EventLog, ReceiveEvents);
    MEMRPC_UNARY(event_log_, EventLog, AcknowledgeEvents);
    MEMRPC_UNARY(namespaces_, Namespaces, GetNamespaceSettings);
    MEMRPC_UNARY(namespaces_, Namespaces, UpdateNamespaceSettings);
#undef MEMRPC_UNARY
  }

  void RunStep(const Value& step) {
    if (Get(step, "sleep_ms")) {
      std::this_thread::sleep_for(
          std::chrono::milliseconds(static_cast<long>(Require(step, "sleep_ms").number_value())));
    } else if (Get(step, "tail")) {
      RunTail(step);
    } else {
      RunCall(step);
    }
  }

 private:
  // The step's request, substituted, parsed into `request` with the proto3
  // JSON mapping (unknown fields are an error).
  void ParseRequest(const Value& step, Message* request) {
    const Value* json = Get(step, "request");
    if (!json) return;
    std::string text = ToJson(Substitute(*json, variables_));
    auto status = google::protobuf::util::JsonStringToMessage(text, request);
    if (!status.ok()) {
      throw StepFailed("cannot parse the request as " + request->GetTypeName() + ": " +
                       status.ToString());
    }
  }

  // Matches the response against expect.response and saves variables.
  void Check(const Value& step, const Message& response) {
    Value actual = ParseValue(ToJson(response));
    const Value* expect = Get(step, "expect");
    if (const Value* expected = expect ? Get(*expect, "response") : nullptr) {
      Match(Substitute(*expected, variables_), &actual);
    }
    Save(step, actual);
  }

  // Stores the values that the step's `save` names in `document`.
  void Save(const Value& step, const Value& document) {
    if (const Value* save = Get(step, "save")) {
      for (const auto& name : Keys(*save)) {
        variables_[name] = Lookup(document, Require(*save, name).string_value());
      }
    }
  }

  // The step's expect.<key>, or nullptr.
  static const Value* Expected(const Value& step, const std::string& key) {
    const Value* expect = Get(step, "expect");
    return expect ? Get(*expect, key) : nullptr;
  }

  // The step's expected status code name (OK when absent).
  static std::string ExpectedCode(const Value& step) {
    const Value* code = Expected(step, "code");
    return code ? code->string_value() : "OK";
  }

  // Checks a failed call (or a stream's end) against the step, in the
  // README's order: the code, the BadRequest field, the ErrorInfo's reason
  // and metadata; then saves from {"errorMetadata": {...}}.
  void CheckFailure(const Value& step, const grpc::Status& status) {
    const std::string code = ExpectedCode(step);
    const std::string got = CodeName(status.error_code());
    if (got != code) {
      throw StepFailed("expected " + code + ", got " + got + ": " + status.error_message());
    }
    if (const Value* field = Expected(step, "field")) {
      std::vector<std::string> fields = memrpc::InvalidFields(status);
      if (std::find(fields.begin(), fields.end(), field->string_value()) == fields.end()) {
        std::string shown;
        for (const auto& f : fields) shown += (shown.empty() ? "'" : ", '") + f + "'";
        throw StepFailed("expected BadRequest field '" + field->string_value() + "', got [" +
                         shown + "]");
      }
    }
    const Value* reason = Expected(step, "reason");
    const Value* metadata = Expected(step, "errorMetadata");
    auto info = memrpc::ErrorInfoOf(status);
    if (!info && (reason || metadata)) {
      throw StepFailed(std::string("expected an ErrorInfo of domain ") + memrpc::kErrorDomain +
                       ", got none (" + got + ": " + status.error_message() + ")");
    }
    // The reason as the client's helper reads it, the generated enum (the
    // scenario names only reasons of the proto).
    if (reason && reason->string_value() != memrpc::v1::ErrorReason_Name(memrpc::ReasonOf(status))) {
      throw StepFailed("expected reason " + reason->string_value() + ", got " + info->reason() +
                       ": " + status.error_message());
    }
    Value document;
    auto& actual = (*document.mutable_struct_value()->mutable_fields())["errorMetadata"];
    auto* fields = actual.mutable_struct_value()->mutable_fields();
    for (const auto& [key, value] : memrpc::ErrorMetadata(status)) {
      (*fields)[key].set_string_value(value);
    }
    if (metadata) Match(Substitute(*metadata, variables_), &actual, "errorMetadata");
    Save(step, document);
  }

  void RunCall(const Value& step) {
    const std::string& call = Require(step, "call").string_value();
    auto found = methods_.find(call);
    if (found == methods_.end()) throw StepFailed("unknown call '" + call + "'");
    const Method& method = found->second;
    const std::string code = ExpectedCode(step);

    auto request = method.new_request();
    ParseRequest(step, request.get());
    grpc::ClientContext context;
    context.set_deadline(Clock::now() + kCallTimeout);
    std::unique_ptr<Message> response;
    grpc::Status status = method.call(&context, *request, &response);

    if (!status.ok()) {
      CheckFailure(step, status);
      return;
    }
    if (code != "OK") throw StepFailed("expected " + code + ", got OK");
    Check(step, *response);
  }

  // A `tail next` step: the stream's next message, matched like a response;
  // or, when the step expects a non-OK code, the status the stream ends with,
  // checked like a failed call.
  void RunNext(const Value& step, Tail& tail) {
    const std::string code = ExpectedCode(step);
    grpc::Status end;
    auto message = tail.Next(&end);
    if (message) {
      if (code != "OK") {
        throw StepFailed("expected the stream to end with " + code + ", got a message: " +
                         ToJson(*message));
      }
      Check(step, *message);
    } else if (end.ok()) {
      throw StepFailed(code == "OK" ? "stream ended (OK) before a message"
                                    : "expected the stream to end with " + code + ", it ended OK");
    } else if (code == "OK") {
      throw StepFailed(std::string("stream failed: ") + CodeName(end.error_code()) + ": " +
                       end.error_message());
    } else {
      CheckFailure(step, end);
    }
  }

  void RunTail(const Value& step) {
    const std::string& action = Require(step, "tail").string_value();
    const std::string& stream = Require(step, "stream").string_value();
    if (action == "open") {
      memrpc::v1::TailEventsRequest request;
      ParseRequest(step, &request);
      tails_[stream] = std::make_unique<Tail>(event_log_.get(), request);
    } else if (action == "next") {
      RunNext(step, TailOf(stream));
    } else if (action == "close") {
      TailOf(stream).Close();
      tails_.erase(stream);
    } else {
      throw StepFailed("unknown tail action '" + action + "'");
    }
  }

  Tail& TailOf(const std::string& stream) {
    auto it = tails_.find(stream);
    if (it == tails_.end()) throw StepFailed("no open stream '" + stream + "'");
    return *it->second;
  }

  Variables variables_;
  std::unique_ptr<memrpc::v1::WorkingMemory::Stub> working_memory_;
  std::unique_ptr<memrpc::v1::LongTermMemory::Stub> long_term_memory_;
  std::unique_ptr<memrpc::v1::EventLog::Stub> event_log_;
  std::unique_ptr<memrpc::v1::Namespaces::Stub> namespaces_;
  std::map<std::string, Method> methods_;
  std::map<std::string, std::unique_ptr<Tail>> tails_;
};

// Reads a whole file into `out`; false when it cannot be read.
bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::stringstream text;
  text << file.rdbuf();
  *out = text.str();
  return true;
}

int Usage(const std::string& error) {
  std::cerr << "memrpc-conformance: " << error << "\n"
            << "usage: run --target HOST:PORT --scenario FILE [--var NAME=VALUE]... "
               "[--service-config FILE]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target, scenario, service_config;
  Variables variables;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    auto eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Usage("missing value for " + arg);
    }
    if (arg == "--target") {
      target = value;
    } else if (arg == "--scenario") {
      scenario = value;
    } else if (arg == "--service-config") {
      service_config = value;
    } else if (arg == "--var") {
      auto sep = value.find('=');
      if (sep == std::string::npos) return Usage("--var takes NAME=VALUE, got " + value);
      variables[value.substr(0, sep)] = value.substr(sep + 1);
    } else {
      return Usage("unknown argument " + arg);
    }
  }
  if (target.empty() || scenario.empty()) return Usage("--target and --scenario are required");

  std::string text;
  if (!ReadFile(scenario, &text)) return Usage("cannot read " + scenario);
  grpc::ChannelArguments channel_args;
  if (!service_config.empty()) {
    std::string config;
    if (!ReadFile(service_config, &config)) return Usage("cannot read " + service_config);
    channel_args.SetServiceConfigJSON(config);
  }
  Value document;
  std::vector<Value> steps;
  try {
    document = ParseValue(text);
    for (const auto& step : Require(document, "steps").list_value().values()) steps.push_back(step);
  } catch (const StepFailed& err) {
    return Usage(scenario + ": " + err.what());
  }

  int passed = 0, failed = 0;
  {
    Runner runner(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), channel_args),
        std::move(variables));
    for (const auto& step : steps) {
      const Value* name = Get(step, "name");
      const std::string shown = name ? name->string_value() : "?";
      try {
        runner.RunStep(step);
        ++passed;
        std::cout << "PASS " << shown << std::endl;
      } catch (const std::exception& err) {
        ++failed;
        std::cout << "FAIL " << shown << ": " << err.what() << std::endl;
      }
    }
  }
  std::cout << "conformance: " << passed << " passed, " << failed << " failed" << std::endl;
  return failed == 0 ? 0 : 1;
}
