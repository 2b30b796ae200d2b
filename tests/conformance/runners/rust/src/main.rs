//! The Rust conformance runner: runs a scenario with the generated Rust client
//! (`clients/rust`, tonic + prost, proto3 JSON through pbjson) against a live
//! memrpc server. Mirrors the reference runner, runners/python/runner.py; the
//! format is described in tests/conformance/README.md.
//!
//! run --target HOST:PORT --scenario FILE [--var NAME=VALUE]...

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use memrpc_client::tonic::transport::{Channel, Endpoint};
use memrpc_client::tonic::{Code, Request, Status};
use memrpc_client::tonic_types::{ErrorDetail, StatusExt};
use memrpc_client::{
    v1, ErrorReasonExt, EventLogClient, LongTermMemoryClient, NamespacesClient,
    WorkingMemoryClient, ERROR_DOMAIN,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const NEXT_TIMEOUT: Duration = Duration::from_secs(10);
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a step failed; printed after `FAIL <name>: `.
type StepResult<T = ()> = Result<T, String>;

/// The canonical name of a gRPC status code (`NOT_FOUND`).
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

fn show(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
}

fn shown(actual: Option<&Value>) -> String {
    actual.map_or_else(|| "absent".to_string(), show)
}

/// `text` with every `${name}` replaced by the variable's value.
fn substitute_str(text: &str, variables: &HashMap<String, String>) -> StepResult<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('}') {
            let name = &after[..name_len];
            let value = variables
                .get(name)
                .ok_or_else(|| format!("unknown variable '{name}'"))?;
            out.push_str(value);
            rest = &after[name_len + 1..];
        } else {
            out.push('$');
            rest = &rest[start + 1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `value` with every `${name}` in its strings replaced.
fn substitute(value: &Value, variables: &HashMap<String, String>) -> StepResult<Value> {
    Ok(match value {
        Value::String(s) => Value::String(substitute_str(s, variables)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute(v, variables))
                .collect::<StepResult<_>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute(v, variables)?)))
                .collect::<StepResult<Map<_, _>>>()?,
        ),
        other => other.clone(),
    })
}

/// A number, or a numeric string, as f64 (for `$lte:` / `$gte:`).
fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// Whether a value counts as empty for `$nonempty`.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty() || s == "0",
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => x == y,
        _ => match (a.as_u64(), b.as_u64()) {
            (Some(x), Some(y)) => x == y,
            _ => a.as_f64() == b.as_f64(),
        },
    }
}

/// Fails unless `actual` (canonical JSON; `None` when absent) satisfies `expected`.
fn match_value(expected: &Value, actual: Option<&Value>, path: &str) -> StepResult {
    let here = if path.is_empty() { "response" } else { path };
    let child = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match expected {
        Value::String(matcher) if matcher.starts_with('$') => {
            let ok = if matcher == "$any" {
                actual.is_some()
            } else if matcher == "$absent" {
                actual.is_none()
            } else if matcher == "$nonempty" {
                actual.is_some_and(|v| !is_empty(v))
            } else if let Some(bound) = matcher
                .strip_prefix("$lte:")
                .or_else(|| matcher.strip_prefix("$gte:"))
            {
                let bound: f64 = bound
                    .trim()
                    .parse()
                    .map_err(|_| format!("{here}: bad bound in matcher {matcher:?}"))?;
                let number = match actual {
                    None => 0.0,
                    Some(v) => as_number(v)
                        .ok_or_else(|| format!("{here}: expected {matcher}, got {}", show(v)))?,
                };
                if matcher.starts_with("$lte:") {
                    number <= bound
                } else {
                    number >= bound
                }
            } else {
                return Err(format!("{here}: unknown matcher {matcher:?}"));
            };
            if ok {
                Ok(())
            } else {
                Err(format!("{here}: expected {matcher}, got {}", shown(actual)))
            }
        }
        Value::Object(fields) => {
            let Some(Value::Object(actual)) = actual else {
                return Err(format!("{here}: expected an object, got {}", shown(actual)));
            };
            for (key, want) in fields {
                match_value(want, actual.get(key), &child(key))?;
            }
            Ok(())
        }
        Value::Array(items) => match actual {
            Some(Value::Array(got)) if got.len() == items.len() => {
                for (i, (want, got)) in items.iter().zip(got).enumerate() {
                    match_value(want, Some(got), &child(&i.to_string()))?;
                }
                Ok(())
            }
            _ => Err(format!(
                "{here}: expected {} items, got {}",
                items.len(),
                shown(actual)
            )),
        },
        Value::Number(want) => match actual {
            Some(Value::Number(got)) if numbers_equal(want, got) => Ok(()),
            _ => Err(format!("{here}: expected {want}, got {}", shown(actual))),
        },
        // Strings, booleans and null: equal, with the same JSON type.
        _ => match actual {
            Some(got) if got == expected => Ok(()),
            _ => Err(format!(
                "{here}: expected {}, got {}",
                show(expected),
                shown(actual)
            )),
        },
    }
}

