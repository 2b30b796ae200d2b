package dev.memrpc.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * WorkingMemory keeps one session per (namespace, thread): the goal, a
 * scratchpad, a bounded window of recent turns and free-form metadata.
 * Sessions are created by their first write (`UpdateSession` or
 * `AppendTurns`) and expire after their time to live without writes.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class WorkingMemoryGrpc {

  private WorkingMemoryGrpc() {}

  public static final java.lang.String SERVICE_NAME = "memrpc.v1.WorkingMemory";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.GetSessionRequest,
      dev.memrpc.v1.GetSessionResponse> getGetSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetSession",
      requestType = dev.memrpc.v1.GetSessionRequest.class,
      responseType = dev.memrpc.v1.GetSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.GetSessionRequest,
      dev.memrpc.v1.GetSessionResponse> getGetSessionMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.GetSessionRequest, dev.memrpc.v1.GetSessionResponse> getGetSessionMethod;
    if ((getGetSessionMethod = WorkingMemoryGrpc.getGetSessionMethod) == null) {
      synchronized (WorkingMemoryGrpc.class) {
        if ((getGetSessionMethod = WorkingMemoryGrpc.getGetSessionMethod) == null) {
          WorkingMemoryGrpc.getGetSessionMethod = getGetSessionMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.GetSessionRequest, dev.memrpc.v1.GetSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.GetSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.GetSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkingMemoryMethodDescriptorSupplier("GetSession"))
              .build();
        }
      }
    }
    return getGetSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.UpdateSessionRequest,
      dev.memrpc.v1.UpdateSessionResponse> getUpdateSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateSession",
      requestType = dev.memrpc.v1.UpdateSessionRequest.class,
      responseType = dev.memrpc.v1.UpdateSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.UpdateSessionRequest,
      dev.memrpc.v1.UpdateSessionResponse> getUpdateSessionMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.UpdateSessionRequest, dev.memrpc.v1.UpdateSessionResponse> getUpdateSessionMethod;
    if ((getUpdateSessionMethod = WorkingMemoryGrpc.getUpdateSessionMethod) == null) {
      synchronized (WorkingMemoryGrpc.class) {
        if ((getUpdateSessionMethod = WorkingMemoryGrpc.getUpdateSessionMethod) == null) {
          WorkingMemoryGrpc.getUpdateSessionMethod = getUpdateSessionMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.UpdateSessionRequest, dev.memrpc.v1.UpdateSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.UpdateSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.UpdateSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkingMemoryMethodDescriptorSupplier("UpdateSession"))
              .build();
        }
      }
    }
    return getUpdateSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.AppendTurnsRequest,
      dev.memrpc.v1.AppendTurnsResponse> getAppendTurnsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "AppendTurns",
      requestType = dev.memrpc.v1.AppendTurnsRequest.class,
      responseType = dev.memrpc.v1.AppendTurnsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.AppendTurnsRequest,
      dev.memrpc.v1.AppendTurnsResponse> getAppendTurnsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.AppendTurnsRequest, dev.memrpc.v1.AppendTurnsResponse> getAppendTurnsMethod;
    if ((getAppendTurnsMethod = WorkingMemoryGrpc.getAppendTurnsMethod) == null) {
      synchronized (WorkingMemoryGrpc.class) {
        if ((getAppendTurnsMethod = WorkingMemoryGrpc.getAppendTurnsMethod) == null) {
          WorkingMemoryGrpc.getAppendTurnsMethod = getAppendTurnsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.AppendTurnsRequest, dev.memrpc.v1.AppendTurnsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "AppendTurns"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.AppendTurnsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.AppendTurnsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkingMemoryMethodDescriptorSupplier("AppendTurns"))
              .build();
        }
      }
    }
    return getAppendTurnsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteSessionRequest,
      dev.memrpc.v1.DeleteSessionResponse> getDeleteSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteSession",
      requestType = dev.memrpc.v1.DeleteSessionRequest.class,
      responseType = dev.memrpc.v1.DeleteSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteSessionRequest,
      dev.memrpc.v1.DeleteSessionResponse> getDeleteSessionMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteSessionRequest, dev.memrpc.v1.DeleteSessionResponse> getDeleteSessionMethod;
    if ((getDeleteSessionMethod = WorkingMemoryGrpc.getDeleteSessionMethod) == null) {
      synchronized (WorkingMemoryGrpc.class) {
        if ((getDeleteSessionMethod = WorkingMemoryGrpc.getDeleteSessionMethod) == null) {
          WorkingMemoryGrpc.getDeleteSessionMethod = getDeleteSessionMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.DeleteSessionRequest, dev.memrpc.v1.DeleteSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkingMemoryMethodDescriptorSupplier("DeleteSession"))
              .build();
        }
      }
    }
    return getDeleteSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.ListSessionsRequest,
      dev.memrpc.v1.ListSessionsResponse> getListSessionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListSessions",
      requestType = dev.memrpc.v1.ListSessionsRequest.class,
      responseType = dev.memrpc.v1.ListSessionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.ListSessionsRequest,
      dev.memrpc.v1.ListSessionsResponse> getListSessionsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.ListSessionsRequest, dev.memrpc.v1.ListSessionsResponse> getListSessionsMethod;
    if ((getListSessionsMethod = WorkingMemoryGrpc.getListSessionsMethod) == null) {
      synchronized (WorkingMemoryGrpc.class) {
        if ((getListSessionsMethod = WorkingMemoryGrpc.getListSessionsMethod) == null) {
          WorkingMemoryGrpc.getListSessionsMethod = getListSessionsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.ListSessionsRequest, dev.memrpc.v1.ListSessionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListSessions"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ListSessionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ListSessionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkingMemoryMethodDescriptorSupplier("ListSessions"))
              .build();
        }
      }
    }
    return getListSessionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.GetContextRequest,
      dev.memrpc.v1.GetContextResponse> getGetContextMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetContext",
      requestType = dev.memrpc.v1.GetContextRequest.class,
      responseType = dev.memrpc.v1.GetContextResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.GetContextRequest,
      dev.memrpc.v1.GetContextResponse> getGetContextMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.GetContextRequest, dev.memrpc.v1.GetContextResponse> getGetContextMethod;
    if ((getGetContextMethod = WorkingMemoryGrpc.getGetContextMethod) == null) {
      synchronized (WorkingMemoryGrpc.class) {
        if ((getGetContextMethod = WorkingMemoryGrpc.getGetContextMethod) == null) {
          WorkingMemoryGrpc.getGetContextMethod = getGetContextMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.GetContextRequest, dev.memrpc.v1.GetContextResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetContext"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.GetContextRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.GetContextResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkingMemoryMethodDescriptorSupplier("GetContext"))
              .build();
        }
      }
    }
    return getGetContextMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static WorkingMemoryStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<WorkingMemoryStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<WorkingMemoryStub>() {
        @java.lang.Override
        public WorkingMemoryStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new WorkingMemoryStub(channel, callOptions);
        }
      };
    return WorkingMemoryStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static WorkingMemoryBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<WorkingMemoryBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<WorkingMemoryBlockingV2Stub>() {
        @java.lang.Override
        public WorkingMemoryBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new WorkingMemoryBlockingV2Stub(channel, callOptions);
        }
      };
    return WorkingMemoryBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static WorkingMemoryBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<WorkingMemoryBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<WorkingMemoryBlockingStub>() {
        @java.lang.Override
        public WorkingMemoryBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new WorkingMemoryBlockingStub(channel, callOptions);
        }
      };
    return WorkingMemoryBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static WorkingMemoryFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<WorkingMemoryFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<WorkingMemoryFutureStub>() {
        @java.lang.Override
        public WorkingMemoryFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new WorkingMemoryFutureStub(channel, callOptions);
        }
      };
    return WorkingMemoryFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * WorkingMemory keeps one session per (namespace, thread): the goal, a
   * scratchpad, a bounded window of recent turns and free-form metadata.
   * Sessions are created by their first write (`UpdateSession` or
   * `AppendTurns`) and expire after their time to live without writes.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Returns a session in one Redis round trip. `NOT_FOUND`
     * (`ERROR_REASON_SESSION_NOT_FOUND`) when the session does not exist or
     * has expired.
     * </pre>
     */
    default void getSession(dev.memrpc.v1.GetSessionRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.GetSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Sets or clears session fields, creating the session when it does not
     * exist. Atomic: either every field in the mask is written or none is.
     * With `expected_version`, fails with `ABORTED`
     * (`ERROR_REASON_VERSION_MISMATCH`, with the current version) when another
     * writer got there first. Refreshes the time to live.
     * </pre>
     */
    default void updateSession(dev.memrpc.v1.UpdateSessionRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.UpdateSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Appends turns to the recent-turns window, creating the session when it
     * does not exist. The oldest turns leave the window once it is full (in
     * turns or in bytes, see `Session.turns`), but no turn is lost: each is
     * also appended, in the same atomic step, to the thread's event log
     * (`EventLog`) as an event of type `memrpc.turn`, which then keeps about
     * the server's default number of events (1,000 unless configured).
     * Refreshes the time to live. Safe to retry with a `request_id`.
     * </pre>
     */
    default void appendTurns(dev.memrpc.v1.AppendTurnsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.AppendTurnsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAppendTurnsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a session. The thread's event log is kept. `NOT_FOUND`
     * (`ERROR_REASON_SESSION_NOT_FOUND`) when the session does not exist and
     * no `expected_version` is given. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`, with the current version, 0
     * when the session does not exist) unless the session is at that version.
     * </pre>
     */
    default void deleteSession(dev.memrpc.v1.DeleteSessionRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the live sessions of a namespace, optionally of one user, most
     * recently updated first. Expired sessions are never listed. Each call does
     * a bounded amount of work: where many sessions expired, a page can hold
     * fewer sessions than `page_size`, even none, with a `next_page_token` to
     * go on from; only an empty `next_page_token` means the end.
     * </pre>
     */
    default void listSessions(dev.memrpc.v1.ListSessionsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ListSessionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListSessionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns what an agent needs before calling its model, in one call and
     * with at most one embedding: the thread's session (goal, scratchpad,
     * running summary, recent turns) and the long-term memories relevant to
     * a query, searched as `LongTermMemory.SearchMemories` searches (the same
     * filter, limit and distance, and the same search mode: nearest by
     * embedding, the only mode today; new search options are added to both
     * requests alike). Unless the filter names users, the search is scoped to
     * the session's user (when the session has one). A thread without a
     * session is not an error: `session` is unset and the memories are still
     * searched. An agent step is then two calls: `GetContext` before the
     * model call, `AppendTurns` after it.
     * </pre>
     */
    default void getContext(dev.memrpc.v1.GetContextRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.GetContextResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetContextMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service WorkingMemory.
   * <pre>
   * WorkingMemory keeps one session per (namespace, thread): the goal, a
   * scratchpad, a bounded window of recent turns and free-form metadata.
   * Sessions are created by their first write (`UpdateSession` or
   * `AppendTurns`) and expire after their time to live without writes.
   * </pre>
   */
  public static abstract class WorkingMemoryImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return WorkingMemoryGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service WorkingMemory.
   * <pre>
   * WorkingMemory keeps one session per (namespace, thread): the goal, a
   * scratchpad, a bounded window of recent turns and free-form metadata.
   * Sessions are created by their first write (`UpdateSession` or
   * `AppendTurns`) and expire after their time to live without writes.
   * </pre>
   */
  public static final class WorkingMemoryStub
      extends io.grpc.stub.AbstractAsyncStub<WorkingMemoryStub> {
    private WorkingMemoryStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected WorkingMemoryStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new WorkingMemoryStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns a session in one Redis round trip. `NOT_FOUND`
     * (`ERROR_REASON_SESSION_NOT_FOUND`) when the session does not exist or
     * has expired.
     * </pre>
     */
    public void getSession(dev.memrpc.v1.GetSessionRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.GetSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Sets or clears session fields, creating the session when it does not
     * exist. Atomic: either every field in the mask is written or none is.
     * With `expected_version`, fails with `ABORTED`
     * (`ERROR_REASON_VERSION_MISMATCH`, with the current version) when another
     * writer got there first. Refreshes the time to live.
     * </pre>
     */
    public void updateSession(dev.memrpc.v1.UpdateSessionRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.UpdateSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Appends turns to the recent-turns window, creating the session when it
     * does not exist. The oldest turns leave the window once it is full (in
     * turns or in bytes, see `Session.turns`), but no turn is lost: each is
     * also appended, in the same atomic step, to the thread's event log
     * (`EventLog`) as an event of type `memrpc.turn`, which then keeps about
     * the server's default number of events (1,000 unless configured).
     * Refreshes the time to live. Safe to retry with a `request_id`.
     * </pre>
     */
    public void appendTurns(dev.memrpc.v1.AppendTurnsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.AppendTurnsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAppendTurnsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a session. The thread's event log is kept. `NOT_FOUND`
     * (`ERROR_REASON_SESSION_NOT_FOUND`) when the session does not exist and
     * no `expected_version` is given. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`, with the current version, 0
     * when the session does not exist) unless the session is at that version.
     * </pre>
     */
    public void deleteSession(dev.memrpc.v1.DeleteSessionRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the live sessions of a namespace, optionally of one user, most
     * recently updated first. Expired sessions are never listed. Each call does
     * a bounded amount of work: where many sessions expired, a page can hold
     * fewer sessions than `page_size`, even none, with a `next_page_token` to
     * go on from; only an empty `next_page_token` means the end.
     * </pre>
     */
    public void listSessions(dev.memrpc.v1.ListSessionsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ListSessionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListSessionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns what an agent needs before calling its model, in one call and
     * with at most one embedding: the thread's session (goal, scratchpad,
     * running summary, recent turns) and the long-term memories relevant to
     * a query, searched as `LongTermMemory.SearchMemories` searches (the same
     * filter, limit and distance, and the same search mode: nearest by
     * embedding, the only mode today; new search options are added to both
     * requests alike). Unless the filter names users, the search is scoped to
     * the session's user (when the session has one). A thread without a
     * session is not an error: `session` is unset and the memories are still
     * searched. An agent step is then two calls: `GetContext` before the
     * model call, `AppendTurns` after it.
     * </pre>
     */
    public void getContext(dev.memrpc.v1.GetContextRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.GetContextResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetContextMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service WorkingMemory.
   * <pre>
   * WorkingMemory keeps one session per (namespace, thread): the goal, a
   * scratchpad, a bounded window of recent turns and free-form metadata.
   * Sessions are created by their first write (`UpdateSession` or
   * `AppendTurns`) and expire after their time to live without writes.
   * </pre>
   */
  public static final class WorkingMemoryBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<WorkingMemoryBlockingV2Stub> {
    private WorkingMemoryBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected WorkingMemoryBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new WorkingMemoryBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns a session in one Redis round trip. `NOT_FOUND`
     * (`ERROR_REASON_SESSION_NOT_FOUND`) when the session does not exist or
     * has expired.
     * </pre>
     */
    public dev.memrpc.v1.GetSessionResponse getSession(dev.memrpc.v1.GetSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sets or clears session fields, creating the session when it does not
     * exist. Atomic: either every field in the mask is written or none is.
     * With `expected_version`, fails with `ABORTED`
     * (`ERROR_REASON_VERSION_MISMATCH`, with the current version) when another
     * writer got there first. Refreshes the time to live.
     * </pre>
     */
    public dev.memrpc.v1.UpdateSessionResponse updateSession(dev.memrpc.v1.UpdateSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdateSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Appends turns to the recent-turns window, creating the session when it
     * does not exist. The oldest turns leave the window once it is full (in
     * turns or in bytes, see `Session.turns`), but no turn is lost: each is
     * also appended, in the same atomic step, to the thread's event log
     * (`EventLog`) as an event of type `memrpc.turn`, which then keeps about
     * the server's default number of events (1,000 unless configured).
     * Refreshes the time to live. Safe to retry with a `request_id`.
     * </pre>
     */
    public dev.memrpc.v1.AppendTurnsResponse appendTurns(dev.memrpc.v1.AppendTurnsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getAppendTurnsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a session. The thread's event log is kept. `NOT_FOUND`
     * (`ERROR_REASON_SESSION_NOT_FOUND`) when the session does not exist and
     * no `expected_version` is given. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`, with the current version, 0
     * when the session does not exist) unless the session is at that version.
     * </pre>
     */
    public dev.memrpc.v1.DeleteSessionResponse deleteSession(dev.memrpc.v1.DeleteSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the live sessions of a namespace, optionally of one user, most
     * recently updated first. Expired sessions are never listed. Each call does
     * a bounded amount of work: where many sessions expired, a page can hold
     * fewer sessions than `page_size`, even none, with a `next_page_token` to
     * go on from; only an empty `next_page_token` means the end.
     * </pre>
     */
    public dev.memrpc.v1.ListSessionsResponse listSessions(dev.memrpc.v1.ListSessionsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns what an agent needs before calling its model, in one call and
     * with at most one embedding: the thread's session (goal, scratchpad,
     * running summary, recent turns) and the long-term memories relevant to
     * a query, searched as `LongTermMemory.SearchMemories` searches (the same
     * filter, limit and distance, and the same search mode: nearest by
     * embedding, the only mode today; new search options are added to both
     * requests alike). Unless the filter names users, the search is scoped to
     * the session's user (when the session has one). A thread without a
     * session is not an error: `session` is unset and the memories are still
     * searched. An agent step is then two calls: `GetContext` before the
     * model call, `AppendTurns` after it.
     * </pre>
     */
    public dev.memrpc.v1.GetContextResponse getContext(dev.memrpc.v1.GetContextRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetContextMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service WorkingMemory.
   * <pre>
   * WorkingMemory keeps one session per (namespace, thread): the goal, a
   * scratchpad, a bounded window of recent turns and free-form metadata.
   * Sessions are created by their first write (`UpdateSession` or
   * `AppendTurns`) and expire after their time to live without writes.
   * </pre>
   */
  public static final class WorkingMemoryBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<WorkingMemoryBlockingStub> {
    private WorkingMemoryBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected WorkingMemoryBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new WorkingMemoryBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns a session in one Redis round trip. `NOT_FOUND`
     * (`ERROR_REASON_SESSION_NOT_FOUND`) when the session does not exist or
     * has expired.
     * </pre>
     */
    public dev.memrpc.v1.GetSessionResponse getSession(dev.memrpc.v1.GetSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sets or clears session fields, creating the session when it does not
     * exist. Atomic: either every field in the mask is written or none is.
     * With `expected_version`, fails with `ABORTED`
     * (`ERROR_REASON_VERSION_MISMATCH`, with the current version) when another
     * writer got there first. Refreshes the time to live.
     * </pre>
     */
    public dev.memrpc.v1.UpdateSessionResponse updateSession(dev.memrpc.v1.UpdateSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Appends turns to the recent-turns window, creating the session when it
     * does not exist. The oldest turns leave the window once it is full (in
     * turns or in bytes, see `Session.turns`), but no turn is lost: each is
     * also appended, in the same atomic step, to the thread's event log
     * (`EventLog`) as an event of type `memrpc.turn`, which then keeps about
     * the server's default number of events (1,000 unless configured).
     * Refreshes the time to live. Safe to retry with a `request_id`.
     * </pre>
     */
    public dev.memrpc.v1.AppendTurnsResponse appendTurns(dev.memrpc.v1.AppendTurnsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAppendTurnsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a session. The thread's event log is kept. `NOT_FOUND`
     * (`ERROR_REASON_SESSION_NOT_FOUND`) when the session does not exist and
     * no `expected_version` is given. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`, with the current version, 0
     * when the session does not exist) unless the session is at that version.
     * </pre>
     */
    public dev.memrpc.v1.DeleteSessionResponse deleteSession(dev.memrpc.v1.DeleteSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the live sessions of a namespace, optionally of one user, most
     * recently updated first. Expired sessions are never listed. Each call does
     * a bounded amount of work: where many sessions expired, a page can hold
     * fewer sessions than `page_size`, even none, with a `next_page_token` to
     * go on from; only an empty `next_page_token` means the end.
     * </pre>
     */
    public dev.memrpc.v1.ListSessionsResponse listSessions(dev.memrpc.v1.ListSessionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns what an agent needs before calling its model, in one call and
     * with at most one embedding: the thread's session (goal, scratchpad,
     * running summary, recent turns) and the long-term memories relevant to
     * a query, searched as `LongTermMemory.SearchMemories` searches (the same
     * filter, limit and distance, and the same search mode: nearest by
     * embedding, the only mode today; new search options are added to both
     * requests alike). Unless the filter names users, the search is scoped to
     * the session's user (when the session has one). A thread without a
     * session is not an error: `session` is unset and the memories are still
     * searched. An agent step is then two calls: `GetContext` before the
     * model call, `AppendTurns` after it.
     * </pre>
     */
    public dev.memrpc.v1.GetContextResponse getContext(dev.memrpc.v1.GetContextRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetContextMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service WorkingMemory.
   * <pre>
   * WorkingMemory keeps one session per (namespace, thread): the goal, a
   * scratchpad, a bounded window of recent turns and free-form metadata.
   * Sessions are created by their first write (`UpdateSession` or
   * `AppendTurns`) and expire after their time to live without writes.
   * </pre>
   */
  public static final class WorkingMemoryFutureStub
      extends io.grpc.stub.AbstractFutureStub<WorkingMemoryFutureStub> {
    private WorkingMemoryFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected WorkingMemoryFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new WorkingMemoryFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns a session in one Redis round trip. `NOT_FOUND`
     * (`ERROR_REASON_SESSION_NOT_FOUND`) when the session does not exist or
     * has expired.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.GetSessionResponse> getSession(
        dev.memrpc.v1.GetSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Sets or clears session fields, creating the session when it does not
     * exist. Atomic: either every field in the mask is written or none is.
     * With `expected_version`, fails with `ABORTED`
     * (`ERROR_REASON_VERSION_MISMATCH`, with the current version) when another
     * writer got there first. Refreshes the time to live.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.UpdateSessionResponse> updateSession(
        dev.memrpc.v1.UpdateSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Appends turns to the recent-turns window, creating the session when it
     * does not exist. The oldest turns leave the window once it is full (in
     * turns or in bytes, see `Session.turns`), but no turn is lost: each is
     * also appended, in the same atomic step, to the thread's event log
     * (`EventLog`) as an event of type `memrpc.turn`, which then keeps about
     * the server's default number of events (1,000 unless configured).
     * Refreshes the time to live. Safe to retry with a `request_id`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.AppendTurnsResponse> appendTurns(
        dev.memrpc.v1.AppendTurnsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAppendTurnsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a session. The thread's event log is kept. `NOT_FOUND`
     * (`ERROR_REASON_SESSION_NOT_FOUND`) when the session does not exist and
     * no `expected_version` is given. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`, with the current version, 0
     * when the session does not exist) unless the session is at that version.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.DeleteSessionResponse> deleteSession(
        dev.memrpc.v1.DeleteSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the live sessions of a namespace, optionally of one user, most
     * recently updated first. Expired sessions are never listed. Each call does
     * a bounded amount of work: where many sessions expired, a page can hold
     * fewer sessions than `page_size`, even none, with a `next_page_token` to
     * go on from; only an empty `next_page_token` means the end.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.ListSessionsResponse> listSessions(
        dev.memrpc.v1.ListSessionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListSessionsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns what an agent needs before calling its model, in one call and
     * with at most one embedding: the thread's session (goal, scratchpad,
     * running summary, recent turns) and the long-term memories relevant to
     * a query, searched as `LongTermMemory.SearchMemories` searches (the same
     * filter, limit and distance, and the same search mode: nearest by
     * embedding, the only mode today; new search options are added to both
     * requests alike). Unless the filter names users, the search is scoped to
     * the session's user (when the session has one). A thread without a
     * session is not an error: `session` is unset and the memories are still
     * searched. An agent step is then two calls: `GetContext` before the
     * model call, `AppendTurns` after it.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.GetContextResponse> getContext(
        dev.memrpc.v1.GetContextRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetContextMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_SESSION = 0;
  private static final int METHODID_UPDATE_SESSION = 1;
  private static final int METHODID_APPEND_TURNS = 2;
  private static final int METHODID_DELETE_SESSION = 3;
  private static final int METHODID_LIST_SESSIONS = 4;
  private static final int METHODID_GET_CONTEXT = 5;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_GET_SESSION:
          serviceImpl.getSession((dev.memrpc.v1.GetSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.GetSessionResponse>) responseObserver);
          break;
        case METHODID_UPDATE_SESSION:
          serviceImpl.updateSession((dev.memrpc.v1.UpdateSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.UpdateSessionResponse>) responseObserver);
          break;
        case METHODID_APPEND_TURNS:
          serviceImpl.appendTurns((dev.memrpc.v1.AppendTurnsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.AppendTurnsResponse>) responseObserver);
          break;
        case METHODID_DELETE_SESSION:
          serviceImpl.deleteSession((dev.memrpc.v1.DeleteSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteSessionResponse>) responseObserver);
          break;
        case METHODID_LIST_SESSIONS:
          serviceImpl.listSessions((dev.memrpc.v1.ListSessionsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.ListSessionsResponse>) responseObserver);
          break;
        case METHODID_GET_CONTEXT:
          serviceImpl.getContext((dev.memrpc.v1.GetContextRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.GetContextResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getGetSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.GetSessionRequest,
              dev.memrpc.v1.GetSessionResponse>(
                service, METHODID_GET_SESSION)))
        .addMethod(
          getUpdateSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.UpdateSessionRequest,
              dev.memrpc.v1.UpdateSessionResponse>(
                service, METHODID_UPDATE_SESSION)))
        .addMethod(
          getAppendTurnsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.AppendTurnsRequest,
              dev.memrpc.v1.AppendTurnsResponse>(
                service, METHODID_APPEND_TURNS)))
        .addMethod(
          getDeleteSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.DeleteSessionRequest,
              dev.memrpc.v1.DeleteSessionResponse>(
                service, METHODID_DELETE_SESSION)))
        .addMethod(
          getListSessionsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.ListSessionsRequest,
              dev.memrpc.v1.ListSessionsResponse>(
                service, METHODID_LIST_SESSIONS)))
        .addMethod(
          getGetContextMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.GetContextRequest,
              dev.memrpc.v1.GetContextResponse>(
                service, METHODID_GET_CONTEXT)))
        .build();
  }

  private static abstract class WorkingMemoryBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    WorkingMemoryBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.memrpc.v1.WorkingMemoryProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("WorkingMemory");
    }
  }

  private static final class WorkingMemoryFileDescriptorSupplier
      extends WorkingMemoryBaseDescriptorSupplier {
    WorkingMemoryFileDescriptorSupplier() {}
  }

  private static final class WorkingMemoryMethodDescriptorSupplier
      extends WorkingMemoryBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    WorkingMemoryMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (WorkingMemoryGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new WorkingMemoryFileDescriptorSupplier())
              .addMethod(getGetSessionMethod())
              .addMethod(getUpdateSessionMethod())
              .addMethod(getAppendTurnsMethod())
              .addMethod(getDeleteSessionMethod())
              .addMethod(getListSessionsMethod())
              .addMethod(getGetContextMethod())
              .build();
        }
      }
    }
    return result;
  }
}
