//! One call of each memrpc service, an agent step (GetContext, then
//! AppendTurns), error details, and a TailEvents stream that resumes from its
//! last cursor. The code of README.md, runnable:
//!
//!     cargo run --example quickstart -- http://127.0.0.1:50051

use std::time::Duration;

use memrpc_client::tonic::transport::Channel;
use memrpc_client::tonic::{Code, Status};
use memrpc_client::tonic_types::StatusExt;
use memrpc_client::v1::{
    event_input, get_context_request, search_memories_request, tail_events_response,
    AppendEventsRequest, AppendTurnsRequest, CreateMemoriesRequest, ErrorReason, EventInput,
    GetContextRequest, GetMemoryRequest, MemoryFilter, MemoryInput, MemoryKind,
    SearchMemoriesRequest, SessionInput, TailEventsRequest, ThreadCursor, TurnInput,
    UpdateSessionRequest,
};
use memrpc_client::{
    ErrorReasonExt, EventLogClient, FieldMask, LongTermMemoryClient, WorkingMemoryClient,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = std::env::args()
        .nth(1)
        .unwrap_or("http://127.0.0.1:50051".into());
    // One channel (one HTTP/2 connection), shared by the clients.
    let channel = Channel::from_shared(target)?.connect().await?;
    let mut sessions = WorkingMemoryClient::new(channel.clone());
    let mut memories = LongTermMemoryClient::new(channel.clone());
    let mut events = EventLogClient::new(channel);
    let ns = format!("demo-{}", std::process::id());

    // WorkingMemory: create a session (expected_version 0: it must not exist yet).
    let session = sessions
        .update_session(UpdateSessionRequest {
            namespace: ns.clone(),
            thread_id: "thread-1".into(),
            session: Some(SessionInput {
                goal: "plan a trip to Oslo".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask::new(["goal"])),
            expected_version: Some(0),
            ttl: Some(memrpc_client::pbjson_types::Duration {
                seconds: 3600,
                nanos: 0,
            }),
        })
        .await?
        .into_inner()
        .session
        .unwrap_or_default();
    println!("session version {}", session.version);

    // Errors: branch on the reason. A stale expected_version is ABORTED with
    // ERROR_REASON_VERSION_MISMATCH, and the metadata gives the current version.
    let stale = sessions
        .update_session(UpdateSessionRequest {
            namespace: ns.clone(),
            thread_id: "thread-1".into(),
            session: Some(SessionInput {
                scratchpad: "likes museums".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask::new(["scratchpad"])),
            expected_version: Some(0),
            ttl: None,
        })
        .await
        .unwrap_err();
    if stale.error_reason() == ErrorReason::VersionMismatch {
        let current = stale.error_metadata().remove("currentVersion");
        println!("someone else wrote first; current version {current:?}");
    }

    // LongTermMemory: store a memory, then search by meaning.
    memories
        .create_memories(CreateMemoriesRequest {
            namespace: ns.clone(),
            memories: vec![MemoryInput {
                text: "Alice is allergic to peanuts".into(),
                user_id: "alice".into(),
                kind: MemoryKind::Semantic as i32,
                ..Default::default()
            }],
            dedup_max_distance: None,
            // The same id on a retry creates nothing twice (see README, "Retries").
            request_id: format!("create-{}", std::process::id()),
        })
        .await?;
    let found = memories
        .search_memories(SearchMemoriesRequest {
            namespace: ns.clone(),
            query: Some(search_memories_request::Query::Text(
                "What can't Alice eat?".into(),
            )),
            limit: 3,
            ..Default::default()
        })
        .await?
        .into_inner();
    for hit in &found.matches {
        let text = hit
            .memory
            .as_ref()
            .map(|m| m.text.as_str())
            .unwrap_or_default();
        println!("{:.3} {text}", hit.distance);
    }
    // Messages are serde types with the proto3 JSON mapping.
    println!("{}", serde_json::to_string(&found)?);

    // An agent step is two calls. Before the model call, GetContext: the
    // session (goal, running summary, recent turns) and the memories relevant
    // to the message, in one round trip; after it, AppendTurns.
    let message = "What can't I eat?";
    let context = sessions
        .get_context(GetContextRequest {
            namespace: ns.clone(),
            thread_id: "thread-1".into(),
            query: Some(get_context_request::Query::Text(message.into())),
            filter: Some(MemoryFilter {
                user_ids: vec!["alice".into()],
                ..Default::default()
            }),
            limit: 3,
            max_distance: None,
        })
        .await?
        .into_inner();
    let session = context.session.unwrap_or_default(); // None: no session yet
    let summary = session.summary.unwrap_or_default();
    let reply = format!(
        "[{}; earlier: {}; {} recent turns] {} memories recalled",
        session.goal,
        summary.text,
        session.turns.len(),
        context.matches.len()
    ); // your LLM call
    sessions
        .append_turns(AppendTurnsRequest {
            namespace: ns.clone(),
            thread_id: "thread-1".into(),
            turns: vec![
                TurnInput {
                    role: "user".into(),
                    content: message.into(),
                    ..Default::default()
                },
                TurnInput {
                    role: "assistant".into(),
                    content: reply,
                    ..Default::default()
                },
            ],
            user_id: "alice".into(),
            ..Default::default()
        })
        .await?;

    // Errors: the status code, and the request fields that were wrong.
    let err = memories
        .get_memory(GetMemoryRequest {
            namespace: ns.clone(),
            memory_id: "not-an-id".into(),
        })
        .await
        .unwrap_err();
    if let Some(bad) = err.get_details_bad_request() {
        for violation in &bad.field_violations {
            println!(
                "{:?}: {}: {}",
                err.code(),
                violation.field,
                violation.description
            );
        }
    }

    // EventLog: append events (a JSON payload, a binary one).
    let payload = serde_json::from_value(serde_json::json!({"tool": "search", "q": "flights"}))?;
    events
        .append_events(AppendEventsRequest {
            namespace: ns.clone(),
            thread_id: "thread-2".into(),
            events: vec![
                EventInput {
                    r#type: "tool_call".into(),
                    payload: Some(event_input::Payload::Json(payload)),
                    ..Default::default()
                },
                EventInput {
                    r#type: "observation".into(),
                    payload: Some(event_input::Payload::Data(vec![0, 1, 2, 255])),
                    ..Default::default()
                },
            ],
            max_len: 0,
            request_id: String::new(),
        })
        .await?;

    // TailEvents: follow thread-2 from its first event ("0"), then resume.
    let cursors = vec![ThreadCursor {
        thread_id: "thread-2".into(),
        after_event_id: "0".into(),
    }];
    let cursors = tail(&mut events, &ns, cursors, 2).await?;
    events
        .append_events(AppendEventsRequest {
            namespace: ns.clone(),
            thread_id: "thread-2".into(),
            events: vec![EventInput {
                r#type: "note".into(),
                ..Default::default()
            }],
            max_len: 0,
            request_id: String::new(),
        })
        .await?;
    // Resumed from the cursors: exactly the event appended since.
    tail(&mut events, &ns, cursors, 1).await?;

    Ok(())
}

/// Follows the threads of `cursors` until `limit` events arrived, and
/// returns the cursors to resume from. A dropped stream is reopened from the
/// last position: no event is missed or repeated.
async fn tail(
    events: &mut EventLogClient<Channel>,
    namespace: &str,
    mut cursors: Vec<ThreadCursor>,
    limit: usize,
) -> Result<Vec<ThreadCursor>, Status> {
    let mut received = 0;
    while received < limit {
        let request = TailEventsRequest {
            namespace: namespace.into(),
            cursors: cursors.clone(),
            heartbeat_interval: None,
        };
        let mut stream = match events.tail_events(request).await {
            Ok(response) => response.into_inner(),
            Err(status) if status.code() == Code::Unavailable => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(status) => return Err(status),
        };
        while received < limit {
            match stream.message().await {
                Ok(Some(message)) => match message.message {
                    Some(tail_events_response::Message::Event(event)) => {
                        println!("event {} {} in {}", event.id, event.r#type, event.thread_id);
                        // That thread now resumes after this event.
                        for cursor in cursors
                            .iter_mut()
                            .filter(|c| c.thread_id == event.thread_id)
                        {
                            cursor.after_event_id = event.id.clone();
                        }
                        received += 1;
                    }
                    Some(tail_events_response::Message::Checkpoint(checkpoint)) => {
                        cursors = checkpoint.cursors;
                    }
                    None => {}
                },
                // The server ended the stream (shutdown) or it broke: reopen.
                Ok(None) => break,
                Err(status) => {
                    eprintln!("tail interrupted ({status}), resuming");
                    break;
                }
            }
        }
        // Dropping `stream` here cancels the call.
    }
    Ok(cursors)
}

/// A TLS channel (the crate's `tls` feature): the system-independent Mozilla
/// roots, or your own CA with `.ca_certificate(Certificate::from_pem(pem))`.
#[cfg(feature = "tls")]
#[allow(dead_code)]
async fn tls_channel() -> Result<Channel, Box<dyn std::error::Error>> {
    use memrpc_client::tonic::transport::ClientTlsConfig;
    let channel = Channel::from_static("https://memrpc.example.com")
        .tls_config(ClientTlsConfig::new().with_webpki_roots())?
        .connect()
        .await?;
    Ok(channel)
}