/// The value at a dotted path (`results.0.memory.id`), as a string.
fn lookup(document: &Value, path: &str) -> StepResult<String> {
    let mut value = document;
    for part in path.split('.') {
        value = match value {
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            Value::Object(map) => map.get(part),
            _ => None,
        }
        .ok_or_else(|| format!("save: no value at {path:?} (at '{part}')"))?;
    }
    Ok(match value {
        Value::String(s) => s.clone(),
        other => show(other),
    })
}

/// The fields named in the error's `google.rpc.BadRequest` details
/// (`grpc-status-details-bin`), read with tonic-types.
fn bad_request_fields(status: &Status) -> Vec<String> {
    status
        .get_error_details_vec()
        .into_iter()
        .filter_map(|detail| match detail {
            ErrorDetail::BadRequest(bad) => Some(bad.field_violations),
            _ => None,
        })
        .flatten()
        .map(|violation| violation.field)
        .collect()
}

/// The step's expected status code name (`OK` when absent).
fn expected_code(step: &Value) -> &str {
    step.get("expect")
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("OK")
}

/// A request from its proto3 canonical JSON (pbjson: unknown fields are errors).
fn parse<T: DeserializeOwned>(request: Value) -> StepResult<T> {
    serde_json::from_value(request).map_err(|err| format!("bad request JSON: {err}"))
}

/// A message as proto3 canonical JSON (pbjson: default values omitted),
/// printed then parsed: a `float` field prints as its shortest f32 form
/// (`0.12345679`), as the other languages print it, where
/// `serde_json::to_value` would widen it to f64 digits first.
fn to_json<T: Serialize>(message: &T) -> StepResult<Value> {
    serde_json::to_string(message)
        .and_then(|text| serde_json::from_str(&text))
        .map_err(|err| format!("response to JSON: {err}"))
}

/// A TailEvents stream read on a task, so that `next` can time out.
struct Tail {
    messages: mpsc::UnboundedReceiver<Result<v1::TailEventsResponse, Status>>,
    task: JoinHandle<()>,
}

impl Tail {
    /// Starts the call without waiting for anything.
    fn open(mut client: EventLogClient<Channel>, request: v1::TailEventsRequest) -> Self {
        let (tx, messages) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut stream = match client.tail_events(request).await {
                Ok(response) => response.into_inner(),
                Err(status) => {
                    let _ = tx.send(Err(status));
                    return;
                }
            };
            loop {
                match stream.message().await {
                    Ok(Some(message)) => {
                        if tx.send(Ok(message)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(status) => {
                        let _ = tx.send(Err(status));
                        return;
                    }
                }
            }
        });
        Tail { messages, task }
    }

