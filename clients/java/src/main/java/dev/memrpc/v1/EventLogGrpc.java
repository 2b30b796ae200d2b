package dev.memrpc.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * EventLog appends events to per-thread logs, reads and trims them, relays
 * new events live to subscribers, and hands every event of a namespace to
 * consumer groups of workers, at least once.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class EventLogGrpc {

  private EventLogGrpc() {}

  public static final java.lang.String SERVICE_NAME = "memrpc.v1.EventLog";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.AppendEventsRequest,
      dev.memrpc.v1.AppendEventsResponse> getAppendEventsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "AppendEvents",
      requestType = dev.memrpc.v1.AppendEventsRequest.class,
      responseType = dev.memrpc.v1.AppendEventsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.AppendEventsRequest,
      dev.memrpc.v1.AppendEventsResponse> getAppendEventsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.AppendEventsRequest, dev.memrpc.v1.AppendEventsResponse> getAppendEventsMethod;
    if ((getAppendEventsMethod = EventLogGrpc.getAppendEventsMethod) == null) {
      synchronized (EventLogGrpc.class) {
        if ((getAppendEventsMethod = EventLogGrpc.getAppendEventsMethod) == null) {
          EventLogGrpc.getAppendEventsMethod = getAppendEventsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.AppendEventsRequest, dev.memrpc.v1.AppendEventsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "AppendEvents"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.AppendEventsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.AppendEventsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventLogMethodDescriptorSupplier("AppendEvents"))
              .build();
        }
      }
    }
    return getAppendEventsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.ListEventsRequest,
      dev.memrpc.v1.ListEventsResponse> getListEventsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListEvents",
      requestType = dev.memrpc.v1.ListEventsRequest.class,
      responseType = dev.memrpc.v1.ListEventsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.ListEventsRequest,
      dev.memrpc.v1.ListEventsResponse> getListEventsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.ListEventsRequest, dev.memrpc.v1.ListEventsResponse> getListEventsMethod;
    if ((getListEventsMethod = EventLogGrpc.getListEventsMethod) == null) {
      synchronized (EventLogGrpc.class) {
        if ((getListEventsMethod = EventLogGrpc.getListEventsMethod) == null) {
          EventLogGrpc.getListEventsMethod = getListEventsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.ListEventsRequest, dev.memrpc.v1.ListEventsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListEvents"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ListEventsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ListEventsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventLogMethodDescriptorSupplier("ListEvents"))
              .build();
        }
      }
    }
    return getListEventsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.TrimEventsRequest,
      dev.memrpc.v1.TrimEventsResponse> getTrimEventsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "TrimEvents",
      requestType = dev.memrpc.v1.TrimEventsRequest.class,
      responseType = dev.memrpc.v1.TrimEventsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.TrimEventsRequest,
      dev.memrpc.v1.TrimEventsResponse> getTrimEventsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.TrimEventsRequest, dev.memrpc.v1.TrimEventsResponse> getTrimEventsMethod;
    if ((getTrimEventsMethod = EventLogGrpc.getTrimEventsMethod) == null) {
      synchronized (EventLogGrpc.class) {
        if ((getTrimEventsMethod = EventLogGrpc.getTrimEventsMethod) == null) {
          EventLogGrpc.getTrimEventsMethod = getTrimEventsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.TrimEventsRequest, dev.memrpc.v1.TrimEventsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "TrimEvents"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.TrimEventsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.TrimEventsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventLogMethodDescriptorSupplier("TrimEvents"))
              .build();
        }
      }
    }
    return getTrimEventsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.TailEventsRequest,
      dev.memrpc.v1.TailEventsResponse> getTailEventsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "TailEvents",
      requestType = dev.memrpc.v1.TailEventsRequest.class,
      responseType = dev.memrpc.v1.TailEventsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.TailEventsRequest,
      dev.memrpc.v1.TailEventsResponse> getTailEventsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.TailEventsRequest, dev.memrpc.v1.TailEventsResponse> getTailEventsMethod;
    if ((getTailEventsMethod = EventLogGrpc.getTailEventsMethod) == null) {
      synchronized (EventLogGrpc.class) {
        if ((getTailEventsMethod = EventLogGrpc.getTailEventsMethod) == null) {
          EventLogGrpc.getTailEventsMethod = getTailEventsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.TailEventsRequest, dev.memrpc.v1.TailEventsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "TailEvents"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.TailEventsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.TailEventsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventLogMethodDescriptorSupplier("TailEvents"))
              .build();
        }
      }
    }
    return getTailEventsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.CreateConsumerGroupRequest,
      dev.memrpc.v1.CreateConsumerGroupResponse> getCreateConsumerGroupMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateConsumerGroup",
      requestType = dev.memrpc.v1.CreateConsumerGroupRequest.class,
      responseType = dev.memrpc.v1.CreateConsumerGroupResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.CreateConsumerGroupRequest,
      dev.memrpc.v1.CreateConsumerGroupResponse> getCreateConsumerGroupMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.CreateConsumerGroupRequest, dev.memrpc.v1.CreateConsumerGroupResponse> getCreateConsumerGroupMethod;
    if ((getCreateConsumerGroupMethod = EventLogGrpc.getCreateConsumerGroupMethod) == null) {
      synchronized (EventLogGrpc.class) {
        if ((getCreateConsumerGroupMethod = EventLogGrpc.getCreateConsumerGroupMethod) == null) {
          EventLogGrpc.getCreateConsumerGroupMethod = getCreateConsumerGroupMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.CreateConsumerGroupRequest, dev.memrpc.v1.CreateConsumerGroupResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateConsumerGroup"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.CreateConsumerGroupRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.CreateConsumerGroupResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventLogMethodDescriptorSupplier("CreateConsumerGroup"))
              .build();
        }
      }
    }
    return getCreateConsumerGroupMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteConsumerGroupRequest,
      dev.memrpc.v1.DeleteConsumerGroupResponse> getDeleteConsumerGroupMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteConsumerGroup",
      requestType = dev.memrpc.v1.DeleteConsumerGroupRequest.class,
      responseType = dev.memrpc.v1.DeleteConsumerGroupResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteConsumerGroupRequest,
      dev.memrpc.v1.DeleteConsumerGroupResponse> getDeleteConsumerGroupMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.DeleteConsumerGroupRequest, dev.memrpc.v1.DeleteConsumerGroupResponse> getDeleteConsumerGroupMethod;
    if ((getDeleteConsumerGroupMethod = EventLogGrpc.getDeleteConsumerGroupMethod) == null) {
      synchronized (EventLogGrpc.class) {
        if ((getDeleteConsumerGroupMethod = EventLogGrpc.getDeleteConsumerGroupMethod) == null) {
          EventLogGrpc.getDeleteConsumerGroupMethod = getDeleteConsumerGroupMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.DeleteConsumerGroupRequest, dev.memrpc.v1.DeleteConsumerGroupResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteConsumerGroup"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteConsumerGroupRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.DeleteConsumerGroupResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventLogMethodDescriptorSupplier("DeleteConsumerGroup"))
              .build();
        }
      }
    }
    return getDeleteConsumerGroupMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.ReceiveEventsRequest,
      dev.memrpc.v1.ReceiveEventsResponse> getReceiveEventsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ReceiveEvents",
      requestType = dev.memrpc.v1.ReceiveEventsRequest.class,
      responseType = dev.memrpc.v1.ReceiveEventsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.ReceiveEventsRequest,
      dev.memrpc.v1.ReceiveEventsResponse> getReceiveEventsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.ReceiveEventsRequest, dev.memrpc.v1.ReceiveEventsResponse> getReceiveEventsMethod;
    if ((getReceiveEventsMethod = EventLogGrpc.getReceiveEventsMethod) == null) {
      synchronized (EventLogGrpc.class) {
        if ((getReceiveEventsMethod = EventLogGrpc.getReceiveEventsMethod) == null) {
          EventLogGrpc.getReceiveEventsMethod = getReceiveEventsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.ReceiveEventsRequest, dev.memrpc.v1.ReceiveEventsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ReceiveEvents"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ReceiveEventsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ReceiveEventsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventLogMethodDescriptorSupplier("ReceiveEvents"))
              .build();
        }
      }
    }
    return getReceiveEventsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.AcknowledgeEventsRequest,
      dev.memrpc.v1.AcknowledgeEventsResponse> getAcknowledgeEventsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "AcknowledgeEvents",
      requestType = dev.memrpc.v1.AcknowledgeEventsRequest.class,
      responseType = dev.memrpc.v1.AcknowledgeEventsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.AcknowledgeEventsRequest,
      dev.memrpc.v1.AcknowledgeEventsResponse> getAcknowledgeEventsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.AcknowledgeEventsRequest, dev.memrpc.v1.AcknowledgeEventsResponse> getAcknowledgeEventsMethod;
    if ((getAcknowledgeEventsMethod = EventLogGrpc.getAcknowledgeEventsMethod) == null) {
      synchronized (EventLogGrpc.class) {
        if ((getAcknowledgeEventsMethod = EventLogGrpc.getAcknowledgeEventsMethod) == null) {
          EventLogGrpc.getAcknowledgeEventsMethod = getAcknowledgeEventsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.AcknowledgeEventsRequest, dev.memrpc.v1.AcknowledgeEventsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "AcknowledgeEvents"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.AcknowledgeEventsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.AcknowledgeEventsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventLogMethodDescriptorSupplier("AcknowledgeEvents"))
              .build();
        }
      }
    }
    return getAcknowledgeEventsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static EventLogStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EventLogStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EventLogStub>() {
        @java.lang.Override
        public EventLogStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EventLogStub(channel, callOptions);
        }
      };
    return EventLogStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static EventLogBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EventLogBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EventLogBlockingV2Stub>() {
        @java.lang.Override
        public EventLogBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EventLogBlockingV2Stub(channel, callOptions);
        }
      };
    return EventLogBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static EventLogBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EventLogBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EventLogBlockingStub>() {
        @java.lang.Override
        public EventLogBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EventLogBlockingStub(channel, callOptions);
        }
      };
    return EventLogBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static EventLogFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EventLogFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EventLogFutureStub>() {
        @java.lang.Override
        public EventLogFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EventLogFutureStub(channel, callOptions);
        }
      };
    return EventLogFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * EventLog appends events to per-thread logs, reads and trims them, relays
   * new events live to subscribers, and hands every event of a namespace to
   * consumer groups of workers, at least once.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Appends events to a thread's log (and the namespace feed), atomically:
     * all of them or none, and only once per `request_id`.
     * </pre>
     */
    default void appendEvents(dev.memrpc.v1.AppendEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.AppendEventsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAppendEventsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads a range of a thread's log, oldest or newest first, a page at a
     * time. A page token whose next events were trimmed away meanwhile gets
     * `OUT_OF_RANGE` (`ERROR_REASON_EVENTS_TRIMMED`), never a silent gap.
     * </pre>
     */
    default void listEvents(dev.memrpc.v1.ListEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ListEventsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListEventsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Removes a thread's oldest events, down to a length or up to an id.
     * </pre>
     */
    default void trimEvents(dev.memrpc.v1.TrimEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.TrimEventsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTrimEventsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams the events appended to one or more threads, live, as Redis
     * delivers them (`XREAD BLOCK`, no polling). The first message is a
     * checkpoint with the resolved position of every thread; after that each
     * message is an event, or a checkpoint when nothing happened for
     * `heartbeat_interval`. To resume after a disconnect, send the cursors of
     * the last message received: no event is missed or repeated.
     * No gap is silent: when events after a cursor were trimmed from its
     * thread's log (by `max_len` or `TrimEvents`) before the tail read them,
     * the stream ends with `OUT_OF_RANGE` (`ERROR_REASON_EVENTS_TRIMMED`,
     * naming the thread, the cursor and the oldest event left), whether the
     * tail opened with that cursor or the trimming overtook a slow tail,
     * after the messages already sent. A tail the server ends (it shuts down or drains, or
     * the tail reached the server's maximum tail lifetime) sends a final
     * checkpoint, then ends with `OK`: open a new tail with its cursors, on
     * any server. `RESOURCE_EXHAUSTED` when the caller (its credential, or
     * without authentication its address) or the server has as many tails open
     * as it allows (`ERROR_REASON_CALLER_TAILS_EXCEEDED`,
     * `ERROR_REASON_SERVER_TAILS_EXCEEDED`), and when the client falls behind
     * (`ERROR_REASON_TAIL_TOO_SLOW`): once one of its threads
     * has more new events than the server allows (by default 10,000) since the
     * last one sent, the stream ends with `RESOURCE_EXHAUSTED` (after the
     * messages already sent); resume from the last cursor received. On a
     * server with authentication, an open stream checks its credential again
     * about once a second: a revoked key, an expired token or a scope that no
     * longer covers the namespace ends it with `UNAUTHENTICATED` or
     * `PERMISSION_DENIED`, as a new call would be.
     * </pre>
     */
    default void tailEvents(dev.memrpc.v1.TailEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.TailEventsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTailEventsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Creates a consumer group on the namespace feed. `ALREADY_EXISTS`
     * (`ERROR_REASON_CONSUMER_GROUP_ALREADY_EXISTS`) when the group exists.
     * </pre>
     */
    default void createConsumerGroup(dev.memrpc.v1.CreateConsumerGroupRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.CreateConsumerGroupResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateConsumerGroupMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a consumer group and its pending events. `NOT_FOUND`
     * (`ERROR_REASON_CONSUMER_GROUP_NOT_FOUND`) when the group does not exist.
     * </pre>
     */
    default void deleteConsumerGroup(dev.memrpc.v1.DeleteConsumerGroupRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteConsumerGroupResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteConsumerGroupMethod(), responseObserver);
    }

    /**
     * <pre>
     * Hands events of the namespace feed to one consumer of a group. Events
     * that another consumer received but did not acknowledge within
     * `redeliver_after` come first (the other consumer is presumed dead); then
     * new events. Waits up to `wait` when there are none. Received events stay
     * pending until acknowledged. `NOT_FOUND`
     * (`ERROR_REASON_CONSUMER_GROUP_NOT_FOUND`) when the group does not exist.
     * </pre>
     */
    default void receiveEvents(dev.memrpc.v1.ReceiveEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ReceiveEventsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getReceiveEventsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Acknowledges received events, so that they are not delivered again.
     * Ids that are not pending in the group (already acknowledged, unknown, or
     * of a group that does not exist) are not counted.
     * </pre>
     */
    default void acknowledgeEvents(dev.memrpc.v1.AcknowledgeEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.AcknowledgeEventsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAcknowledgeEventsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service EventLog.
   * <pre>
   * EventLog appends events to per-thread logs, reads and trims them, relays
   * new events live to subscribers, and hands every event of a namespace to
   * consumer groups of workers, at least once.
   * </pre>
   */
  public static abstract class EventLogImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return EventLogGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service EventLog.
   * <pre>
   * EventLog appends events to per-thread logs, reads and trims them, relays
   * new events live to subscribers, and hands every event of a namespace to
   * consumer groups of workers, at least once.
   * </pre>
   */
  public static final class EventLogStub
      extends io.grpc.stub.AbstractAsyncStub<EventLogStub> {
    private EventLogStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EventLogStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EventLogStub(channel, callOptions);
    }

    /**
     * <pre>
     * Appends events to a thread's log (and the namespace feed), atomically:
     * all of them or none, and only once per `request_id`.
     * </pre>
     */
    public void appendEvents(dev.memrpc.v1.AppendEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.AppendEventsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAppendEventsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads a range of a thread's log, oldest or newest first, a page at a
     * time. A page token whose next events were trimmed away meanwhile gets
     * `OUT_OF_RANGE` (`ERROR_REASON_EVENTS_TRIMMED`), never a silent gap.
     * </pre>
     */
    public void listEvents(dev.memrpc.v1.ListEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ListEventsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListEventsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Removes a thread's oldest events, down to a length or up to an id.
     * </pre>
     */
    public void trimEvents(dev.memrpc.v1.TrimEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.TrimEventsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getTrimEventsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams the events appended to one or more threads, live, as Redis
     * delivers them (`XREAD BLOCK`, no polling). The first message is a
     * checkpoint with the resolved position of every thread; after that each
     * message is an event, or a checkpoint when nothing happened for
     * `heartbeat_interval`. To resume after a disconnect, send the cursors of
     * the last message received: no event is missed or repeated.
     * No gap is silent: when events after a cursor were trimmed from its
     * thread's log (by `max_len` or `TrimEvents`) before the tail read them,
     * the stream ends with `OUT_OF_RANGE` (`ERROR_REASON_EVENTS_TRIMMED`,
     * naming the thread, the cursor and the oldest event left), whether the
     * tail opened with that cursor or the trimming overtook a slow tail,
     * after the messages already sent. A tail the server ends (it shuts down or drains, or
     * the tail reached the server's maximum tail lifetime) sends a final
     * checkpoint, then ends with `OK`: open a new tail with its cursors, on
     * any server. `RESOURCE_EXHAUSTED` when the caller (its credential, or
     * without authentication its address) or the server has as many tails open
     * as it allows (`ERROR_REASON_CALLER_TAILS_EXCEEDED`,
     * `ERROR_REASON_SERVER_TAILS_EXCEEDED`), and when the client falls behind
     * (`ERROR_REASON_TAIL_TOO_SLOW`): once one of its threads
     * has more new events than the server allows (by default 10,000) since the
     * last one sent, the stream ends with `RESOURCE_EXHAUSTED` (after the
     * messages already sent); resume from the last cursor received. On a
     * server with authentication, an open stream checks its credential again
     * about once a second: a revoked key, an expired token or a scope that no
     * longer covers the namespace ends it with `UNAUTHENTICATED` or
     * `PERMISSION_DENIED`, as a new call would be.
     * </pre>
     */
    public void tailEvents(dev.memrpc.v1.TailEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.TailEventsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getTailEventsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Creates a consumer group on the namespace feed. `ALREADY_EXISTS`
     * (`ERROR_REASON_CONSUMER_GROUP_ALREADY_EXISTS`) when the group exists.
     * </pre>
     */
    public void createConsumerGroup(dev.memrpc.v1.CreateConsumerGroupRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.CreateConsumerGroupResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateConsumerGroupMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a consumer group and its pending events. `NOT_FOUND`
     * (`ERROR_REASON_CONSUMER_GROUP_NOT_FOUND`) when the group does not exist.
     * </pre>
     */
    public void deleteConsumerGroup(dev.memrpc.v1.DeleteConsumerGroupRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteConsumerGroupResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteConsumerGroupMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Hands events of the namespace feed to one consumer of a group. Events
     * that another consumer received but did not acknowledge within
     * `redeliver_after` come first (the other consumer is presumed dead); then
     * new events. Waits up to `wait` when there are none. Received events stay
     * pending until acknowledged. `NOT_FOUND`
     * (`ERROR_REASON_CONSUMER_GROUP_NOT_FOUND`) when the group does not exist.
     * </pre>
     */
    public void receiveEvents(dev.memrpc.v1.ReceiveEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ReceiveEventsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getReceiveEventsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Acknowledges received events, so that they are not delivered again.
     * Ids that are not pending in the group (already acknowledged, unknown, or
     * of a group that does not exist) are not counted.
     * </pre>
     */
    public void acknowledgeEvents(dev.memrpc.v1.AcknowledgeEventsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.AcknowledgeEventsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAcknowledgeEventsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service EventLog.
   * <pre>
   * EventLog appends events to per-thread logs, reads and trims them, relays
   * new events live to subscribers, and hands every event of a namespace to
   * consumer groups of workers, at least once.
   * </pre>
   */
  public static final class EventLogBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<EventLogBlockingV2Stub> {
    private EventLogBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EventLogBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EventLogBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Appends events to a thread's log (and the namespace feed), atomically:
     * all of them or none, and only once per `request_id`.
     * </pre>
     */
    public dev.memrpc.v1.AppendEventsResponse appendEvents(dev.memrpc.v1.AppendEventsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getAppendEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a range of a thread's log, oldest or newest first, a page at a
     * time. A page token whose next events were trimmed away meanwhile gets
     * `OUT_OF_RANGE` (`ERROR_REASON_EVENTS_TRIMMED`), never a silent gap.
     * </pre>
     */
    public dev.memrpc.v1.ListEventsResponse listEvents(dev.memrpc.v1.ListEventsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Removes a thread's oldest events, down to a length or up to an id.
     * </pre>
     */
    public dev.memrpc.v1.TrimEventsResponse trimEvents(dev.memrpc.v1.TrimEventsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getTrimEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams the events appended to one or more threads, live, as Redis
     * delivers them (`XREAD BLOCK`, no polling). The first message is a
     * checkpoint with the resolved position of every thread; after that each
     * message is an event, or a checkpoint when nothing happened for
     * `heartbeat_interval`. To resume after a disconnect, send the cursors of
     * the last message received: no event is missed or repeated.
     * No gap is silent: when events after a cursor were trimmed from its
     * thread's log (by `max_len` or `TrimEvents`) before the tail read them,
     * the stream ends with `OUT_OF_RANGE` (`ERROR_REASON_EVENTS_TRIMMED`,
     * naming the thread, the cursor and the oldest event left), whether the
     * tail opened with that cursor or the trimming overtook a slow tail,
     * after the messages already sent. A tail the server ends (it shuts down or drains, or
     * the tail reached the server's maximum tail lifetime) sends a final
     * checkpoint, then ends with `OK`: open a new tail with its cursors, on
     * any server. `RESOURCE_EXHAUSTED` when the caller (its credential, or
     * without authentication its address) or the server has as many tails open
     * as it allows (`ERROR_REASON_CALLER_TAILS_EXCEEDED`,
     * `ERROR_REASON_SERVER_TAILS_EXCEEDED`), and when the client falls behind
     * (`ERROR_REASON_TAIL_TOO_SLOW`): once one of its threads
     * has more new events than the server allows (by default 10,000) since the
     * last one sent, the stream ends with `RESOURCE_EXHAUSTED` (after the
     * messages already sent); resume from the last cursor received. On a
     * server with authentication, an open stream checks its credential again
     * about once a second: a revoked key, an expired token or a scope that no
     * longer covers the namespace ends it with `UNAUTHENTICATED` or
     * `PERMISSION_DENIED`, as a new call would be.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.memrpc.v1.TailEventsResponse>
        tailEvents(dev.memrpc.v1.TailEventsRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getTailEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Creates a consumer group on the namespace feed. `ALREADY_EXISTS`
     * (`ERROR_REASON_CONSUMER_GROUP_ALREADY_EXISTS`) when the group exists.
     * </pre>
     */
    public dev.memrpc.v1.CreateConsumerGroupResponse createConsumerGroup(dev.memrpc.v1.CreateConsumerGroupRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateConsumerGroupMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a consumer group and its pending events. `NOT_FOUND`
     * (`ERROR_REASON_CONSUMER_GROUP_NOT_FOUND`) when the group does not exist.
     * </pre>
     */
    public dev.memrpc.v1.DeleteConsumerGroupResponse deleteConsumerGroup(dev.memrpc.v1.DeleteConsumerGroupRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteConsumerGroupMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Hands events of the namespace feed to one consumer of a group. Events
     * that another consumer received but did not acknowledge within
     * `redeliver_after` come first (the other consumer is presumed dead); then
     * new events. Waits up to `wait` when there are none. Received events stay
     * pending until acknowledged. `NOT_FOUND`
     * (`ERROR_REASON_CONSUMER_GROUP_NOT_FOUND`) when the group does not exist.
     * </pre>
     */
    public dev.memrpc.v1.ReceiveEventsResponse receiveEvents(dev.memrpc.v1.ReceiveEventsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getReceiveEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Acknowledges received events, so that they are not delivered again.
     * Ids that are not pending in the group (already acknowledged, unknown, or
     * of a group that does not exist) are not counted.
     * </pre>
     */
    public dev.memrpc.v1.AcknowledgeEventsResponse acknowledgeEvents(dev.memrpc.v1.AcknowledgeEventsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getAcknowledgeEventsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service EventLog.
   * <pre>
   * EventLog appends events to per-thread logs, reads and trims them, relays
   * new events live to subscribers, and hands every event of a namespace to
   * consumer groups of workers, at least once.
   * </pre>
   */
  public static final class EventLogBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<EventLogBlockingStub> {
    private EventLogBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EventLogBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EventLogBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Appends events to a thread's log (and the namespace feed), atomically:
     * all of them or none, and only once per `request_id`.
     * </pre>
     */
    public dev.memrpc.v1.AppendEventsResponse appendEvents(dev.memrpc.v1.AppendEventsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAppendEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a range of a thread's log, oldest or newest first, a page at a
     * time. A page token whose next events were trimmed away meanwhile gets
     * `OUT_OF_RANGE` (`ERROR_REASON_EVENTS_TRIMMED`), never a silent gap.
     * </pre>
     */
    public dev.memrpc.v1.ListEventsResponse listEvents(dev.memrpc.v1.ListEventsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Removes a thread's oldest events, down to a length or up to an id.
     * </pre>
     */
    public dev.memrpc.v1.TrimEventsResponse trimEvents(dev.memrpc.v1.TrimEventsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTrimEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams the events appended to one or more threads, live, as Redis
     * delivers them (`XREAD BLOCK`, no polling). The first message is a
     * checkpoint with the resolved position of every thread; after that each
     * message is an event, or a checkpoint when nothing happened for
     * `heartbeat_interval`. To resume after a disconnect, send the cursors of
     * the last message received: no event is missed or repeated.
     * No gap is silent: when events after a cursor were trimmed from its
     * thread's log (by `max_len` or `TrimEvents`) before the tail read them,
     * the stream ends with `OUT_OF_RANGE` (`ERROR_REASON_EVENTS_TRIMMED`,
     * naming the thread, the cursor and the oldest event left), whether the
     * tail opened with that cursor or the trimming overtook a slow tail,
     * after the messages already sent. A tail the server ends (it shuts down or drains, or
     * the tail reached the server's maximum tail lifetime) sends a final
     * checkpoint, then ends with `OK`: open a new tail with its cursors, on
     * any server. `RESOURCE_EXHAUSTED` when the caller (its credential, or
     * without authentication its address) or the server has as many tails open
     * as it allows (`ERROR_REASON_CALLER_TAILS_EXCEEDED`,
     * `ERROR_REASON_SERVER_TAILS_EXCEEDED`), and when the client falls behind
     * (`ERROR_REASON_TAIL_TOO_SLOW`): once one of its threads
     * has more new events than the server allows (by default 10,000) since the
     * last one sent, the stream ends with `RESOURCE_EXHAUSTED` (after the
     * messages already sent); resume from the last cursor received. On a
     * server with authentication, an open stream checks its credential again
     * about once a second: a revoked key, an expired token or a scope that no
     * longer covers the namespace ends it with `UNAUTHENTICATED` or
     * `PERMISSION_DENIED`, as a new call would be.
     * </pre>
     */
    public java.util.Iterator<dev.memrpc.v1.TailEventsResponse> tailEvents(
        dev.memrpc.v1.TailEventsRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getTailEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Creates a consumer group on the namespace feed. `ALREADY_EXISTS`
     * (`ERROR_REASON_CONSUMER_GROUP_ALREADY_EXISTS`) when the group exists.
     * </pre>
     */
    public dev.memrpc.v1.CreateConsumerGroupResponse createConsumerGroup(dev.memrpc.v1.CreateConsumerGroupRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateConsumerGroupMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a consumer group and its pending events. `NOT_FOUND`
     * (`ERROR_REASON_CONSUMER_GROUP_NOT_FOUND`) when the group does not exist.
     * </pre>
     */
    public dev.memrpc.v1.DeleteConsumerGroupResponse deleteConsumerGroup(dev.memrpc.v1.DeleteConsumerGroupRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteConsumerGroupMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Hands events of the namespace feed to one consumer of a group. Events
     * that another consumer received but did not acknowledge within
     * `redeliver_after` come first (the other consumer is presumed dead); then
     * new events. Waits up to `wait` when there are none. Received events stay
     * pending until acknowledged. `NOT_FOUND`
     * (`ERROR_REASON_CONSUMER_GROUP_NOT_FOUND`) when the group does not exist.
     * </pre>
     */
    public dev.memrpc.v1.ReceiveEventsResponse receiveEvents(dev.memrpc.v1.ReceiveEventsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getReceiveEventsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Acknowledges received events, so that they are not delivered again.
     * Ids that are not pending in the group (already acknowledged, unknown, or
     * of a group that does not exist) are not counted.
     * </pre>
     */
    public dev.memrpc.v1.AcknowledgeEventsResponse acknowledgeEvents(dev.memrpc.v1.AcknowledgeEventsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAcknowledgeEventsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service EventLog.
   * <pre>
   * EventLog appends events to per-thread logs, reads and trims them, relays
   * new events live to subscribers, and hands every event of a namespace to
   * consumer groups of workers, at least once.
   * </pre>
   */
  public static final class EventLogFutureStub
      extends io.grpc.stub.AbstractFutureStub<EventLogFutureStub> {
    private EventLogFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EventLogFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EventLogFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Appends events to a thread's log (and the namespace feed), atomically:
     * all of them or none, and only once per `request_id`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.AppendEventsResponse> appendEvents(
        dev.memrpc.v1.AppendEventsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAppendEventsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads a range of a thread's log, oldest or newest first, a page at a
     * time. A page token whose next events were trimmed away meanwhile gets
     * `OUT_OF_RANGE` (`ERROR_REASON_EVENTS_TRIMMED`), never a silent gap.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.ListEventsResponse> listEvents(
        dev.memrpc.v1.ListEventsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListEventsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Removes a thread's oldest events, down to a length or up to an id.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.TrimEventsResponse> trimEvents(
        dev.memrpc.v1.TrimEventsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getTrimEventsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Creates a consumer group on the namespace feed. `ALREADY_EXISTS`
     * (`ERROR_REASON_CONSUMER_GROUP_ALREADY_EXISTS`) when the group exists.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.CreateConsumerGroupResponse> createConsumerGroup(
        dev.memrpc.v1.CreateConsumerGroupRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateConsumerGroupMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a consumer group and its pending events. `NOT_FOUND`
     * (`ERROR_REASON_CONSUMER_GROUP_NOT_FOUND`) when the group does not exist.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.DeleteConsumerGroupResponse> deleteConsumerGroup(
        dev.memrpc.v1.DeleteConsumerGroupRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteConsumerGroupMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Hands events of the namespace feed to one consumer of a group. Events
     * that another consumer received but did not acknowledge within
     * `redeliver_after` come first (the other consumer is presumed dead); then
     * new events. Waits up to `wait` when there are none. Received events stay
     * pending until acknowledged. `NOT_FOUND`
     * (`ERROR_REASON_CONSUMER_GROUP_NOT_FOUND`) when the group does not exist.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.ReceiveEventsResponse> receiveEvents(
        dev.memrpc.v1.ReceiveEventsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getReceiveEventsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Acknowledges received events, so that they are not delivered again.
     * Ids that are not pending in the group (already acknowledged, unknown, or
     * of a group that does not exist) are not counted.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.AcknowledgeEventsResponse> acknowledgeEvents(
        dev.memrpc.v1.AcknowledgeEventsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAcknowledgeEventsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_APPEND_EVENTS = 0;
  private static final int METHODID_LIST_EVENTS = 1;
  private static final int METHODID_TRIM_EVENTS = 2;
  private static final int METHODID_TAIL_EVENTS = 3;
  private static final int METHODID_CREATE_CONSUMER_GROUP = 4;
  private static final int METHODID_DELETE_CONSUMER_GROUP = 5;
  private static final int METHODID_RECEIVE_EVENTS = 6;
  private static final int METHODID_ACKNOWLEDGE_EVENTS = 7;

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
        case METHODID_APPEND_EVENTS:
          serviceImpl.appendEvents((dev.memrpc.v1.AppendEventsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.AppendEventsResponse>) responseObserver);
          break;
        case METHODID_LIST_EVENTS:
          serviceImpl.listEvents((dev.memrpc.v1.ListEventsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.ListEventsResponse>) responseObserver);
          break;
        case METHODID_TRIM_EVENTS:
          serviceImpl.trimEvents((dev.memrpc.v1.TrimEventsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.TrimEventsResponse>) responseObserver);
          break;
        case METHODID_TAIL_EVENTS:
          serviceImpl.tailEvents((dev.memrpc.v1.TailEventsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.TailEventsResponse>) responseObserver);
          break;
        case METHODID_CREATE_CONSUMER_GROUP:
          serviceImpl.createConsumerGroup((dev.memrpc.v1.CreateConsumerGroupRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.CreateConsumerGroupResponse>) responseObserver);
          break;
        case METHODID_DELETE_CONSUMER_GROUP:
          serviceImpl.deleteConsumerGroup((dev.memrpc.v1.DeleteConsumerGroupRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.DeleteConsumerGroupResponse>) responseObserver);
          break;
        case METHODID_RECEIVE_EVENTS:
          serviceImpl.receiveEvents((dev.memrpc.v1.ReceiveEventsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.ReceiveEventsResponse>) responseObserver);
          break;
        case METHODID_ACKNOWLEDGE_EVENTS:
          serviceImpl.acknowledgeEvents((dev.memrpc.v1.AcknowledgeEventsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.AcknowledgeEventsResponse>) responseObserver);
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
          getAppendEventsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.AppendEventsRequest,
              dev.memrpc.v1.AppendEventsResponse>(
                service, METHODID_APPEND_EVENTS)))
        .addMethod(
          getListEventsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.ListEventsRequest,
              dev.memrpc.v1.ListEventsResponse>(
                service, METHODID_LIST_EVENTS)))
        .addMethod(
          getTrimEventsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.TrimEventsRequest,
              dev.memrpc.v1.TrimEventsResponse>(
                service, METHODID_TRIM_EVENTS)))
        .addMethod(
          getTailEventsMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.memrpc.v1.TailEventsRequest,
              dev.memrpc.v1.TailEventsResponse>(
                service, METHODID_TAIL_EVENTS)))
        .addMethod(
          getCreateConsumerGroupMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.CreateConsumerGroupRequest,
              dev.memrpc.v1.CreateConsumerGroupResponse>(
                service, METHODID_CREATE_CONSUMER_GROUP)))
        .addMethod(
          getDeleteConsumerGroupMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.DeleteConsumerGroupRequest,
              dev.memrpc.v1.DeleteConsumerGroupResponse>(
                service, METHODID_DELETE_CONSUMER_GROUP)))
        .addMethod(
          getReceiveEventsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.ReceiveEventsRequest,
              dev.memrpc.v1.ReceiveEventsResponse>(
                service, METHODID_RECEIVE_EVENTS)))
        .addMethod(
          getAcknowledgeEventsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.AcknowledgeEventsRequest,
              dev.memrpc.v1.AcknowledgeEventsResponse>(
                service, METHODID_ACKNOWLEDGE_EVENTS)))
        .build();
  }

  private static abstract class EventLogBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    EventLogBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.memrpc.v1.EventLogProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("EventLog");
    }
  }

  private static final class EventLogFileDescriptorSupplier
      extends EventLogBaseDescriptorSupplier {
    EventLogFileDescriptorSupplier() {}
  }

  private static final class EventLogMethodDescriptorSupplier
      extends EventLogBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    EventLogMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (EventLogGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new EventLogFileDescriptorSupplier())
              .addMethod(getAppendEventsMethod())
              .addMethod(getListEventsMethod())
              .addMethod(getTrimEventsMethod())
              .addMethod(getTailEventsMethod())
              .addMethod(getCreateConsumerGroupMethod())
              .addMethod(getDeleteConsumerGroupMethod())
              .addMethod(getReceiveEventsMethod())
              .addMethod(getAcknowledgeEventsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
