package dev.memrpc.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * LongTermMemory stores memories with their embeddings and recalls them by
 * meaning, filtered by user, kind, thread, topic and time, in one
 * `FT.SEARCH`. Writes deduplicate: a memory that repeats one already stored
 * in the same scope is not stored twice.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class LongTermMemoryGrpc {

  private LongTermMemoryGrpc() {}

  public static final java.lang.String SERVICE_NAME = "memrpc.v1.LongTermMemory";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.CreateMemoriesRequest,
      dev.memrpc.v1.CreateMemoriesResponse> getCreateMemoriesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateMemories",
      requestType = dev.memrpc.v1.CreateMemoriesRequest.class,
      responseType = dev.memrpc.v1.CreateMemoriesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.CreateMemoriesRequest,
      dev.memrpc.v1.CreateMemoriesResponse> getCreateMemoriesMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.CreateMemoriesRequest, dev.memrpc.v1.CreateMemoriesResponse> getCreateMemoriesMethod;
    if ((getCreateMemoriesMethod = LongTermMemoryGrpc.getCreateMemoriesMethod) == null) {
      synchronized (LongTermMemoryGrpc.class) {
        if ((getCreateMemoriesMethod = LongTermMemoryGrpc.getCreateMemoriesMethod) == null) {
          LongTermMemoryGrpc.getCreateMemoriesMethod = getCreateMemoriesMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.CreateMemoriesRequest, dev.memrpc.v1.CreateMemoriesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateMemories"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.CreateMemoriesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.CreateMemoriesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LongTermMemoryMethodDescriptorSupplier("CreateMemories"))
              .build();
        }
      }
    }
    return getCreateMemoriesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.SearchMemoriesRequest,
      dev.memrpc.v1.SearchMemoriesResponse> getSearchMemoriesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SearchMemories",
      requestType = dev.memrpc.v1.SearchMemoriesRequest.class,
      responseType = dev.memrpc.v1.SearchMemoriesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.SearchMemoriesRequest,
      dev.memrpc.v1.SearchMemoriesResponse> getSearchMemoriesMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.SearchMemoriesRequest, dev.memrpc.v1.SearchMemoriesResponse> getSearchMemoriesMethod;
    if ((getSearchMemoriesMethod = LongTermMemoryGrpc.getSearchMemoriesMethod) == null) {
      synchronized (LongTermMemoryGrpc.class) {
        if ((getSearchMemoriesMethod = LongTermMemoryGrpc.getSearchMemoriesMethod) == null) {
          LongTermMemoryGrpc.getSearchMemoriesMethod = getSearchMemoriesMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.SearchMemoriesRequest, dev.memrpc.v1.SearchMemoriesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SearchMemories"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.SearchMemoriesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.SearchMemoriesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LongTermMemoryMethodDescriptorSupplier("SearchMemories"))
              .build();
        }
      }
    }
    return getSearchMemoriesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.ListMemoriesRequest,
      dev.memrpc.v1.ListMemoriesResponse> getListMemoriesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListMemories",
      requestType = dev.memrpc.v1.ListMemoriesRequest.class,
      responseType = dev.memrpc.v1.ListMemoriesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.ListMemoriesRequest,
      dev.memrpc.v1.ListMemoriesResponse> getListMemoriesMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.ListMemoriesRequest, dev.memrpc.v1.ListMemoriesResponse> getListMemoriesMethod;
    if ((getListMemoriesMethod = LongTermMemoryGrpc.getListMemoriesMethod) == null) {
      synchronized (LongTermMemoryGrpc.class) {
        if ((getListMemoriesMethod = LongTermMemoryGrpc.getListMemoriesMethod) == null) {
          LongTermMemoryGrpc.getListMemoriesMethod = getListMemoriesMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.ListMemoriesRequest, dev.memrpc.v1.ListMemoriesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListMemories"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ListMemoriesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ListMemoriesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LongTermMemoryMethodDescriptorSupplier("ListMemories"))
              .build();
        }
      }
    }
    return getListMemoriesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.GetMemoryRequest,
      dev.memrpc.v1.GetMemoryResponse> getGetMemoryMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetMemory",
      requestType = dev.memrpc.v1.GetMemoryRequest.class,
      responseType = dev.memrpc.v1.GetMemoryResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.GetMemoryRequest,
      dev.memrpc.v1.GetMemoryResponse> getGetMemoryMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.GetMemoryRequest, dev.memrpc.v1.GetMemoryResponse> getGetMemoryMethod;
    if ((getGetMemoryMethod = LongTermMemoryGrpc.getGetMemoryMethod) == null) {
      synchronized (LongTermMemoryGrpc.class) {
        if ((getGetMemoryMethod = LongTermMemoryGrpc.getGetMemoryMethod) == null) {
          LongTermMemoryGrpc.getGetMemoryMethod = getGetMemoryMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.GetMemoryRequest, dev.memrpc.v1.GetMemoryResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetMemory"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.GetMemoryRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.GetMemoryResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LongTermMemoryMethodDescriptorSupplier("GetMemory"))
              .build();
        }
      }
    }
    return getGetMemoryMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.UpdateMemoryRequest,
      dev.memrpc.v1.UpdateMemoryResponse> getUpdateMemoryMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateMemory",
      requestType = dev.memrpc.v1.UpdateMemoryRequest.class,
      responseType = dev.memrpc.v1.UpdateMemoryResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.UpdateMemoryRequest,
      dev.memrpc.v1.UpdateMemoryResponse> getUpdateMemoryMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.UpdateMemoryRequest, dev.memrpc.v1.UpdateMemoryResponse> getUpdateMemoryMethod;
    if ((getUpdateMemoryMethod = LongTermMemoryGrpc.getUpdateMemoryMethod) == null) {
      synchronized (LongTermMemoryGrpc.class) {
        if ((getUpdateMemoryMethod = LongTermMemoryGrpc.getUpdateMemoryMethod) == null) {
          LongTermMemoryGrpc.getUpdateMemoryMethod = getUpdateMemoryMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.UpdateMemoryRequest, dev.memrpc.v1.UpdateMemoryResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateMemory"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.UpdateMemoryRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.UpdateMemoryResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LongTermMemoryMethodDescriptorSupplier("UpdateMemory"))
              .build();
        }
      }
    }
    return getUpdateMemoryMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteMemoryRequest,
      dev.memrpc.v1.DeleteMemoryResponse> getDeleteMemoryMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteMemory",
      requestType = dev.memrpc.v1.DeleteMemoryRequest.class,
      responseType = dev.memrpc.v1.DeleteMemoryResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteMemoryRequest,
      dev.memrpc.v1.DeleteMemoryResponse> getDeleteMemoryMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteMemoryRequest, dev.memrpc.v1.DeleteMemoryResponse> getDeleteMemoryMethod;
    if ((getDeleteMemoryMethod = LongTermMemoryGrpc.getDeleteMemoryMethod) == null) {
      synchronized (LongTermMemoryGrpc.class) {
        if ((getDeleteMemoryMethod = LongTermMemoryGrpc.getDeleteMemoryMethod) == null) {
          LongTermMemoryGrpc.getDeleteMemoryMethod = getDeleteMemoryMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.DeleteMemoryRequest, dev.memrpc.v1.DeleteMemoryResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteMemory"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteMemoryRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteMemoryResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LongTermMemoryMethodDescriptorSupplier("DeleteMemory"))
              .build();
        }
      }
    }
    return getDeleteMemoryMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteMemoriesRequest,
      dev.memrpc.v1.DeleteMemoriesResponse> getDeleteMemoriesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteMemories",
      requestType = dev.memrpc.v1.DeleteMemoriesRequest.class,
      responseType = dev.memrpc.v1.DeleteMemoriesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteMemoriesRequest,
      dev.memrpc.v1.DeleteMemoriesResponse> getDeleteMemoriesMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteMemoriesRequest, dev.memrpc.v1.DeleteMemoriesResponse> getDeleteMemoriesMethod;
    if ((getDeleteMemoriesMethod = LongTermMemoryGrpc.getDeleteMemoriesMethod) == null) {
      synchronized (LongTermMemoryGrpc.class) {
        if ((getDeleteMemoriesMethod = LongTermMemoryGrpc.getDeleteMemoriesMethod) == null) {
          LongTermMemoryGrpc.getDeleteMemoriesMethod = getDeleteMemoriesMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.DeleteMemoriesRequest, dev.memrpc.v1.DeleteMemoriesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteMemories"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteMemoriesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteMemoriesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LongTermMemoryMethodDescriptorSupplier("DeleteMemories"))
              .build();
        }
      }
    }
    return getDeleteMemoriesMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static LongTermMemoryStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<LongTermMemoryStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<LongTermMemoryStub>() {
        @java.lang.Override
        public LongTermMemoryStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new LongTermMemoryStub(channel, callOptions);
        }
      };
    return LongTermMemoryStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static LongTermMemoryBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<LongTermMemoryBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<LongTermMemoryBlockingV2Stub>() {
        @java.lang.Override
        public LongTermMemoryBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new LongTermMemoryBlockingV2Stub(channel, callOptions);
        }
      };
    return LongTermMemoryBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static LongTermMemoryBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<LongTermMemoryBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<LongTermMemoryBlockingStub>() {
        @java.lang.Override
        public LongTermMemoryBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new LongTermMemoryBlockingStub(channel, callOptions);
        }
      };
    return LongTermMemoryBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static LongTermMemoryFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<LongTermMemoryFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<LongTermMemoryFutureStub>() {
        @java.lang.Override
        public LongTermMemoryFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new LongTermMemoryFutureStub(channel, callOptions);
        }
      };
    return LongTermMemoryFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * LongTermMemory stores memories with their embeddings and recalls them by
   * meaning, filtered by user, kind, thread, topic and time, in one
   * `FT.SEARCH`. Writes deduplicate: a memory that repeats one already stored
   * in the same scope is not stored twice.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates memories. For each item, atomically in one Lua script: when a
     * memory of the same namespace, user and kind has the same normalised text
     * or lies within `dedup_max_distance`, nothing is inserted and that memory's
     * `hit_count` grows by one (`CREATE_OUTCOME_DUPLICATE`); otherwise the item
     * is stored (`CREATE_OUTCOME_CREATED`). With `dedup_mode` off, every item
     * is stored. An item may name its id (`MemoryInput.memory_id`): an id
     * already taken fails the call with `ALREADY_EXISTS`
     * (`ERROR_REASON_MEMORY_ALREADY_EXISTS`), unless `replace_existing` asks
     * to replace that memory (`CREATE_OUTCOME_REPLACED`). A memory is
     * searchable as soon as this call returns. Safe to retry with a
     * `request_id`.
     * </pre>
     */
    default void createMemories(dev.memrpc.v1.CreateMemoriesRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.CreateMemoriesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateMemoriesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns the memories that best match a text or a vector, best first,
     * filtered: by meaning (nearest, never farther than `max_distance`), by
     * words, or both (see `RecallMode`).
     * </pre>
     */
    default void searchMemories(dev.memrpc.v1.SearchMemoriesRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.SearchMemoriesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSearchMemoriesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Pages through the live memories of a namespace that match a filter,
     * newest first (or most hit first), without a query: for exports, reviews
     * and administration. Each page is a few searches, each bounded by the
     * page's size rather than the namespace's, that start right after the
     * last memory of the page before (keyset, no offset), so a deep page
     * costs no more than the first, and a memory deleted meanwhile makes
     * no other one skipped or listed twice; its memories are then read until
     * the page's 3 MiB are reached. Expired memories are never listed.
     * </pre>
     */
    default void listMemories(dev.memrpc.v1.ListMemoriesRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ListMemoriesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListMemoriesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one memory. `NOT_FOUND` (`ERROR_REASON_MEMORY_NOT_FOUND`) when it
     * does not exist or has expired.
     * </pre>
     */
    default void getMemory(dev.memrpc.v1.GetMemoryRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.GetMemoryResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetMemoryMethod(), responseObserver);
    }

    /**
     * <pre>
     * Changes a memory's content. A new text is embedded again and
     * deduplicated: when it repeats another memory of the same scope, the call
     * fails with `ALREADY_EXISTS` (`ERROR_REASON_MEMORY_DUPLICATE`) naming that
     * memory, and nothing changes. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`) when another writer got
     * there first.
     * </pre>
     */
    default void updateMemory(dev.memrpc.v1.UpdateMemoryRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.UpdateMemoryResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateMemoryMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes one memory. `NOT_FOUND` (`ERROR_REASON_MEMORY_NOT_FOUND`) when
     * it does not exist; `ABORTED` when `expected_version` is not its version
     * (also when it does not exist).
     * </pre>
     */
    default void deleteMemory(dev.memrpc.v1.DeleteMemoryRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteMemoryResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteMemoryMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes every memory of a namespace that matches a filter, for example
     * all memories of one user ("forget me").
     * </pre>
     */
    default void deleteMemories(dev.memrpc.v1.DeleteMemoriesRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteMemoriesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteMemoriesMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service LongTermMemory.
   * <pre>
   * LongTermMemory stores memories with their embeddings and recalls them by
   * meaning, filtered by user, kind, thread, topic and time, in one
   * `FT.SEARCH`. Writes deduplicate: a memory that repeats one already stored
   * in the same scope is not stored twice.
   * </pre>
   */
  public static abstract class LongTermMemoryImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return LongTermMemoryGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service LongTermMemory.
   * <pre>
   * LongTermMemory stores memories with their embeddings and recalls them by
   * meaning, filtered by user, kind, thread, topic and time, in one
   * `FT.SEARCH`. Writes deduplicate: a memory that repeats one already stored
   * in the same scope is not stored twice.
   * </pre>
   */
  public static final class LongTermMemoryStub
      extends io.grpc.stub.AbstractAsyncStub<LongTermMemoryStub> {
    private LongTermMemoryStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected LongTermMemoryStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new LongTermMemoryStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates memories. For each item, atomically in one Lua script: when a
     * memory of the same namespace, user and kind has the same normalised text
     * or lies within `dedup_max_distance`, nothing is inserted and that memory's
     * `hit_count` grows by one (`CREATE_OUTCOME_DUPLICATE`); otherwise the item
     * is stored (`CREATE_OUTCOME_CREATED`). With `dedup_mode` off, every item
     * is stored. An item may name its id (`MemoryInput.memory_id`): an id
     * already taken fails the call with `ALREADY_EXISTS`
     * (`ERROR_REASON_MEMORY_ALREADY_EXISTS`), unless `replace_existing` asks
     * to replace that memory (`CREATE_OUTCOME_REPLACED`). A memory is
     * searchable as soon as this call returns. Safe to retry with a
     * `request_id`.
     * </pre>
     */
    public void createMemories(dev.memrpc.v1.CreateMemoriesRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.CreateMemoriesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateMemoriesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns the memories that best match a text or a vector, best first,
     * filtered: by meaning (nearest, never farther than `max_distance`), by
     * words, or both (see `RecallMode`).
     * </pre>
     */
    public void searchMemories(dev.memrpc.v1.SearchMemoriesRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.SearchMemoriesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSearchMemoriesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Pages through the live memories of a namespace that match a filter,
     * newest first (or most hit first), without a query: for exports, reviews
     * and administration. Each page is a few searches, each bounded by the
     * page's size rather than the namespace's, that start right after the
     * last memory of the page before (keyset, no offset), so a deep page
     * costs no more than the first, and a memory deleted meanwhile makes
     * no other one skipped or listed twice; its memories are then read until
     * the page's 3 MiB are reached. Expired memories are never listed.
     * </pre>
     */
    public void listMemories(dev.memrpc.v1.ListMemoriesRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ListMemoriesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListMemoriesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one memory. `NOT_FOUND` (`ERROR_REASON_MEMORY_NOT_FOUND`) when it
     * does not exist or has expired.
     * </pre>
     */
    public void getMemory(dev.memrpc.v1.GetMemoryRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.GetMemoryResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetMemoryMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Changes a memory's content. A new text is embedded again and
     * deduplicated: when it repeats another memory of the same scope, the call
     * fails with `ALREADY_EXISTS` (`ERROR_REASON_MEMORY_DUPLICATE`) naming that
     * memory, and nothing changes. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`) when another writer got
     * there first.
     * </pre>
     */
    public void updateMemory(dev.memrpc.v1.UpdateMemoryRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.UpdateMemoryResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateMemoryMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes one memory. `NOT_FOUND` (`ERROR_REASON_MEMORY_NOT_FOUND`) when
     * it does not exist; `ABORTED` when `expected_version` is not its version
     * (also when it does not exist).
     * </pre>
     */
    public void deleteMemory(dev.memrpc.v1.DeleteMemoryRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteMemoryResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteMemoryMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes every memory of a namespace that matches a filter, for example
     * all memories of one user ("forget me").
     * </pre>
     */
    public void deleteMemories(dev.memrpc.v1.DeleteMemoriesRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteMemoriesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteMemoriesMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service LongTermMemory.
   * <pre>
   * LongTermMemory stores memories with their embeddings and recalls them by
   * meaning, filtered by user, kind, thread, topic and time, in one
   * `FT.SEARCH`. Writes deduplicate: a memory that repeats one already stored
   * in the same scope is not stored twice.
   * </pre>
   */
  public static final class LongTermMemoryBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<LongTermMemoryBlockingV2Stub> {
    private LongTermMemoryBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected LongTermMemoryBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new LongTermMemoryBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates memories. For each item, atomically in one Lua script: when a
     * memory of the same namespace, user and kind has the same normalised text
     * or lies within `dedup_max_distance`, nothing is inserted and that memory's
     * `hit_count` grows by one (`CREATE_OUTCOME_DUPLICATE`); otherwise the item
     * is stored (`CREATE_OUTCOME_CREATED`). With `dedup_mode` off, every item
     * is stored. An item may name its id (`MemoryInput.memory_id`): an id
     * already taken fails the call with `ALREADY_EXISTS`
     * (`ERROR_REASON_MEMORY_ALREADY_EXISTS`), unless `replace_existing` asks
     * to replace that memory (`CREATE_OUTCOME_REPLACED`). A memory is
     * searchable as soon as this call returns. Safe to retry with a
     * `request_id`.
     * </pre>
     */
    public dev.memrpc.v1.CreateMemoriesResponse createMemories(dev.memrpc.v1.CreateMemoriesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateMemoriesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns the memories that best match a text or a vector, best first,
     * filtered: by meaning (nearest, never farther than `max_distance`), by
     * words, or both (see `RecallMode`).
     * </pre>
     */
    public dev.memrpc.v1.SearchMemoriesResponse searchMemories(dev.memrpc.v1.SearchMemoriesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSearchMemoriesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Pages through the live memories of a namespace that match a filter,
     * newest first (or most hit first), without a query: for exports, reviews
     * and administration. Each page is a few searches, each bounded by the
     * page's size rather than the namespace's, that start right after the
     * last memory of the page before (keyset, no offset), so a deep page
     * costs no more than the first, and a memory deleted meanwhile makes
     * no other one skipped or listed twice; its memories are then read until
     * the page's 3 MiB are reached. Expired memories are never listed.
     * </pre>
     */
    public dev.memrpc.v1.ListMemoriesResponse listMemories(dev.memrpc.v1.ListMemoriesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListMemoriesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one memory. `NOT_FOUND` (`ERROR_REASON_MEMORY_NOT_FOUND`) when it
     * does not exist or has expired.
     * </pre>
     */
    public dev.memrpc.v1.GetMemoryResponse getMemory(dev.memrpc.v1.GetMemoryRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetMemoryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes a memory's content. A new text is embedded again and
     * deduplicated: when it repeats another memory of the same scope, the call
     * fails with `ALREADY_EXISTS` (`ERROR_REASON_MEMORY_DUPLICATE`) naming that
     * memory, and nothing changes. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`) when another writer got
     * there first.
     * </pre>
     */
    public dev.memrpc.v1.UpdateMemoryResponse updateMemory(dev.memrpc.v1.UpdateMemoryRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdateMemoryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes one memory. `NOT_FOUND` (`ERROR_REASON_MEMORY_NOT_FOUND`) when
     * it does not exist; `ABORTED` when `expected_version` is not its version
     * (also when it does not exist).
     * </pre>
     */
    public dev.memrpc.v1.DeleteMemoryResponse deleteMemory(dev.memrpc.v1.DeleteMemoryRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteMemoryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes every memory of a namespace that matches a filter, for example
     * all memories of one user ("forget me").
     * </pre>
     */
    public dev.memrpc.v1.DeleteMemoriesResponse deleteMemories(dev.memrpc.v1.DeleteMemoriesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteMemoriesMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service LongTermMemory.
   * <pre>
   * LongTermMemory stores memories with their embeddings and recalls them by
   * meaning, filtered by user, kind, thread, topic and time, in one
   * `FT.SEARCH`. Writes deduplicate: a memory that repeats one already stored
   * in the same scope is not stored twice.
   * </pre>
   */
  public static final class LongTermMemoryBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<LongTermMemoryBlockingStub> {
    private LongTermMemoryBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected LongTermMemoryBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new LongTermMemoryBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates memories. For each item, atomically in one Lua script: when a
     * memory of the same namespace, user and kind has the same normalised text
     * or lies within `dedup_max_distance`, nothing is inserted and that memory's
     * `hit_count` grows by one (`CREATE_OUTCOME_DUPLICATE`); otherwise the item
     * is stored (`CREATE_OUTCOME_CREATED`). With `dedup_mode` off, every item
     * is stored. An item may name its id (`MemoryInput.memory_id`): an id
     * already taken fails the call with `ALREADY_EXISTS`
     * (`ERROR_REASON_MEMORY_ALREADY_EXISTS`), unless `replace_existing` asks
     * to replace that memory (`CREATE_OUTCOME_REPLACED`). A memory is
     * searchable as soon as this call returns. Safe to retry with a
     * `request_id`.
     * </pre>
     */
    public dev.memrpc.v1.CreateMemoriesResponse createMemories(dev.memrpc.v1.CreateMemoriesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateMemoriesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns the memories that best match a text or a vector, best first,
     * filtered: by meaning (nearest, never farther than `max_distance`), by
     * words, or both (see `RecallMode`).
     * </pre>
     */
    public dev.memrpc.v1.SearchMemoriesResponse searchMemories(dev.memrpc.v1.SearchMemoriesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSearchMemoriesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Pages through the live memories of a namespace that match a filter,
     * newest first (or most hit first), without a query: for exports, reviews
     * and administration. Each page is a few searches, each bounded by the
     * page's size rather than the namespace's, that start right after the
     * last memory of the page before (keyset, no offset), so a deep page
     * costs no more than the first, and a memory deleted meanwhile makes
     * no other one skipped or listed twice; its memories are then read until
     * the page's 3 MiB are reached. Expired memories are never listed.
     * </pre>
     */
    public dev.memrpc.v1.ListMemoriesResponse listMemories(dev.memrpc.v1.ListMemoriesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListMemoriesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one memory. `NOT_FOUND` (`ERROR_REASON_MEMORY_NOT_FOUND`) when it
     * does not exist or has expired.
     * </pre>
     */
    public dev.memrpc.v1.GetMemoryResponse getMemory(dev.memrpc.v1.GetMemoryRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetMemoryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes a memory's content. A new text is embedded again and
     * deduplicated: when it repeats another memory of the same scope, the call
     * fails with `ALREADY_EXISTS` (`ERROR_REASON_MEMORY_DUPLICATE`) naming that
     * memory, and nothing changes. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`) when another writer got
     * there first.
     * </pre>
     */
    public dev.memrpc.v1.UpdateMemoryResponse updateMemory(dev.memrpc.v1.UpdateMemoryRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateMemoryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes one memory. `NOT_FOUND` (`ERROR_REASON_MEMORY_NOT_FOUND`) when
     * it does not exist; `ABORTED` when `expected_version` is not its version
     * (also when it does not exist).
     * </pre>
     */
    public dev.memrpc.v1.DeleteMemoryResponse deleteMemory(dev.memrpc.v1.DeleteMemoryRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteMemoryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes every memory of a namespace that matches a filter, for example
     * all memories of one user ("forget me").
     * </pre>
     */
    public dev.memrpc.v1.DeleteMemoriesResponse deleteMemories(dev.memrpc.v1.DeleteMemoriesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteMemoriesMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service LongTermMemory.
   * <pre>
   * LongTermMemory stores memories with their embeddings and recalls them by
   * meaning, filtered by user, kind, thread, topic and time, in one
   * `FT.SEARCH`. Writes deduplicate: a memory that repeats one already stored
   * in the same scope is not stored twice.
   * </pre>
   */
  public static final class LongTermMemoryFutureStub
      extends io.grpc.stub.AbstractFutureStub<LongTermMemoryFutureStub> {
    private LongTermMemoryFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected LongTermMemoryFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new LongTermMemoryFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates memories. For each item, atomically in one Lua script: when a
     * memory of the same namespace, user and kind has the same normalised text
     * or lies within `dedup_max_distance`, nothing is inserted and that memory's
     * `hit_count` grows by one (`CREATE_OUTCOME_DUPLICATE`); otherwise the item
     * is stored (`CREATE_OUTCOME_CREATED`). With `dedup_mode` off, every item
     * is stored. An item may name its id (`MemoryInput.memory_id`): an id
     * already taken fails the call with `ALREADY_EXISTS`
     * (`ERROR_REASON_MEMORY_ALREADY_EXISTS`), unless `replace_existing` asks
     * to replace that memory (`CREATE_OUTCOME_REPLACED`). A memory is
     * searchable as soon as this call returns. Safe to retry with a
     * `request_id`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.CreateMemoriesResponse> createMemories(
        dev.memrpc.v1.CreateMemoriesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateMemoriesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns the memories that best match a text or a vector, best first,
     * filtered: by meaning (nearest, never farther than `max_distance`), by
     * words, or both (see `RecallMode`).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.SearchMemoriesResponse> searchMemories(
        dev.memrpc.v1.SearchMemoriesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSearchMemoriesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Pages through the live memories of a namespace that match a filter,
     * newest first (or most hit first), without a query: for exports, reviews
     * and administration. Each page is a few searches, each bounded by the
     * page's size rather than the namespace's, that start right after the
     * last memory of the page before (keyset, no offset), so a deep page
     * costs no more than the first, and a memory deleted meanwhile makes
     * no other one skipped or listed twice; its memories are then read until
     * the page's 3 MiB are reached. Expired memories are never listed.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.ListMemoriesResponse> listMemories(
        dev.memrpc.v1.ListMemoriesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListMemoriesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one memory. `NOT_FOUND` (`ERROR_REASON_MEMORY_NOT_FOUND`) when it
     * does not exist or has expired.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.GetMemoryResponse> getMemory(
        dev.memrpc.v1.GetMemoryRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetMemoryMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Changes a memory's content. A new text is embedded again and
     * deduplicated: when it repeats another memory of the same scope, the call
     * fails with `ALREADY_EXISTS` (`ERROR_REASON_MEMORY_DUPLICATE`) naming that
     * memory, and nothing changes. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`) when another writer got
     * there first.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.UpdateMemoryResponse> updateMemory(
        dev.memrpc.v1.UpdateMemoryRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateMemoryMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes one memory. `NOT_FOUND` (`ERROR_REASON_MEMORY_NOT_FOUND`) when
     * it does not exist; `ABORTED` when `expected_version` is not its version
     * (also when it does not exist).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.DeleteMemoryResponse> deleteMemory(
        dev.memrpc.v1.DeleteMemoryRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteMemoryMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes every memory of a namespace that matches a filter, for example
     * all memories of one user ("forget me").
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.DeleteMemoriesResponse> deleteMemories(
        dev.memrpc.v1.DeleteMemoriesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteMemoriesMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_MEMORIES = 0;
  private static final int METHODID_SEARCH_MEMORIES = 1;
  private static final int METHODID_LIST_MEMORIES = 2;
  private static final int METHODID_GET_MEMORY = 3;
  private static final int METHODID_UPDATE_MEMORY = 4;
  private static final int METHODID_DELETE_MEMORY = 5;
  private static final int METHODID_DELETE_MEMORIES = 6;

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
        case METHODID_CREATE_MEMORIES:
          serviceImpl.createMemories((dev.memrpc.v1.CreateMemoriesRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.CreateMemoriesResponse>) responseObserver);
          break;
        case METHODID_SEARCH_MEMORIES:
          serviceImpl.searchMemories((dev.memrpc.v1.SearchMemoriesRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.SearchMemoriesResponse>) responseObserver);
          break;
        case METHODID_LIST_MEMORIES:
          serviceImpl.listMemories((dev.memrpc.v1.ListMemoriesRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.ListMemoriesResponse>) responseObserver);
          break;
        case METHODID_GET_MEMORY:
          serviceImpl.getMemory((dev.memrpc.v1.GetMemoryRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.GetMemoryResponse>) responseObserver);
          break;
        case METHODID_UPDATE_MEMORY:
          serviceImpl.updateMemory((dev.memrpc.v1.UpdateMemoryRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.UpdateMemoryResponse>) responseObserver);
          break;
        case METHODID_DELETE_MEMORY:
          serviceImpl.deleteMemory((dev.memrpc.v1.DeleteMemoryRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteMemoryResponse>) responseObserver);
          break;
        case METHODID_DELETE_MEMORIES:
          serviceImpl.deleteMemories((dev.memrpc.v1.DeleteMemoriesRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteMemoriesResponse>) responseObserver);
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
          getCreateMemoriesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.CreateMemoriesRequest,
              dev.memrpc.v1.CreateMemoriesResponse>(
                service, METHODID_CREATE_MEMORIES)))
        .addMethod(
          getSearchMemoriesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.SearchMemoriesRequest,
              dev.memrpc.v1.SearchMemoriesResponse>(
                service, METHODID_SEARCH_MEMORIES)))
        .addMethod(
          getListMemoriesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.ListMemoriesRequest,
              dev.memrpc.v1.ListMemoriesResponse>(
                service, METHODID_LIST_MEMORIES)))
        .addMethod(
          getGetMemoryMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.GetMemoryRequest,
              dev.memrpc.v1.GetMemoryResponse>(
                service, METHODID_GET_MEMORY)))
        .addMethod(
          getUpdateMemoryMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.UpdateMemoryRequest,
              dev.memrpc.v1.UpdateMemoryResponse>(
                service, METHODID_UPDATE_MEMORY)))
        .addMethod(
          getDeleteMemoryMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.DeleteMemoryRequest,
              dev.memrpc.v1.DeleteMemoryResponse>(
                service, METHODID_DELETE_MEMORY)))
        .addMethod(
          getDeleteMemoriesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.DeleteMemoriesRequest,
              dev.memrpc.v1.DeleteMemoriesResponse>(
                service, METHODID_DELETE_MEMORIES)))
        .build();
  }

  private static abstract class LongTermMemoryBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    LongTermMemoryBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.memrpc.v1.LongTermMemoryProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("LongTermMemory");
    }
  }

  private static final class LongTermMemoryFileDescriptorSupplier
      extends LongTermMemoryBaseDescriptorSupplier {
    LongTermMemoryFileDescriptorSupplier() {}
  }

  private static final class LongTermMemoryMethodDescriptorSupplier
      extends LongTermMemoryBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    LongTermMemoryMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (LongTermMemoryGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new LongTermMemoryFileDescriptorSupplier())
              .addMethod(getCreateMemoriesMethod())
              .addMethod(getSearchMemoriesMethod())
              .addMethod(getListMemoriesMethod())
              .addMethod(getGetMemoryMethod())
              .addMethod(getUpdateMemoryMethod())
              .addMethod(getDeleteMemoryMethod())
              .addMethod(getDeleteMemoriesMethod())
              .build();
        }
      }
    }
    return result;
  }
}