    /// The stream's next message, or the error status it ended with.
    async fn next(&mut self) -> StepResult<Result<v1::TailEventsResponse, Status>> {
        match tokio::time::timeout(NEXT_TIMEOUT, self.messages.recv()).await {
            Err(_) => Err(format!("no message within {} s", NEXT_TIMEOUT.as_secs())),
            Ok(None) => Err("stream ended with OK".to_string()),
            Ok(Some(item)) => Ok(item),
        }
    }

    /// Cancels the call: dropping the response stream resets the HTTP/2 stream.
    fn close(self) {
        self.task.abort();
    }
}

/// Calls one unary method of a typed stub: the request parsed from JSON,
/// the response converted to JSON.
macro_rules! unary {
    ($client:expr, $method:ident, $request:expr) => {{
        let mut client = $client.clone();
        let mut request = Request::new(parse($request)?);
        request.set_timeout(CALL_TIMEOUT);
        match tokio::time::timeout(CALL_TIMEOUT, client.$method(request)).await {
            Err(_) => Err(Status::deadline_exceeded(
                "no response within the call timeout",
            )),
            Ok(Err(status)) => Err(status),
            Ok(Ok(response)) => Ok(to_json(response.get_ref())?),
        }
    }};
}

/// Runs the steps of a scenario.
struct Runner {
    variables: HashMap<String, String>,
    working_memory: WorkingMemoryClient<Channel>,
    long_term_memory: LongTermMemoryClient<Channel>,
    event_log: EventLogClient<Channel>,
    namespaces: NamespacesClient<Channel>,
    tails: HashMap<String, Tail>,
}

impl Runner {
    fn new(channel: Channel, variables: HashMap<String, String>) -> Self {
        Runner {
            variables,
            working_memory: WorkingMemoryClient::new(channel.clone()),
            long_term_memory: LongTermMemoryClient::new(channel.clone()),
            event_log: EventLogClient::new(channel.clone()),
            namespaces: NamespacesClient::new(channel),
            tails: HashMap::new(),
        }
    }

    /// The dispatch table: `"memrpc.v1.Service/Method"` to the typed stub call.
    async fn call(&self, call: &str, request: Value) -> StepResult<Result<Value, Status>> {
        let (wm, ltm, ev, ns) = (
            &self.working_memory,
            &self.long_term_memory,
            &self.event_log,
            &self.namespaces,
        );
        Ok(match call {
            "memrpc.v1.WorkingMemory/GetSession" => unary!(wm, get_session, request),
            "memrpc.v1.WorkingMemory/UpdateSession" => unary!(wm, update_session, request),
            "memrpc.v1.WorkingMemory/AppendTurns" => unary!(wm, append_turns, request),
            "memrpc.v1.WorkingMemory/DeleteSession" => unary!(wm, delete_session, request),
            "memrpc.v1.WorkingMemory/ListSessions" => unary!(wm, list_sessions, request),
            "memrpc.v1.WorkingMemory/GetContext" => unary!(wm, get_context, request),
            "memrpc.v1.LongTermMemory/CreateMemories" => unary!(ltm, create_memories, request),
            "memrpc.v1.LongTermMemory/SearchMemories" => unary!(ltm, search_memories, request),
            "memrpc.v1.LongTermMemory/ListMemories" => unary!(ltm, list_memories, request),
            "memrpc.v1.LongTermMemory/GetMemory" => unary!(ltm, get_memory, request),
            "memrpc.v1.LongTermMemory/UpdateMemory" => unary!(ltm, update_memory, request),
            "memrpc.v1.LongTermMemory/DeleteMemory" => unary!(ltm, delete_memory, request),
            "memrpc.v1.LongTermMemory/DeleteMemories" => unary!(ltm, delete_memories, request),
            "memrpc.v1.EventLog/AppendEvents" => unary!(ev, append_events, request),
            "memrpc.v1.EventLog/ListEvents" => unary!(ev, list_events, request),
            "memrpc.v1.EventLog/TrimEvents" => unary!(ev, trim_events, request),
            "memrpc.v1.EventLog/CreateConsumerGroup" => unary!(ev, create_consumer_group, request),
            "memrpc.v1.EventLog/DeleteConsumerGroup" => unary!(ev, delete_consumer_group, request),
            "memrpc.v1.EventLog/ReceiveEvents" => unary!(ev, receive_events, request),
            "memrpc.v1.EventLog/AcknowledgeEvents" => unary!(ev, acknowledge_events, request),
            "memrpc.v1.Namespaces/GetNamespaceSettings" => {
                unary!(ns, get_namespace_settings, request)
            }
            "memrpc.v1.Namespaces/UpdateNamespaceSettings" => {
                unary!(ns, update_namespace_settings, request)
            }
            other => return Err(format!("unknown call {other:?}")),
        })
    }

