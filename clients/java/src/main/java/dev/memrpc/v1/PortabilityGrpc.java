package dev.memrpc.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Portability exports and restores a namespace's data.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class PortabilityGrpc {

  private PortabilityGrpc() {}

  public static final java.lang.String SERVICE_NAME = "memrpc.v1.Portability";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.ExportDataRequest,
      dev.memrpc.v1.ExportDataResponse> getExportDataMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ExportData",
      requestType = dev.memrpc.v1.ExportDataRequest.class,
      responseType = dev.memrpc.v1.ExportDataResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.ExportDataRequest,
      dev.memrpc.v1.ExportDataResponse> getExportDataMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.ExportDataRequest, dev.memrpc.v1.ExportDataResponse> getExportDataMethod;
    if ((getExportDataMethod = PortabilityGrpc.getExportDataMethod) == null) {
      synchronized (PortabilityGrpc.class) {
        if ((getExportDataMethod = PortabilityGrpc.getExportDataMethod) == null) {
          PortabilityGrpc.getExportDataMethod = getExportDataMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.ExportDataRequest, dev.memrpc.v1.ExportDataResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ExportData"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ExportDataRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ExportDataResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PortabilityMethodDescriptorSupplier("ExportData"))
              .build();
        }
      }
    }
    return getExportDataMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.ImportDataRequest,
      dev.memrpc.v1.ImportDataResponse> getImportDataMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ImportData",
      requestType = dev.memrpc.v1.ImportDataRequest.class,
      responseType = dev.memrpc.v1.ImportDataResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.ImportDataRequest,
      dev.memrpc.v1.ImportDataResponse> getImportDataMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.ImportDataRequest, dev.memrpc.v1.ImportDataResponse> getImportDataMethod;
    if ((getImportDataMethod = PortabilityGrpc.getImportDataMethod) == null) {
      synchronized (PortabilityGrpc.class) {
        if ((getImportDataMethod = PortabilityGrpc.getImportDataMethod) == null) {
          PortabilityGrpc.getImportDataMethod = getImportDataMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.ImportDataRequest, dev.memrpc.v1.ImportDataResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ImportData"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ImportDataRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.ImportDataResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PortabilityMethodDescriptorSupplier("ImportData"))
              .build();
        }
      }
    }
    return getImportDataMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static PortabilityStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PortabilityStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PortabilityStub>() {
        @java.lang.Override
        public PortabilityStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PortabilityStub(channel, callOptions);
        }
      };
    return PortabilityStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static PortabilityBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PortabilityBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PortabilityBlockingV2Stub>() {
        @java.lang.Override
        public PortabilityBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PortabilityBlockingV2Stub(channel, callOptions);
        }
      };
    return PortabilityBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static PortabilityBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PortabilityBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PortabilityBlockingStub>() {
        @java.lang.Override
        public PortabilityBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PortabilityBlockingStub(channel, callOptions);
        }
      };
    return PortabilityBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static PortabilityFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PortabilityFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PortabilityFutureStub>() {
        @java.lang.Override
        public PortabilityFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PortabilityFutureStub(channel, callOptions);
        }
      };
    return PortabilityFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Portability exports and restores a namespace's data.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Streams a namespace's data, or one user's (a subject-access request),
     * as records: the header, the namespace's settings (not with `user_id`),
     * then sessions, the users' thread records, each thread's events oldest
     * first, memories, and each thread's checkpoints (`Checkpoints`, with
     * their pending writes; a user's: those of the user's threads), and last
     * the trailer with the counts. The server
     * reads in bounded pages and sends as the client reads, so its memory
     * does not grow with the namespace. The export is not a snapshot: data
     * written while it runs may or may not be in it.
     * </pre>
     */
    default void exportData(dev.memrpc.v1.ExportDataRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ExportDataResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getExportDataMethod(), responseObserver);
    }

    /**
     * <pre>
     * Restores records written by `ExportData` (of any server with the same
     * embedding model) into a namespace that holds no sessions, events,
     * memories or checkpoints: `FAILED_PRECONDITION`
     * (`ERROR_REASON_NAMESPACE_NOT_EMPTY`)
     * otherwise. Keeps ids, versions, times, hit and access counts, vectors
     * and expiry (a record already expired is skipped). The first request
     * names the namespace and carries the header; records follow in any
     * number of requests, the trailer last, whose counts must match the
     * records received (`INVALID_ARGUMENT`, `ERROR_REASON_FIELD_INVALID`,
     * otherwise). Events are restored into their threads' logs with their
     * ids, not into the namespace feed: consumer groups and the background
     * jobs do not see them again. A failed import may leave part of the
     * records written: delete the namespace (`DeleteNamespace`) and import
     * again.
     * </pre>
     */
    default io.grpc.stub.StreamObserver<dev.memrpc.v1.ImportDataRequest> importData(
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ImportDataResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getImportDataMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service Portability.
   * <pre>
   * Portability exports and restores a namespace's data.
   * </pre>
   */
  public static abstract class PortabilityImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return PortabilityGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service Portability.
   * <pre>
   * Portability exports and restores a namespace's data.
   * </pre>
   */
  public static final class PortabilityStub
      extends io.grpc.stub.AbstractAsyncStub<PortabilityStub> {
    private PortabilityStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PortabilityStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PortabilityStub(channel, callOptions);
    }

    /**
     * <pre>
     * Streams a namespace's data, or one user's (a subject-access request),
     * as records: the header, the namespace's settings (not with `user_id`),
     * then sessions, the users' thread records, each thread's events oldest
     * first, memories, and each thread's checkpoints (`Checkpoints`, with
     * their pending writes; a user's: those of the user's threads), and last
     * the trailer with the counts. The server
     * reads in bounded pages and sends as the client reads, so its memory
     * does not grow with the namespace. The export is not a snapshot: data
     * written while it runs may or may not be in it.
     * </pre>
     */
    public void exportData(dev.memrpc.v1.ExportDataRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ExportDataResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getExportDataMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Restores records written by `ExportData` (of any server with the same
     * embedding model) into a namespace that holds no sessions, events,
     * memories or checkpoints: `FAILED_PRECONDITION`
     * (`ERROR_REASON_NAMESPACE_NOT_EMPTY`)
     * otherwise. Keeps ids, versions, times, hit and access counts, vectors
     * and expiry (a record already expired is skipped). The first request
     * names the namespace and carries the header; records follow in any
     * number of requests, the trailer last, whose counts must match the
     * records received (`INVALID_ARGUMENT`, `ERROR_REASON_FIELD_INVALID`,
     * otherwise). Events are restored into their threads' logs with their
     * ids, not into the namespace feed: consumer groups and the background
     * jobs do not see them again. A failed import may leave part of the
     * records written: delete the namespace (`DeleteNamespace`) and import
     * again.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<dev.memrpc.v1.ImportDataRequest> importData(
        io.grpc.stub.StreamObserver<dev.memrpc.v1.ImportDataResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncClientStreamingCall(
          getChannel().newCall(getImportDataMethod(), getCallOptions()), responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service Portability.
   * <pre>
   * Portability exports and restores a namespace's data.
   * </pre>
   */
  public static final class PortabilityBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<PortabilityBlockingV2Stub> {
    private PortabilityBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PortabilityBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PortabilityBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Streams a namespace's data, or one user's (a subject-access request),
     * as records: the header, the namespace's settings (not with `user_id`),
     * then sessions, the users' thread records, each thread's events oldest
     * first, memories, and each thread's checkpoints (`Checkpoints`, with
     * their pending writes; a user's: those of the user's threads), and last
     * the trailer with the counts. The server
     * reads in bounded pages and sends as the client reads, so its memory
     * does not grow with the namespace. The export is not a snapshot: data
     * written while it runs may or may not be in it.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.memrpc.v1.ExportDataResponse>
        exportData(dev.memrpc.v1.ExportDataRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getExportDataMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Restores records written by `ExportData` (of any server with the same
     * embedding model) into a namespace that holds no sessions, events,
     * memories or checkpoints: `FAILED_PRECONDITION`
     * (`ERROR_REASON_NAMESPACE_NOT_EMPTY`)
     * otherwise. Keeps ids, versions, times, hit and access counts, vectors
     * and expiry (a record already expired is skipped). The first request
     * names the namespace and carries the header; records follow in any
     * number of requests, the trailer last, whose counts must match the
     * records received (`INVALID_ARGUMENT`, `ERROR_REASON_FIELD_INVALID`,
     * otherwise). Events are restored into their threads' logs with their
     * ids, not into the namespace feed: consumer groups and the background
     * jobs do not see them again. A failed import may leave part of the
     * records written: delete the namespace (`DeleteNamespace`) and import
     * again.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<dev.memrpc.v1.ImportDataRequest, dev.memrpc.v1.ImportDataResponse>
        importData() {
      return io.grpc.stub.ClientCalls.blockingClientStreamingCall(
          getChannel(), getImportDataMethod(), getCallOptions());
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service Portability.
   * <pre>
   * Portability exports and restores a namespace's data.
   * </pre>
   */
  public static final class PortabilityBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<PortabilityBlockingStub> {
    private PortabilityBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PortabilityBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PortabilityBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Streams a namespace's data, or one user's (a subject-access request),
     * as records: the header, the namespace's settings (not with `user_id`),
     * then sessions, the users' thread records, each thread's events oldest
     * first, memories, and each thread's checkpoints (`Checkpoints`, with
     * their pending writes; a user's: those of the user's threads), and last
     * the trailer with the counts. The server
     * reads in bounded pages and sends as the client reads, so its memory
     * does not grow with the namespace. The export is not a snapshot: data
     * written while it runs may or may not be in it.
     * </pre>
     */
    public java.util.Iterator<dev.memrpc.v1.ExportDataResponse> exportData(
        dev.memrpc.v1.ExportDataRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getExportDataMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service Portability.
   * <pre>
   * Portability exports and restores a namespace's data.
   * </pre>
   */
  public static final class PortabilityFutureStub
      extends io.grpc.stub.AbstractFutureStub<PortabilityFutureStub> {
    private PortabilityFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PortabilityFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PortabilityFutureStub(channel, callOptions);
    }
  }

  private static final int METHODID_EXPORT_DATA = 0;
  private static final int METHODID_IMPORT_DATA = 1;

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
        case METHODID_EXPORT_DATA:
          serviceImpl.exportData((dev.memrpc.v1.ExportDataRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.ExportDataResponse>) responseObserver);
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
        case METHODID_IMPORT_DATA:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.importData(
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.ImportDataResponse>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getExportDataMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.memrpc.v1.ExportDataRequest,
              dev.memrpc.v1.ExportDataResponse>(
                service, METHODID_EXPORT_DATA)))
        .addMethod(
          getImportDataMethod(),
          io.grpc.stub.ServerCalls.asyncClientStreamingCall(
            new MethodHandlers<
              dev.memrpc.v1.ImportDataRequest,
              dev.memrpc.v1.ImportDataResponse>(
                service, METHODID_IMPORT_DATA)))
        .build();
  }

  private static abstract class PortabilityBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    PortabilityBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.memrpc.v1.PortabilityProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("Portability");
    }
  }

  private static final class PortabilityFileDescriptorSupplier
      extends PortabilityBaseDescriptorSupplier {
    PortabilityFileDescriptorSupplier() {}
  }

  private static final class PortabilityMethodDescriptorSupplier
      extends PortabilityBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    PortabilityMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (PortabilityGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new PortabilityFileDescriptorSupplier())
              .addMethod(getExportDataMethod())
              .addMethod(getImportDataMethod())
              .build();
        }
      }
    }
    return result;
  }
}
