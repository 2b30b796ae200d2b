package dev.memrpc.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Administration erases users and namespaces and reads the audit log.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class AdministrationGrpc {

  private AdministrationGrpc() {}

  public static final java.lang.String SERVICE_NAME = "memrpc.v1.Administration";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.EraseUserRequest,
      dev.memrpc.v1.EraseUserResponse> getEraseUserMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "EraseUser",
      requestType = dev.memrpc.v1.EraseUserRequest.class,
      responseType = dev.memrpc.v1.EraseUserResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.EraseUserRequest,
      dev.memrpc.v1.EraseUserResponse> getEraseUserMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.EraseUserRequest, dev.memrpc.v1.EraseUserResponse> getEraseUserMethod;
    if ((getEraseUserMethod = AdministrationGrpc.getEraseUserMethod) == null) {
      synchronized (AdministrationGrpc.class) {
        if ((getEraseUserMethod = AdministrationGrpc.getEraseUserMethod) == null) {
          AdministrationGrpc.getEraseUserMethod = getEraseUserMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.EraseUserRequest, dev.memrpc.v1.EraseUserResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "EraseUser"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.EraseUserRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.EraseUserResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdministrationMethodDescriptorSupplier("EraseUser"))
              .build();
        }
      }
    }
    return getEraseUserMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteNamespaceRequest,
      dev.memrpc.v1.DeleteNamespaceResponse> getDeleteNamespaceMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteNamespace",
      requestType = dev.memrpc.v1.DeleteNamespaceRequest.class,
      responseType = dev.memrpc.v1.DeleteNamespaceResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteNamespaceRequest,
      dev.memrpc.v1.DeleteNamespaceResponse> getDeleteNamespaceMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteNamespaceRequest, dev.memrpc.v1.DeleteNamespaceResponse> getDeleteNamespaceMethod;
    if ((getDeleteNamespaceMethod = AdministrationGrpc.getDeleteNamespaceMethod) == null) {
      synchronized (AdministrationGrpc.class) {
        if ((getDeleteNamespaceMethod = AdministrationGrpc.getDeleteNamespaceMethod) == null) {
          AdministrationGrpc.getDeleteNamespaceMethod = getDeleteNamespaceMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.DeleteNamespaceRequest, dev.memrpc.v1.DeleteNamespaceResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteNamespace"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteNamespaceRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteNamespaceResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdministrationMethodDescriptorSupplier("DeleteNamespace"))
              .build();
        }
      }
    }
    return getDeleteNamespaceMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.ListAuditRecordsRequest,
      dev.memrpc.v1.ListAuditRecordsResponse> getListAuditRecordsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListAuditRecords",
      requestType = dev.memrpc.v1.ListAuditRecordsRequest.class,
      responseType = dev.memrpc.v1.ListAuditRecordsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.ListAuditRecordsRequest,
      dev.memrpc.v1.ListAuditRecordsResponse> getListAuditRecordsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.ListAuditRecordsRequest, dev.memrpc.v1.ListAuditRecordsResponse> getListAuditRecordsMethod;
    if ((getListAuditRecordsMethod = AdministrationGrpc.getListAuditRecordsMethod) == null) {
      synchronized (AdministrationGrpc.class) {
        if ((getListAuditRecordsMethod = AdministrationGrpc.getListAuditRecordsMethod) == null) {
          AdministrationGrpc.getListAuditRecordsMethod = getListAuditRecordsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.ListAuditRecordsRequest, dev.memrpc.v1.ListAuditRecordsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListAuditRecords"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ListAuditRecordsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ListAuditRecordsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdministrationMethodDescriptorSupplier("ListAuditRecords"))
              .build();
        }
      }
    }
    return getListAuditRecordsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static AdministrationStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdministrationStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdministrationStub>() {
        @java.lang.Override
        public AdministrationStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdministrationStub(channel, callOptions);
        }
      };
    return AdministrationStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static AdministrationBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdministrationBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdministrationBlockingV2Stub>() {
        @java.lang.Override
        public AdministrationBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdministrationBlockingV2Stub(channel, callOptions);
        }
      };
    return AdministrationBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static AdministrationBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdministrationBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdministrationBlockingStub>() {
        @java.lang.Override
        public AdministrationBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdministrationBlockingStub(channel, callOptions);
        }
      };
    return AdministrationBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static AdministrationFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdministrationFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdministrationFutureStub>() {
        @java.lang.Override
        public AdministrationFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdministrationFutureStub(channel, callOptions);
        }
      };
    return AdministrationFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Administration erases users and namespaces and reads the audit log.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Erases one user of a namespace from every tier, in one call: the user's
     * sessions (working memory, running summaries) and the durable record of
     * the user's threads; those threads' event logs and checkpoints
     * (`Checkpoints`, in every checkpoint namespace); their entries in the
     * namespace feed, acknowledged in every consumer group first so that no
     * group keeps them pending, and in the background jobs' dead letters; the
     * request-id records of appends to those threads; the user's long-term
     * memories, superseded ones included (with their access statistics and
     * merge history); and the memory-change events about the user's memories
     * (forgotten, merged, superseded). The user's threads are found through
     * the durable record kept for each user (every thread a session of the
     * user was ever on), so threads whose sessions expired are erased too.
     * Idempotent: erasing a user with no data erases nothing and succeeds.
     * Writes for the user that run during the erasure may survive it: stop
     * them first. The audit record of the erasure names the user by a digest
     * (`AuditRecord.details`), never by the id.
     * </pre>
     */
    default void eraseUser(dev.memrpc.v1.EraseUserRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.EraseUserResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getEraseUserMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes every key of a namespace: sessions, event logs, the feed and
     * its consumer groups, memories, settings and the jobs' state. The work
     * is done in bounded steps (a few hundred keys each); a call returns when
     * the namespace is gone (`done`), or before its deadline with `done`
     * false and what it deleted so far: call again to go on. A call after a
     * server stopped mid-way goes on from where it stopped. Writes to the
     * namespace while it is being deleted may survive it: stop them first.
     * </pre>
     */
    default void deleteNamespace(dev.memrpc.v1.DeleteNamespaceRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteNamespaceResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteNamespaceMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the audit records of a namespace, newest first. The namespace's
     * own data operations (deleting sessions, memories, or the namespace
     * itself) never remove audit records: they are kept apart, up to the
     * server's audit retention.
     * </pre>
     */
    default void listAuditRecords(dev.memrpc.v1.ListAuditRecordsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ListAuditRecordsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListAuditRecordsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service Administration.
   * <pre>
   * Administration erases users and namespaces and reads the audit log.
   * </pre>
   */
  public static abstract class AdministrationImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return AdministrationGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service Administration.
   * <pre>
   * Administration erases users and namespaces and reads the audit log.
   * </pre>
   */
  public static final class AdministrationStub
      extends io.grpc.stub.AbstractAsyncStub<AdministrationStub> {
    private AdministrationStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdministrationStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdministrationStub(channel, callOptions);
    }

    /**
     * <pre>
     * Erases one user of a namespace from every tier, in one call: the user's
     * sessions (working memory, running summaries) and the durable record of
     * the user's threads; those threads' event logs and checkpoints
     * (`Checkpoints`, in every checkpoint namespace); their entries in the
     * namespace feed, acknowledged in every consumer group first so that no
     * group keeps them pending, and in the background jobs' dead letters; the
     * request-id records of appends to those threads; the user's long-term
     * memories, superseded ones included (with their access statistics and
     * merge history); and the memory-change events about the user's memories
     * (forgotten, merged, superseded). The user's threads are found through
     * the durable record kept for each user (every thread a session of the
     * user was ever on), so threads whose sessions expired are erased too.
     * Idempotent: erasing a user with no data erases nothing and succeeds.
     * Writes for the user that run during the erasure may survive it: stop
     * them first. The audit record of the erasure names the user by a digest
     * (`AuditRecord.details`), never by the id.
     * </pre>
     */
    public void eraseUser(dev.memrpc.v1.EraseUserRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.EraseUserResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getEraseUserMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes every key of a namespace: sessions, event logs, the feed and
     * its consumer groups, memories, settings and the jobs' state. The work
     * is done in bounded steps (a few hundred keys each); a call returns when
     * the namespace is gone (`done`), or before its deadline with `done`
     * false and what it deleted so far: call again to go on. A call after a
     * server stopped mid-way goes on from where it stopped. Writes to the
     * namespace while it is being deleted may survive it: stop them first.
     * </pre>
     */
    public void deleteNamespace(dev.memrpc.v1.DeleteNamespaceRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteNamespaceResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteNamespaceMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the audit records of a namespace, newest first. The namespace's
     * own data operations (deleting sessions, memories, or the namespace
     * itself) never remove audit records: they are kept apart, up to the
     * server's audit retention.
     * </pre>
     */
    public void listAuditRecords(dev.memrpc.v1.ListAuditRecordsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ListAuditRecordsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListAuditRecordsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service Administration.
   * <pre>
   * Administration erases users and namespaces and reads the audit log.
   * </pre>
   */
  public static final class AdministrationBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<AdministrationBlockingV2Stub> {
    private AdministrationBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdministrationBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdministrationBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Erases one user of a namespace from every tier, in one call: the user's
     * sessions (working memory, running summaries) and the durable record of
     * the user's threads; those threads' event logs and checkpoints
     * (`Checkpoints`, in every checkpoint namespace); their entries in the
     * namespace feed, acknowledged in every consumer group first so that no
     * group keeps them pending, and in the background jobs' dead letters; the
     * request-id records of appends to those threads; the user's long-term
     * memories, superseded ones included (with their access statistics and
     * merge history); and the memory-change events about the user's memories
     * (forgotten, merged, superseded). The user's threads are found through
     * the durable record kept for each user (every thread a session of the
     * user was ever on), so threads whose sessions expired are erased too.
     * Idempotent: erasing a user with no data erases nothing and succeeds.
     * Writes for the user that run during the erasure may survive it: stop
     * them first. The audit record of the erasure names the user by a digest
     * (`AuditRecord.details`), never by the id.
     * </pre>
     */
    public dev.memrpc.v1.EraseUserResponse eraseUser(dev.memrpc.v1.EraseUserRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getEraseUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes every key of a namespace: sessions, event logs, the feed and
     * its consumer groups, memories, settings and the jobs' state. The work
     * is done in bounded steps (a few hundred keys each); a call returns when
     * the namespace is gone (`done`), or before its deadline with `done`
     * false and what it deleted so far: call again to go on. A call after a
     * server stopped mid-way goes on from where it stopped. Writes to the
     * namespace while it is being deleted may survive it: stop them first.
     * </pre>
     */
    public dev.memrpc.v1.DeleteNamespaceResponse deleteNamespace(dev.memrpc.v1.DeleteNamespaceRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteNamespaceMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the audit records of a namespace, newest first. The namespace's
     * own data operations (deleting sessions, memories, or the namespace
     * itself) never remove audit records: they are kept apart, up to the
     * server's audit retention.
     * </pre>
     */
    public dev.memrpc.v1.ListAuditRecordsResponse listAuditRecords(dev.memrpc.v1.ListAuditRecordsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListAuditRecordsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service Administration.
   * <pre>
   * Administration erases users and namespaces and reads the audit log.
   * </pre>
   */
  public static final class AdministrationBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<AdministrationBlockingStub> {
    private AdministrationBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdministrationBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdministrationBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Erases one user of a namespace from every tier, in one call: the user's
     * sessions (working memory, running summaries) and the durable record of
     * the user's threads; those threads' event logs and checkpoints
     * (`Checkpoints`, in every checkpoint namespace); their entries in the
     * namespace feed, acknowledged in every consumer group first so that no
     * group keeps them pending, and in the background jobs' dead letters; the
     * request-id records of appends to those threads; the user's long-term
     * memories, superseded ones included (with their access statistics and
     * merge history); and the memory-change events about the user's memories
     * (forgotten, merged, superseded). The user's threads are found through
     * the durable record kept for each user (every thread a session of the
     * user was ever on), so threads whose sessions expired are erased too.
     * Idempotent: erasing a user with no data erases nothing and succeeds.
     * Writes for the user that run during the erasure may survive it: stop
     * them first. The audit record of the erasure names the user by a digest
     * (`AuditRecord.details`), never by the id.
     * </pre>
     */
    public dev.memrpc.v1.EraseUserResponse eraseUser(dev.memrpc.v1.EraseUserRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getEraseUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes every key of a namespace: sessions, event logs, the feed and
     * its consumer groups, memories, settings and the jobs' state. The work
     * is done in bounded steps (a few hundred keys each); a call returns when
     * the namespace is gone (`done`), or before its deadline with `done`
     * false and what it deleted so far: call again to go on. A call after a
     * server stopped mid-way goes on from where it stopped. Writes to the
     * namespace while it is being deleted may survive it: stop them first.
     * </pre>
     */
    public dev.memrpc.v1.DeleteNamespaceResponse deleteNamespace(dev.memrpc.v1.DeleteNamespaceRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteNamespaceMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the audit records of a namespace, newest first. The namespace's
     * own data operations (deleting sessions, memories, or the namespace
     * itself) never remove audit records: they are kept apart, up to the
     * server's audit retention.
     * </pre>
     */
    public dev.memrpc.v1.ListAuditRecordsResponse listAuditRecords(dev.memrpc.v1.ListAuditRecordsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListAuditRecordsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service Administration.
   * <pre>
   * Administration erases users and namespaces and reads the audit log.
   * </pre>
   */
  public static final class AdministrationFutureStub
      extends io.grpc.stub.AbstractFutureStub<AdministrationFutureStub> {
    private AdministrationFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdministrationFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdministrationFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Erases one user of a namespace from every tier, in one call: the user's
     * sessions (working memory, running summaries) and the durable record of
     * the user's threads; those threads' event logs and checkpoints
     * (`Checkpoints`, in every checkpoint namespace); their entries in the
     * namespace feed, acknowledged in every consumer group first so that no
     * group keeps them pending, and in the background jobs' dead letters; the
     * request-id records of appends to those threads; the user's long-term
     * memories, superseded ones included (with their access statistics and
     * merge history); and the memory-change events about the user's memories
     * (forgotten, merged, superseded). The user's threads are found through
     * the durable record kept for each user (every thread a session of the
     * user was ever on), so threads whose sessions expired are erased too.
     * Idempotent: erasing a user with no data erases nothing and succeeds.
     * Writes for the user that run during the erasure may survive it: stop
     * them first. The audit record of the erasure names the user by a digest
     * (`AuditRecord.details`), never by the id.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.EraseUserResponse> eraseUser(
        dev.memrpc.v1.EraseUserRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getEraseUserMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes every key of a namespace: sessions, event logs, the feed and
     * its consumer groups, memories, settings and the jobs' state. The work
     * is done in bounded steps (a few hundred keys each); a call returns when
     * the namespace is gone (`done`), or before its deadline with `done`
     * false and what it deleted so far: call again to go on. A call after a
     * server stopped mid-way goes on from where it stopped. Writes to the
     * namespace while it is being deleted may survive it: stop them first.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.DeleteNamespaceResponse> deleteNamespace(
        dev.memrpc.v1.DeleteNamespaceRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteNamespaceMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the audit records of a namespace, newest first. The namespace's
     * own data operations (deleting sessions, memories, or the namespace
     * itself) never remove audit records: they are kept apart, up to the
     * server's audit retention.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.ListAuditRecordsResponse> listAuditRecords(
        dev.memrpc.v1.ListAuditRecordsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListAuditRecordsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_ERASE_USER = 0;
  private static final int METHODID_DELETE_NAMESPACE = 1;
  private static final int METHODID_LIST_AUDIT_RECORDS = 2;

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
        case METHODID_ERASE_USER:
          serviceImpl.eraseUser((dev.memrpc.v1.EraseUserRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.EraseUserResponse>) responseObserver);
          break;
        case METHODID_DELETE_NAMESPACE:
          serviceImpl.deleteNamespace((dev.memrpc.v1.DeleteNamespaceRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteNamespaceResponse>) responseObserver);
          break;
        case METHODID_LIST_AUDIT_RECORDS:
          serviceImpl.listAuditRecords((dev.memrpc.v1.ListAuditRecordsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.ListAuditRecordsResponse>) responseObserver);
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
          getEraseUserMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.EraseUserRequest,
              dev.memrpc.v1.EraseUserResponse>(
                service, METHODID_ERASE_USER)))
        .addMethod(
          getDeleteNamespaceMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.DeleteNamespaceRequest,
              dev.memrpc.v1.DeleteNamespaceResponse>(
                service, METHODID_DELETE_NAMESPACE)))
        .addMethod(
          getListAuditRecordsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.ListAuditRecordsRequest,
              dev.memrpc.v1.ListAuditRecordsResponse>(
                service, METHODID_LIST_AUDIT_RECORDS)))
        .build();
  }

  private static abstract class AdministrationBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    AdministrationBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.memrpc.v1.AdministrationProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("Administration");
    }
  }

  private static final class AdministrationFileDescriptorSupplier
      extends AdministrationBaseDescriptorSupplier {
    AdministrationFileDescriptorSupplier() {}
  }

  private static final class AdministrationMethodDescriptorSupplier
      extends AdministrationBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    AdministrationMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (AdministrationGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new AdministrationFileDescriptorSupplier())
              .addMethod(getEraseUserMethod())
              .addMethod(getDeleteNamespaceMethod())
              .addMethod(getListAuditRecordsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
