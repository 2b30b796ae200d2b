package dev.memrpc.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Checkpoints stores versioned thread states and their pending writes.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class CheckpointsGrpc {

  private CheckpointsGrpc() {}

  public static final java.lang.String SERVICE_NAME = "memrpc.v1.Checkpoints";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.PutCheckpointRequest,
      dev.memrpc.v1.PutCheckpointResponse> getPutCheckpointMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PutCheckpoint",
      requestType = dev.memrpc.v1.PutCheckpointRequest.class,
      responseType = dev.memrpc.v1.PutCheckpointResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.PutCheckpointRequest,
      dev.memrpc.v1.PutCheckpointResponse> getPutCheckpointMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.PutCheckpointRequest, dev.memrpc.v1.PutCheckpointResponse> getPutCheckpointMethod;
    if ((getPutCheckpointMethod = CheckpointsGrpc.getPutCheckpointMethod) == null) {
      synchronized (CheckpointsGrpc.class) {
        if ((getPutCheckpointMethod = CheckpointsGrpc.getPutCheckpointMethod) == null) {
          CheckpointsGrpc.getPutCheckpointMethod = getPutCheckpointMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.PutCheckpointRequest, dev.memrpc.v1.PutCheckpointResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PutCheckpoint"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.PutCheckpointRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.PutCheckpointResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CheckpointsMethodDescriptorSupplier("PutCheckpoint"))
              .build();
        }
      }
    }
    return getPutCheckpointMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.GetCheckpointRequest,
      dev.memrpc.v1.GetCheckpointResponse> getGetCheckpointMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetCheckpoint",
      requestType = dev.memrpc.v1.GetCheckpointRequest.class,
      responseType = dev.memrpc.v1.GetCheckpointResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.GetCheckpointRequest,
      dev.memrpc.v1.GetCheckpointResponse> getGetCheckpointMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.GetCheckpointRequest, dev.memrpc.v1.GetCheckpointResponse> getGetCheckpointMethod;
    if ((getGetCheckpointMethod = CheckpointsGrpc.getGetCheckpointMethod) == null) {
      synchronized (CheckpointsGrpc.class) {
        if ((getGetCheckpointMethod = CheckpointsGrpc.getGetCheckpointMethod) == null) {
          CheckpointsGrpc.getGetCheckpointMethod = getGetCheckpointMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.GetCheckpointRequest, dev.memrpc.v1.GetCheckpointResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetCheckpoint"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.GetCheckpointRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.GetCheckpointResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CheckpointsMethodDescriptorSupplier("GetCheckpoint"))
              .build();
        }
      }
    }
    return getGetCheckpointMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.ListCheckpointsRequest,
      dev.memrpc.v1.ListCheckpointsResponse> getListCheckpointsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListCheckpoints",
      requestType = dev.memrpc.v1.ListCheckpointsRequest.class,
      responseType = dev.memrpc.v1.ListCheckpointsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.ListCheckpointsRequest,
      dev.memrpc.v1.ListCheckpointsResponse> getListCheckpointsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.ListCheckpointsRequest, dev.memrpc.v1.ListCheckpointsResponse> getListCheckpointsMethod;
    if ((getListCheckpointsMethod = CheckpointsGrpc.getListCheckpointsMethod) == null) {
      synchronized (CheckpointsGrpc.class) {
        if ((getListCheckpointsMethod = CheckpointsGrpc.getListCheckpointsMethod) == null) {
          CheckpointsGrpc.getListCheckpointsMethod = getListCheckpointsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.ListCheckpointsRequest, dev.memrpc.v1.ListCheckpointsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListCheckpoints"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ListCheckpointsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ListCheckpointsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CheckpointsMethodDescriptorSupplier("ListCheckpoints"))
              .build();
        }
      }
    }
    return getListCheckpointsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.PutCheckpointWritesRequest,
      dev.memrpc.v1.PutCheckpointWritesResponse> getPutCheckpointWritesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PutCheckpointWrites",
      requestType = dev.memrpc.v1.PutCheckpointWritesRequest.class,
      responseType = dev.memrpc.v1.PutCheckpointWritesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.PutCheckpointWritesRequest,
      dev.memrpc.v1.PutCheckpointWritesResponse> getPutCheckpointWritesMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.PutCheckpointWritesRequest, dev.memrpc.v1.PutCheckpointWritesResponse> getPutCheckpointWritesMethod;
    if ((getPutCheckpointWritesMethod = CheckpointsGrpc.getPutCheckpointWritesMethod) == null) {
      synchronized (CheckpointsGrpc.class) {
        if ((getPutCheckpointWritesMethod = CheckpointsGrpc.getPutCheckpointWritesMethod) == null) {
          CheckpointsGrpc.getPutCheckpointWritesMethod = getPutCheckpointWritesMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.PutCheckpointWritesRequest, dev.memrpc.v1.PutCheckpointWritesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PutCheckpointWrites"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.PutCheckpointWritesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.PutCheckpointWritesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CheckpointsMethodDescriptorSupplier("PutCheckpointWrites"))
              .build();
        }
      }
    }
    return getPutCheckpointWritesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteCheckpointThreadRequest,
      dev.memrpc.v1.DeleteCheckpointThreadResponse> getDeleteCheckpointThreadMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteCheckpointThread",
      requestType = dev.memrpc.v1.DeleteCheckpointThreadRequest.class,
      responseType = dev.memrpc.v1.DeleteCheckpointThreadResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteCheckpointThreadRequest,
      dev.memrpc.v1.DeleteCheckpointThreadResponse> getDeleteCheckpointThreadMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteCheckpointThreadRequest, dev.memrpc.v1.DeleteCheckpointThreadResponse> getDeleteCheckpointThreadMethod;
    if ((getDeleteCheckpointThreadMethod = CheckpointsGrpc.getDeleteCheckpointThreadMethod) == null) {
      synchronized (CheckpointsGrpc.class) {
        if ((getDeleteCheckpointThreadMethod = CheckpointsGrpc.getDeleteCheckpointThreadMethod) == null) {
          CheckpointsGrpc.getDeleteCheckpointThreadMethod = getDeleteCheckpointThreadMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.DeleteCheckpointThreadRequest, dev.memrpc.v1.DeleteCheckpointThreadResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteCheckpointThread"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteCheckpointThreadRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteCheckpointThreadResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CheckpointsMethodDescriptorSupplier("DeleteCheckpointThread"))
              .build();
        }
      }
    }
    return getDeleteCheckpointThreadMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.CopyCheckpointThreadRequest,
      dev.memrpc.v1.CopyCheckpointThreadResponse> getCopyCheckpointThreadMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CopyCheckpointThread",
      requestType = dev.memrpc.v1.CopyCheckpointThreadRequest.class,
      responseType = dev.memrpc.v1.CopyCheckpointThreadResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.CopyCheckpointThreadRequest,
      dev.memrpc.v1.CopyCheckpointThreadResponse> getCopyCheckpointThreadMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.CopyCheckpointThreadRequest, dev.memrpc.v1.CopyCheckpointThreadResponse> getCopyCheckpointThreadMethod;
    if ((getCopyCheckpointThreadMethod = CheckpointsGrpc.getCopyCheckpointThreadMethod) == null) {
      synchronized (CheckpointsGrpc.class) {
        if ((getCopyCheckpointThreadMethod = CheckpointsGrpc.getCopyCheckpointThreadMethod) == null) {
          CheckpointsGrpc.getCopyCheckpointThreadMethod = getCopyCheckpointThreadMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.CopyCheckpointThreadRequest, dev.memrpc.v1.CopyCheckpointThreadResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CopyCheckpointThread"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.CopyCheckpointThreadRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.CopyCheckpointThreadResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CheckpointsMethodDescriptorSupplier("CopyCheckpointThread"))
              .build();
        }
      }
    }
    return getCopyCheckpointThreadMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.PruneCheckpointsRequest,
      dev.memrpc.v1.PruneCheckpointsResponse> getPruneCheckpointsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PruneCheckpoints",
      requestType = dev.memrpc.v1.PruneCheckpointsRequest.class,
      responseType = dev.memrpc.v1.PruneCheckpointsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.PruneCheckpointsRequest,
      dev.memrpc.v1.PruneCheckpointsResponse> getPruneCheckpointsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.PruneCheckpointsRequest, dev.memrpc.v1.PruneCheckpointsResponse> getPruneCheckpointsMethod;
    if ((getPruneCheckpointsMethod = CheckpointsGrpc.getPruneCheckpointsMethod) == null) {
      synchronized (CheckpointsGrpc.class) {
        if ((getPruneCheckpointsMethod = CheckpointsGrpc.getPruneCheckpointsMethod) == null) {
          CheckpointsGrpc.getPruneCheckpointsMethod = getPruneCheckpointsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.PruneCheckpointsRequest, dev.memrpc.v1.PruneCheckpointsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PruneCheckpoints"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.PruneCheckpointsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.PruneCheckpointsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CheckpointsMethodDescriptorSupplier("PruneCheckpoints"))
              .build();
        }
      }
    }
    return getPruneCheckpointsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteCheckpointRunsRequest,
      dev.memrpc.v1.DeleteCheckpointRunsResponse> getDeleteCheckpointRunsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteCheckpointRuns",
      requestType = dev.memrpc.v1.DeleteCheckpointRunsRequest.class,
      responseType = dev.memrpc.v1.DeleteCheckpointRunsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteCheckpointRunsRequest,
      dev.memrpc.v1.DeleteCheckpointRunsResponse> getDeleteCheckpointRunsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteCheckpointRunsRequest, dev.memrpc.v1.DeleteCheckpointRunsResponse> getDeleteCheckpointRunsMethod;
    if ((getDeleteCheckpointRunsMethod = CheckpointsGrpc.getDeleteCheckpointRunsMethod) == null) {
      synchronized (CheckpointsGrpc.class) {
        if ((getDeleteCheckpointRunsMethod = CheckpointsGrpc.getDeleteCheckpointRunsMethod) == null) {
          CheckpointsGrpc.getDeleteCheckpointRunsMethod = getDeleteCheckpointRunsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.DeleteCheckpointRunsRequest, dev.memrpc.v1.DeleteCheckpointRunsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteCheckpointRuns"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteCheckpointRunsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteCheckpointRunsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CheckpointsMethodDescriptorSupplier("DeleteCheckpointRuns"))
              .build();
        }
      }
    }
    return getDeleteCheckpointRunsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static CheckpointsStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CheckpointsStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CheckpointsStub>() {
        @java.lang.Override
        public CheckpointsStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CheckpointsStub(channel, callOptions);
        }
      };
    return CheckpointsStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static CheckpointsBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CheckpointsBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CheckpointsBlockingV2Stub>() {
        @java.lang.Override
        public CheckpointsBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CheckpointsBlockingV2Stub(channel, callOptions);
        }
      };
    return CheckpointsBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static CheckpointsBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CheckpointsBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CheckpointsBlockingStub>() {
        @java.lang.Override
        public CheckpointsBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CheckpointsBlockingStub(channel, callOptions);
        }
      };
    return CheckpointsBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static CheckpointsFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CheckpointsFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CheckpointsFutureStub>() {
        @java.lang.Override
        public CheckpointsFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CheckpointsFutureStub(channel, callOptions);
        }
      };
    return CheckpointsFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Checkpoints stores versioned thread states and their pending writes.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Stores a checkpoint, replacing one with the same id (its pending writes
     * are kept). Atomic: the checkpoint and its listing entries are written
     * together.
     * </pre>
     */
    default void putCheckpoint(dev.memrpc.v1.PutCheckpointRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.PutCheckpointResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPutCheckpointMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns a checkpoint with its pending writes: the one named by
     * `checkpoint_id`, or the latest (highest id) of the thread's checkpoint
     * namespace. `NOT_FOUND` (`ERROR_REASON_CHECKPOINT_NOT_FOUND`) when there
     * is none. A checkpoint is returned whole: one whose state and writes
     * together exceed what the client receives (4 MiB by default) needs a
     * client with a higher receive limit.
     * </pre>
     */
    default void getCheckpoint(dev.memrpc.v1.GetCheckpointRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.GetCheckpointResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetCheckpointMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the checkpoints of a thread's checkpoint namespace, highest id
     * (newest) first, with their pending writes, optionally before an id and
     * matching metadata. Each call does a bounded amount of work: where many
     * checkpoints do not match the filter, a page can hold fewer than
     * `page_size`, even none, with a `next_page_token` to go on from; only an
     * empty `next_page_token` means the end.
     * </pre>
     */
    default void listCheckpoints(dev.memrpc.v1.ListCheckpointsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ListCheckpointsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListCheckpointsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Records writes of a task against a checkpoint, which need not be stored
     * yet (a client may send them before the checkpoint). A write is keyed by
     * (`task_id`, `index`): a regular write (`index` 0 or more) is kept as
     * first stored and never replaced, so a retry changes nothing; a special
     * write (a negative `index`, such as an error or an interrupt) replaces
     * the one stored under its key.
     * </pre>
     */
    default void putCheckpointWrites(dev.memrpc.v1.PutCheckpointWritesRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.PutCheckpointWritesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPutCheckpointWritesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes every checkpoint and pending write of a thread, in every
     * checkpoint namespace, in one atomic step (as `CopyCheckpointThread` and
     * each thread of `PruneCheckpoints` do: their time grows with the
     * thread's checkpoints). Deleting a thread without checkpoints is not an
     * error.
     * </pre>
     */
    default void deleteCheckpointThread(dev.memrpc.v1.DeleteCheckpointThreadRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteCheckpointThreadResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteCheckpointThreadMethod(), responseObserver);
    }

    /**
     * <pre>
     * Copies every checkpoint and pending write of a thread, in every
     * checkpoint namespace, to another thread of the namespace, keeping their
     * ids, parents, runs and metadata. A checkpoint of the target with the
     * same id is replaced, with its writes; the target's other checkpoints
     * are kept. Copying a thread without checkpoints copies nothing.
     * </pre>
     */
    default void copyCheckpointThread(dev.memrpc.v1.CopyCheckpointThreadRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.CopyCheckpointThreadResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCopyCheckpointThreadMethod(), responseObserver);
    }

    /**
     * <pre>
     * Prunes the checkpoints of threads: keeps only the latest checkpoint of
     * each checkpoint namespace with its writes, or deletes them all.
     * Threads without checkpoints are skipped.
     * </pre>
     */
    default void pruneCheckpoints(dev.memrpc.v1.PruneCheckpointsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.PruneCheckpointsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPruneCheckpointsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes the checkpoints written by runs (`PutCheckpointRequest.run_id`),
     * with their pending writes, in every thread of the namespace.
     * </pre>
     */
    default void deleteCheckpointRuns(dev.memrpc.v1.DeleteCheckpointRunsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteCheckpointRunsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteCheckpointRunsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service Checkpoints.
   * <pre>
   * Checkpoints stores versioned thread states and their pending writes.
   * </pre>
   */
  public static abstract class CheckpointsImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return CheckpointsGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service Checkpoints.
   * <pre>
   * Checkpoints stores versioned thread states and their pending writes.
   * </pre>
   */
  public static final class CheckpointsStub
      extends io.grpc.stub.AbstractAsyncStub<CheckpointsStub> {
    private CheckpointsStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CheckpointsStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CheckpointsStub(channel, callOptions);
    }

    /**
     * <pre>
     * Stores a checkpoint, replacing one with the same id (its pending writes
     * are kept). Atomic: the checkpoint and its listing entries are written
     * together.
     * </pre>
     */
    public void putCheckpoint(dev.memrpc.v1.PutCheckpointRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.PutCheckpointResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPutCheckpointMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns a checkpoint with its pending writes: the one named by
     * `checkpoint_id`, or the latest (highest id) of the thread's checkpoint
     * namespace. `NOT_FOUND` (`ERROR_REASON_CHECKPOINT_NOT_FOUND`) when there
     * is none. A checkpoint is returned whole: one whose state and writes
     * together exceed what the client receives (4 MiB by default) needs a
     * client with a higher receive limit.
     * </pre>
     */
    public void getCheckpoint(dev.memrpc.v1.GetCheckpointRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.GetCheckpointResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetCheckpointMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the checkpoints of a thread's checkpoint namespace, highest id
     * (newest) first, with their pending writes, optionally before an id and
     * matching metadata. Each call does a bounded amount of work: where many
     * checkpoints do not match the filter, a page can hold fewer than
     * `page_size`, even none, with a `next_page_token` to go on from; only an
     * empty `next_page_token` means the end.
     * </pre>
     */
    public void listCheckpoints(dev.memrpc.v1.ListCheckpointsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ListCheckpointsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListCheckpointsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Records writes of a task against a checkpoint, which need not be stored
     * yet (a client may send them before the checkpoint). A write is keyed by
     * (`task_id`, `index`): a regular write (`index` 0 or more) is kept as
     * first stored and never replaced, so a retry changes nothing; a special
     * write (a negative `index`, such as an error or an interrupt) replaces
     * the one stored under its key.
     * </pre>
     */
    public void putCheckpointWrites(dev.memrpc.v1.PutCheckpointWritesRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.PutCheckpointWritesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPutCheckpointWritesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes every checkpoint and pending write of a thread, in every
     * checkpoint namespace, in one atomic step (as `CopyCheckpointThread` and
     * each thread of `PruneCheckpoints` do: their time grows with the
     * thread's checkpoints). Deleting a thread without checkpoints is not an
     * error.
     * </pre>
     */
    public void deleteCheckpointThread(dev.memrpc.v1.DeleteCheckpointThreadRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteCheckpointThreadResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteCheckpointThreadMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Copies every checkpoint and pending write of a thread, in every
     * checkpoint namespace, to another thread of the namespace, keeping their
     * ids, parents, runs and metadata. A checkpoint of the target with the
     * same id is replaced, with its writes; the target's other checkpoints
     * are kept. Copying a thread without checkpoints copies nothing.
     * </pre>
     */
    public void copyCheckpointThread(dev.memrpc.v1.CopyCheckpointThreadRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.CopyCheckpointThreadResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCopyCheckpointThreadMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Prunes the checkpoints of threads: keeps only the latest checkpoint of
     * each checkpoint namespace with its writes, or deletes them all.
     * Threads without checkpoints are skipped.
     * </pre>
     */
    public void pruneCheckpoints(dev.memrpc.v1.PruneCheckpointsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.PruneCheckpointsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPruneCheckpointsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes the checkpoints written by runs (`PutCheckpointRequest.run_id`),
     * with their pending writes, in every thread of the namespace.
     * </pre>
     */
    public void deleteCheckpointRuns(dev.memrpc.v1.DeleteCheckpointRunsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteCheckpointRunsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteCheckpointRunsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service Checkpoints.
   * <pre>
   * Checkpoints stores versioned thread states and their pending writes.
   * </pre>
   */
  public static final class CheckpointsBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<CheckpointsBlockingV2Stub> {
    private CheckpointsBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CheckpointsBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CheckpointsBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Stores a checkpoint, replacing one with the same id (its pending writes
     * are kept). Atomic: the checkpoint and its listing entries are written
     * together.
     * </pre>
     */
    public dev.memrpc.v1.PutCheckpointResponse putCheckpoint(dev.memrpc.v1.PutCheckpointRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getPutCheckpointMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns a checkpoint with its pending writes: the one named by
     * `checkpoint_id`, or the latest (highest id) of the thread's checkpoint
     * namespace. `NOT_FOUND` (`ERROR_REASON_CHECKPOINT_NOT_FOUND`) when there
     * is none. A checkpoint is returned whole: one whose state and writes
     * together exceed what the client receives (4 MiB by default) needs a
     * client with a higher receive limit.
     * </pre>
     */
    public dev.memrpc.v1.GetCheckpointResponse getCheckpoint(dev.memrpc.v1.GetCheckpointRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetCheckpointMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the checkpoints of a thread's checkpoint namespace, highest id
     * (newest) first, with their pending writes, optionally before an id and
     * matching metadata. Each call does a bounded amount of work: where many
     * checkpoints do not match the filter, a page can hold fewer than
     * `page_size`, even none, with a `next_page_token` to go on from; only an
     * empty `next_page_token` means the end.
     * </pre>
     */
    public dev.memrpc.v1.ListCheckpointsResponse listCheckpoints(dev.memrpc.v1.ListCheckpointsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListCheckpointsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Records writes of a task against a checkpoint, which need not be stored
     * yet (a client may send them before the checkpoint). A write is keyed by
     * (`task_id`, `index`): a regular write (`index` 0 or more) is kept as
     * first stored and never replaced, so a retry changes nothing; a special
     * write (a negative `index`, such as an error or an interrupt) replaces
     * the one stored under its key.
     * </pre>
     */
    public dev.memrpc.v1.PutCheckpointWritesResponse putCheckpointWrites(dev.memrpc.v1.PutCheckpointWritesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getPutCheckpointWritesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes every checkpoint and pending write of a thread, in every
     * checkpoint namespace, in one atomic step (as `CopyCheckpointThread` and
     * each thread of `PruneCheckpoints` do: their time grows with the
     * thread's checkpoints). Deleting a thread without checkpoints is not an
     * error.
     * </pre>
     */
    public dev.memrpc.v1.DeleteCheckpointThreadResponse deleteCheckpointThread(dev.memrpc.v1.DeleteCheckpointThreadRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteCheckpointThreadMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Copies every checkpoint and pending write of a thread, in every
     * checkpoint namespace, to another thread of the namespace, keeping their
     * ids, parents, runs and metadata. A checkpoint of the target with the
     * same id is replaced, with its writes; the target's other checkpoints
     * are kept. Copying a thread without checkpoints copies nothing.
     * </pre>
     */
    public dev.memrpc.v1.CopyCheckpointThreadResponse copyCheckpointThread(dev.memrpc.v1.CopyCheckpointThreadRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCopyCheckpointThreadMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Prunes the checkpoints of threads: keeps only the latest checkpoint of
     * each checkpoint namespace with its writes, or deletes them all.
     * Threads without checkpoints are skipped.
     * </pre>
     */
    public dev.memrpc.v1.PruneCheckpointsResponse pruneCheckpoints(dev.memrpc.v1.PruneCheckpointsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getPruneCheckpointsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes the checkpoints written by runs (`PutCheckpointRequest.run_id`),
     * with their pending writes, in every thread of the namespace.
     * </pre>
     */
    public dev.memrpc.v1.DeleteCheckpointRunsResponse deleteCheckpointRuns(dev.memrpc.v1.DeleteCheckpointRunsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteCheckpointRunsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service Checkpoints.
   * <pre>
   * Checkpoints stores versioned thread states and their pending writes.
   * </pre>
   */
  public static final class CheckpointsBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<CheckpointsBlockingStub> {
    private CheckpointsBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CheckpointsBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CheckpointsBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Stores a checkpoint, replacing one with the same id (its pending writes
     * are kept). Atomic: the checkpoint and its listing entries are written
     * together.
     * </pre>
     */
    public dev.memrpc.v1.PutCheckpointResponse putCheckpoint(dev.memrpc.v1.PutCheckpointRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPutCheckpointMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns a checkpoint with its pending writes: the one named by
     * `checkpoint_id`, or the latest (highest id) of the thread's checkpoint
     * namespace. `NOT_FOUND` (`ERROR_REASON_CHECKPOINT_NOT_FOUND`) when there
     * is none. A checkpoint is returned whole: one whose state and writes
     * together exceed what the client receives (4 MiB by default) needs a
     * client with a higher receive limit.
     * </pre>
     */
    public dev.memrpc.v1.GetCheckpointResponse getCheckpoint(dev.memrpc.v1.GetCheckpointRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetCheckpointMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the checkpoints of a thread's checkpoint namespace, highest id
     * (newest) first, with their pending writes, optionally before an id and
     * matching metadata. Each call does a bounded amount of work: where many
     * checkpoints do not match the filter, a page can hold fewer than
     * `page_size`, even none, with a `next_page_token` to go on from; only an
     * empty `next_page_token` means the end.
     * </pre>
     */
    public dev.memrpc.v1.ListCheckpointsResponse listCheckpoints(dev.memrpc.v1.ListCheckpointsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListCheckpointsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Records writes of a task against a checkpoint, which need not be stored
     * yet (a client may send them before the checkpoint). A write is keyed by
     * (`task_id`, `index`): a regular write (`index` 0 or more) is kept as
     * first stored and never replaced, so a retry changes nothing; a special
     * write (a negative `index`, such as an error or an interrupt) replaces
     * the one stored under its key.
     * </pre>
     */
    public dev.memrpc.v1.PutCheckpointWritesResponse putCheckpointWrites(dev.memrpc.v1.PutCheckpointWritesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPutCheckpointWritesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes every checkpoint and pending write of a thread, in every
     * checkpoint namespace, in one atomic step (as `CopyCheckpointThread` and
     * each thread of `PruneCheckpoints` do: their time grows with the
     * thread's checkpoints). Deleting a thread without checkpoints is not an
     * error.
     * </pre>
     */
    public dev.memrpc.v1.DeleteCheckpointThreadResponse deleteCheckpointThread(dev.memrpc.v1.DeleteCheckpointThreadRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteCheckpointThreadMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Copies every checkpoint and pending write of a thread, in every
     * checkpoint namespace, to another thread of the namespace, keeping their
     * ids, parents, runs and metadata. A checkpoint of the target with the
     * same id is replaced, with its writes; the target's other checkpoints
     * are kept. Copying a thread without checkpoints copies nothing.
     * </pre>
     */
    public dev.memrpc.v1.CopyCheckpointThreadResponse copyCheckpointThread(dev.memrpc.v1.CopyCheckpointThreadRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCopyCheckpointThreadMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Prunes the checkpoints of threads: keeps only the latest checkpoint of
     * each checkpoint namespace with its writes, or deletes them all.
     * Threads without checkpoints are skipped.
     * </pre>
     */
    public dev.memrpc.v1.PruneCheckpointsResponse pruneCheckpoints(dev.memrpc.v1.PruneCheckpointsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPruneCheckpointsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes the checkpoints written by runs (`PutCheckpointRequest.run_id`),
     * with their pending writes, in every thread of the namespace.
     * </pre>
     */
    public dev.memrpc.v1.DeleteCheckpointRunsResponse deleteCheckpointRuns(dev.memrpc.v1.DeleteCheckpointRunsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteCheckpointRunsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service Checkpoints.
   * <pre>
   * Checkpoints stores versioned thread states and their pending writes.
   * </pre>
   */
  public static final class CheckpointsFutureStub
      extends io.grpc.stub.AbstractFutureStub<CheckpointsFutureStub> {
    private CheckpointsFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CheckpointsFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CheckpointsFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Stores a checkpoint, replacing one with the same id (its pending writes
     * are kept). Atomic: the checkpoint and its listing entries are written
     * together.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.PutCheckpointResponse> putCheckpoint(
        dev.memrpc.v1.PutCheckpointRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPutCheckpointMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns a checkpoint with its pending writes: the one named by
     * `checkpoint_id`, or the latest (highest id) of the thread's checkpoint
     * namespace. `NOT_FOUND` (`ERROR_REASON_CHECKPOINT_NOT_FOUND`) when there
     * is none. A checkpoint is returned whole: one whose state and writes
     * together exceed what the client receives (4 MiB by default) needs a
     * client with a higher receive limit.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.GetCheckpointResponse> getCheckpoint(
        dev.memrpc.v1.GetCheckpointRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetCheckpointMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the checkpoints of a thread's checkpoint namespace, highest id
     * (newest) first, with their pending writes, optionally before an id and
     * matching metadata. Each call does a bounded amount of work: where many
     * checkpoints do not match the filter, a page can hold fewer than
     * `page_size`, even none, with a `next_page_token` to go on from; only an
     * empty `next_page_token` means the end.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.ListCheckpointsResponse> listCheckpoints(
        dev.memrpc.v1.ListCheckpointsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListCheckpointsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Records writes of a task against a checkpoint, which need not be stored
     * yet (a client may send them before the checkpoint). A write is keyed by
     * (`task_id`, `index`): a regular write (`index` 0 or more) is kept as
     * first stored and never replaced, so a retry changes nothing; a special
     * write (a negative `index`, such as an error or an interrupt) replaces
     * the one stored under its key.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.PutCheckpointWritesResponse> putCheckpointWrites(
        dev.memrpc.v1.PutCheckpointWritesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPutCheckpointWritesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes every checkpoint and pending write of a thread, in every
     * checkpoint namespace, in one atomic step (as `CopyCheckpointThread` and
     * each thread of `PruneCheckpoints` do: their time grows with the
     * thread's checkpoints). Deleting a thread without checkpoints is not an
     * error.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.DeleteCheckpointThreadResponse> deleteCheckpointThread(
        dev.memrpc.v1.DeleteCheckpointThreadRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteCheckpointThreadMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Copies every checkpoint and pending write of a thread, in every
     * checkpoint namespace, to another thread of the namespace, keeping their
     * ids, parents, runs and metadata. A checkpoint of the target with the
     * same id is replaced, with its writes; the target's other checkpoints
     * are kept. Copying a thread without checkpoints copies nothing.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.CopyCheckpointThreadResponse> copyCheckpointThread(
        dev.memrpc.v1.CopyCheckpointThreadRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCopyCheckpointThreadMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Prunes the checkpoints of threads: keeps only the latest checkpoint of
     * each checkpoint namespace with its writes, or deletes them all.
     * Threads without checkpoints are skipped.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.PruneCheckpointsResponse> pruneCheckpoints(
        dev.memrpc.v1.PruneCheckpointsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPruneCheckpointsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes the checkpoints written by runs (`PutCheckpointRequest.run_id`),
     * with their pending writes, in every thread of the namespace.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.DeleteCheckpointRunsResponse> deleteCheckpointRuns(
        dev.memrpc.v1.DeleteCheckpointRunsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteCheckpointRunsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_PUT_CHECKPOINT = 0;
  private static final int METHODID_GET_CHECKPOINT = 1;
  private static final int METHODID_LIST_CHECKPOINTS = 2;
  private static final int METHODID_PUT_CHECKPOINT_WRITES = 3;
  private static final int METHODID_DELETE_CHECKPOINT_THREAD = 4;
  private static final int METHODID_COPY_CHECKPOINT_THREAD = 5;
  private static final int METHODID_PRUNE_CHECKPOINTS = 6;
  private static final int METHODID_DELETE_CHECKPOINT_RUNS = 7;

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
        case METHODID_PUT_CHECKPOINT:
          serviceImpl.putCheckpoint((dev.memrpc.v1.PutCheckpointRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.PutCheckpointResponse>) responseObserver);
          break;
        case METHODID_GET_CHECKPOINT:
          serviceImpl.getCheckpoint((dev.memrpc.v1.GetCheckpointRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.GetCheckpointResponse>) responseObserver);
          break;
        case METHODID_LIST_CHECKPOINTS:
          serviceImpl.listCheckpoints((dev.memrpc.v1.ListCheckpointsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.ListCheckpointsResponse>) responseObserver);
          break;
        case METHODID_PUT_CHECKPOINT_WRITES:
          serviceImpl.putCheckpointWrites((dev.memrpc.v1.PutCheckpointWritesRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.PutCheckpointWritesResponse>) responseObserver);
          break;
        case METHODID_DELETE_CHECKPOINT_THREAD:
          serviceImpl.deleteCheckpointThread((dev.memrpc.v1.DeleteCheckpointThreadRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteCheckpointThreadResponse>) responseObserver);
          break;
        case METHODID_COPY_CHECKPOINT_THREAD:
          serviceImpl.copyCheckpointThread((dev.memrpc.v1.CopyCheckpointThreadRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.CopyCheckpointThreadResponse>) responseObserver);
          break;
        case METHODID_PRUNE_CHECKPOINTS:
          serviceImpl.pruneCheckpoints((dev.memrpc.v1.PruneCheckpointsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.PruneCheckpointsResponse>) responseObserver);
          break;
        case METHODID_DELETE_CHECKPOINT_RUNS:
          serviceImpl.deleteCheckpointRuns((dev.memrpc.v1.DeleteCheckpointRunsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteCheckpointRunsResponse>) responseObserver);
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
          getPutCheckpointMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.PutCheckpointRequest,
              dev.memrpc.v1.PutCheckpointResponse>(
                service, METHODID_PUT_CHECKPOINT)))
        .addMethod(
          getGetCheckpointMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.GetCheckpointRequest,
              dev.memrpc.v1.GetCheckpointResponse>(
                service, METHODID_GET_CHECKPOINT)))
        .addMethod(
          getListCheckpointsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.ListCheckpointsRequest,
              dev.memrpc.v1.ListCheckpointsResponse>(
                service, METHODID_LIST_CHECKPOINTS)))
        .addMethod(
          getPutCheckpointWritesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.PutCheckpointWritesRequest,
              dev.memrpc.v1.PutCheckpointWritesResponse>(
                service, METHODID_PUT_CHECKPOINT_WRITES)))
        .addMethod(
          getDeleteCheckpointThreadMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.DeleteCheckpointThreadRequest,
              dev.memrpc.v1.DeleteCheckpointThreadResponse>(
                service, METHODID_DELETE_CHECKPOINT_THREAD)))
        .addMethod(
          getCopyCheckpointThreadMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.CopyCheckpointThreadRequest,
              dev.memrpc.v1.CopyCheckpointThreadResponse>(
                service, METHODID_COPY_CHECKPOINT_THREAD)))
        .addMethod(
          getPruneCheckpointsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.PruneCheckpointsRequest,
              dev.memrpc.v1.PruneCheckpointsResponse>(
                service, METHODID_PRUNE_CHECKPOINTS)))
        .addMethod(
          getDeleteCheckpointRunsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.DeleteCheckpointRunsRequest,
              dev.memrpc.v1.DeleteCheckpointRunsResponse>(
                service, METHODID_DELETE_CHECKPOINT_RUNS)))
        .build();
  }

  private static abstract class CheckpointsBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    CheckpointsBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.memrpc.v1.CheckpointsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("Checkpoints");
    }
  }

  private static final class CheckpointsFileDescriptorSupplier
      extends CheckpointsBaseDescriptorSupplier {
    CheckpointsFileDescriptorSupplier() {}
  }

  private static final class CheckpointsMethodDescriptorSupplier
      extends CheckpointsBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    CheckpointsMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (CheckpointsGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new CheckpointsFileDescriptorSupplier())
              .addMethod(getPutCheckpointMethod())
              .addMethod(getGetCheckpointMethod())
              .addMethod(getListCheckpointsMethod())
              .addMethod(getPutCheckpointWritesMethod())
              .addMethod(getDeleteCheckpointThreadMethod())
              .addMethod(getCopyCheckpointThreadMethod())
              .addMethod(getPruneCheckpointsMethod())
              .addMethod(getDeleteCheckpointRunsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