    fn request(&self, step: &Value) -> StepResult<Value> {
        match step.get("request") {
            Some(request) => substitute(request, &self.variables),
            None => Ok(Value::Object(Map::new())),
        }
    }

    /// Matches a response (canonical JSON) and saves its values.
    fn check(&mut self, step: &Value, actual: &Value) -> StepResult {
        let code = expected_code(step);
        if code != "OK" {
            return Err(format!("expected {code}, got OK"));
        }
        if let Some(expected) = step.get("expect").and_then(|e| e.get("response")) {
            match_value(&substitute(expected, &self.variables)?, Some(actual), "")?;
        }
        self.save(step, actual)
    }

    /// Checks a failed call (or a stream's end) against the step: its code,
    /// BadRequest field, ErrorInfo reason and metadata; then saves from the
    /// metadata.
    fn check_error(&mut self, step: &Value, status: &Status) -> StepResult {
        let expect = step.get("expect");
        let code = expected_code(step);
        let got = code_name(status.code());
        if got != code {
            return Err(format!("expected {code}, got {got}: {}", status.message()));
        }
        if let Some(field) = expect.and_then(|e| e.get("field")).and_then(Value::as_str) {
            let fields = bad_request_fields(status);
            if !fields.iter().any(|f| f == field) {
                return Err(format!(
                    "expected BadRequest field {field:?}, got {fields:?}"
                ));
            }
        }
        let reason = expect.and_then(|e| e.get("reason"));
        let error_metadata = expect.and_then(|e| e.get("errorMetadata"));
        let info = status.error_info();
        if info.is_none() && (reason.is_some() || error_metadata.is_some()) {
            return Err(format!(
                "expected an ErrorInfo of domain {ERROR_DOMAIN}: {}",
                status.message()
            ));
        }
        let (got_reason, metadata) = info
            .map(|info| (info.reason, info.metadata))
            .unwrap_or_default();
        if let Some(reason) = reason {
            if reason.as_str() != Some(got_reason.as_str()) {
                return Err(format!(
                    "expected reason {}, got {got_reason}",
                    show(reason)
                ));
            }
        }
        let metadata: Map<String, Value> = metadata
            .into_iter()
            .map(|(key, value)| (key, Value::String(value)))
            .collect();
        let metadata = Value::Object(metadata);
        if let Some(expected) = error_metadata {
            let expected = substitute(expected, &self.variables)?;
            match_value(&expected, Some(&metadata), "errorMetadata")?;
        }
        let mut document = Map::new();
        document.insert("errorMetadata".to_string(), metadata);
        self.save(step, &Value::Object(document))
    }

    /// Saves the values of `document` the step's `save` names.
    fn save(&mut self, step: &Value, document: &Value) -> StepResult {
        if let Some(save) = step.get("save") {
            let save = save.as_object().ok_or("save: not an object")?;
            for (name, path) in save {
                let path = path.as_str().ok_or("save: a path is not a string")?;
                let value = lookup(document, path)?;
                self.variables.insert(name.clone(), value);
            }
        }
        Ok(())
    }

    async fn run_step(&mut self, step: &Value) -> StepResult {
        if let Some(ms) = step.get("sleep_ms") {
            let ms = ms.as_f64().ok_or("sleep_ms: not a number")?;
            tokio::time::sleep(Duration::from_secs_f64(ms.max(0.0) / 1000.0)).await;
            Ok(())
        } else if step.get("tail").is_some() {
            self.run_tail(step).await
        } else {
            self.run_call(step).await
        }
    }

    async fn run_call(&mut self, step: &Value) -> StepResult {
        let call = step
            .get("call")
            .and_then(Value::as_str)
            .ok_or("step has no call")?;
        let request = self.request(step)?;
        match self.call(call, request).await? {
            Err(status) => self.check_error(step, &status),
            Ok(actual) => self.check(step, &actual),
        }
    }

    async fn run_tail(&mut self, step: &Value) -> StepResult {
        let action = step.get("tail").and_then(Value::as_str).unwrap_or_default();
        let stream = step
            .get("stream")
            .and_then(Value::as_str)
            .ok_or("tail step has no stream")?
            .to_string();
        match action {
            "open" => {
                // No deadline: a tail runs until it is closed.
                let request: v1::TailEventsRequest = parse(self.request(step)?)?;
                let tail = Tail::open(self.event_log.clone(), request);
                if let Some(old) = self.tails.insert(stream, tail) {
                    old.close();
                }
                Ok(())
            }
            "next" => {
                let tail = self
                    .tails
                    .get_mut(&stream)
                    .ok_or_else(|| format!("no open stream '{stream}'"))?;
                match tail.next().await? {
                    Err(status) => self.check_error(step, &status),
                    Ok(message) => self.check(step, &to_json(&message)?),
                }
            }
            "close" => {
                self.tails
                    .remove(&stream)
                    .ok_or_else(|| format!("no open stream '{stream}'"))?
                    .close();
                Ok(())
            }
            other => Err(format!("unknown tail action {other:?}")),
        }
    }
}

struct Args {
    target: String,
    scenario: String,
    variables: HashMap<String, String>,
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("{problem}");
    eprintln!("usage: run --target HOST:PORT --scenario FILE [--var NAME=VALUE]...");
    ExitCode::from(2)
}

fn parse_args() -> Result<Args, String> {
    let mut target = None;
    let mut scenario = None;
    let mut variables = HashMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--target" => target = Some(value()?),
            "--scenario" => scenario = Some(value()?),
            "--var" => {
                let var = value()?;
                let (name, val) = var
                    .split_once('=')
                    .ok_or_else(|| format!("--var {var:?}: expected NAME=VALUE"))?;
                variables.insert(name.to_string(), val.to_string());
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        target: target.ok_or("--target is required")?,
        scenario: scenario.ok_or("--scenario is required")?,
        variables,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => return usage(&problem),
    };
    let scenario: Value = match std::fs::read_to_string(&args.scenario)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
    {
        Ok(scenario) => scenario,
        Err(err) => return usage(&format!("{}: {err}", args.scenario)),
    };
    let Some(steps) = scenario.get("steps").and_then(Value::as_array) else {
        return usage(&format!("{}: no \"steps\" array", args.scenario));
    };
    let channel = match Endpoint::from_shared(format!("http://{}", args.target)) {
        Ok(endpoint) => endpoint.connect_lazy(),
        Err(err) => return usage(&format!("--target {}: {err}", args.target)),
    };
    let mut runner = Runner::new(channel, args.variables);
    let (mut passed, mut failed) = (0, 0);
    for step in steps {
        let name = step
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>");
        match runner.run_step(step).await {
            Ok(()) => {
                passed += 1;
                println!("PASS {name}");
            }
            Err(reason) => {
                failed += 1;
                println!("FAIL {name}: {reason}");
            }
        }
    }
    for (_, tail) in runner.tails.drain() {
        tail.close();
    }
    println!("conformance: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
