package dev.memrpc.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Namespaces reads and changes each namespace's settings.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class NamespacesGrpc {

  private NamespacesGrpc() {}

  public static final java.lang.String SERVICE_NAME = "memrpc.v1.Namespaces";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.GetNamespaceSettingsRequest,
      dev.memrpc.v1.GetNamespaceSettingsResponse> getGetNamespaceSettingsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetNamespaceSettings",
      requestType = dev.memrpc.v1.GetNamespaceSettingsRequest.class,
      responseType = dev.memrpc.v1.GetNamespaceSettingsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.GetNamespaceSettingsRequest,
      dev.memrpc.v1.GetNamespaceSettingsResponse> getGetNamespaceSettingsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.GetNamespaceSettingsRequest, dev.memrpc.v1.GetNamespaceSettingsResponse> getGetNamespaceSettingsMethod;
    if ((getGetNamespaceSettingsMethod = NamespacesGrpc.getGetNamespaceSettingsMethod) == null) {
      synchronized (NamespacesGrpc.class) {
        if ((getGetNamespaceSettingsMethod = NamespacesGrpc.getGetNamespaceSettingsMethod) == null) {
          NamespacesGrpc.getGetNamespaceSettingsMethod = getGetNamespaceSettingsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.GetNamespaceSettingsRequest, dev.memrpc.v1.GetNamespaceSettingsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetNamespaceSettings"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.GetNamespaceSettingsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.GetNamespaceSettingsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NamespacesMethodDescriptorSupplier("GetNamespaceSettings"))
              .build();
        }
      }
    }
    return getGetNamespaceSettingsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.memrpc.v1.UpdateNamespaceSettingsRequest,
      dev.memrpc.v1.UpdateNamespaceSettingsResponse> getUpdateNamespaceSettingsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateNamespaceSettings",
      requestType = dev.memrpc.v1.UpdateNamespaceSettingsRequest.class,
      responseType = dev.memrpc.v1.UpdateNamespaceSettingsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.memrpc.v1.UpdateNamespaceSettingsRequest,
      dev.memrpc.v1.UpdateNamespaceSettingsResponse> getUpdateNamespaceSettingsMethod() {
    io.grpc.MethodDescriptor<dev.memrpc.v1.UpdateNamespaceSettingsRequest, dev.memrpc.v1.UpdateNamespaceSettingsResponse> getUpdateNamespaceSettingsMethod;
    if ((getUpdateNamespaceSettingsMethod = NamespacesGrpc.getUpdateNamespaceSettingsMethod) == null) {
      synchronized (NamespacesGrpc.class) {
        if ((getUpdateNamespaceSettingsMethod = NamespacesGrpc.getUpdateNamespaceSettingsMethod) == null) {
          NamespacesGrpc.getUpdateNamespaceSettingsMethod = getUpdateNamespaceSettingsMethod =
              io.grpc.MethodDescriptor.<dev.memrpc.v1.UpdateNamespaceSettingsRequest, dev.memrpc.v1.UpdateNamespaceSettingsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateNamespaceSettings"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.UpdateNamespaceSettingsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.memrpc.v1.UpdateNamespaceSettingsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NamespacesMethodDescriptorSupplier("UpdateNamespaceSettings"))
              .build();
        }
      }
    }
    return getUpdateNamespaceSettingsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static NamespacesStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<NamespacesStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<NamespacesStub>() {
        @java.lang.Override
        public NamespacesStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new NamespacesStub(channel, callOptions);
        }
      };
    return NamespacesStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static NamespacesBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<NamespacesBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<NamespacesBlockingV2Stub>() {
        @java.lang.Override
        public NamespacesBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new NamespacesBlockingV2Stub(channel, callOptions);
        }
      };
    return NamespacesBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static NamespacesBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<NamespacesBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<NamespacesBlockingStub>() {
        @java.lang.Override
        public NamespacesBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new NamespacesBlockingStub(channel, callOptions);
        }
      };
    return NamespacesBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static NamespacesFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<NamespacesFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<NamespacesFutureStub>() {
        @java.lang.Override
        public NamespacesFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new NamespacesFutureStub(channel, callOptions);
        }
      };
    return NamespacesFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Namespaces reads and changes each namespace's settings.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Returns a namespace's settings as stored (unset fields follow the
     * server) and as they apply (every field resolved). A namespace never
     * configured has empty settings and version 0. Needs read access to the
     * namespace.
     * </pre>
     */
    default void getNamespaceSettings(dev.memrpc.v1.GetNamespaceSettingsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.GetNamespaceSettingsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetNamespaceSettingsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Changes a namespace's settings. Needs a credential allowed to
     * administer the namespace (access `admin`): `PERMISSION_DENIED`
     * (`ERROR_REASON_METHOD_FORBIDDEN`) for read or write access. A value out
     * of its range is `INVALID_ARGUMENT` (`ERROR_REASON_FIELD_INVALID`) naming
     * the field, and nothing changes. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`) when another writer got
     * there first.
     * </pre>
     */
    default void updateNamespaceSettings(dev.memrpc.v1.UpdateNamespaceSettingsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.UpdateNamespaceSettingsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateNamespaceSettingsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service Namespaces.
   * <pre>
   * Namespaces reads and changes each namespace's settings.
   * </pre>
   */
  public static abstract class NamespacesImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return NamespacesGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service Namespaces.
   * <pre>
   * Namespaces reads and changes each namespace's settings.
   * </pre>
   */
  public static final class NamespacesStub
      extends io.grpc.stub.AbstractAsyncStub<NamespacesStub> {
    private NamespacesStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected NamespacesStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new NamespacesStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns a namespace's settings as stored (unset fields follow the
     * server) and as they apply (every field resolved). A namespace never
     * configured has empty settings and version 0. Needs read access to the
     * namespace.
     * </pre>
     */
    public void getNamespaceSettings(dev.memrpc.v1.GetNamespaceSettingsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.GetNamespaceSettingsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetNamespaceSettingsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Changes a namespace's settings. Needs a credential allowed to
     * administer the namespace (access `admin`): `PERMISSION_DENIED`
     * (`ERROR_REASON_METHOD_FORBIDDEN`) for read or write access. A value out
     * of its range is `INVALID_ARGUMENT` (`ERROR_REASON_FIELD_INVALID`) naming
     * the field, and nothing changes. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`) when another writer got
     * there first.
     * </pre>
     */
    public void updateNamespaceSettings(dev.memrpc.v1.UpdateNamespaceSettingsRequest request,
        io.grpc.stub.StreamObserver<dev.memrpc.v1.UpdateNamespaceSettingsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateNamespaceSettingsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service Namespaces.
   * <pre>
   * Namespaces reads and changes each namespace's settings.
   * </pre>
   */
  public static final class NamespacesBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<NamespacesBlockingV2Stub> {
    private NamespacesBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected NamespacesBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new NamespacesBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns a namespace's settings as stored (unset fields follow the
     * server) and as they apply (every field resolved). A namespace never
     * configured has empty settings and version 0. Needs read access to the
     * namespace.
     * </pre>
     */
    public dev.memrpc.v1.GetNamespaceSettingsResponse getNamespaceSettings(dev.memrpc.v1.GetNamespaceSettingsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetNamespaceSettingsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes a namespace's settings. Needs a credential allowed to
     * administer the namespace (access `admin`): `PERMISSION_DENIED`
     * (`ERROR_REASON_METHOD_FORBIDDEN`) for read or write access. A value out
     * of its range is `INVALID_ARGUMENT` (`ERROR_REASON_FIELD_INVALID`) naming
     * the field, and nothing changes. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`) when another writer got
     * there first.
     * </pre>
     */
    public dev.memrpc.v1.UpdateNamespaceSettingsResponse updateNamespaceSettings(dev.memrpc.v1.UpdateNamespaceSettingsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdateNamespaceSettingsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service Namespaces.
   * <pre>
   * Namespaces reads and changes each namespace's settings.
   * </pre>
   */
  public static final class NamespacesBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<NamespacesBlockingStub> {
    private NamespacesBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected NamespacesBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new NamespacesBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns a namespace's settings as stored (unset fields follow the
     * server) and as they apply (every field resolved). A namespace never
     * configured has empty settings and version 0. Needs read access to the
     * namespace.
     * </pre>
     */
    public dev.memrpc.v1.GetNamespaceSettingsResponse getNamespaceSettings(dev.memrpc.v1.GetNamespaceSettingsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetNamespaceSettingsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes a namespace's settings. Needs a credential allowed to
     * administer the namespace (access `admin`): `PERMISSION_DENIED`
     * (`ERROR_REASON_METHOD_FORBIDDEN`) for read or write access. A value out
     * of its range is `INVALID_ARGUMENT` (`ERROR_REASON_FIELD_INVALID`) naming
     * the field, and nothing changes. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`) when another writer got
     * there first.
     * </pre>
     */
    public dev.memrpc.v1.UpdateNamespaceSettingsResponse updateNamespaceSettings(dev.memrpc.v1.UpdateNamespaceSettingsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateNamespaceSettingsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service Namespaces.
   * <pre>
   * Namespaces reads and changes each namespace's settings.
   * </pre>
   */
  public static final class NamespacesFutureStub
      extends io.grpc.stub.AbstractFutureStub<NamespacesFutureStub> {
    private NamespacesFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected NamespacesFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new NamespacesFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Returns a namespace's settings as stored (unset fields follow the
     * server) and as they apply (every field resolved). A namespace never
     * configured has empty settings and version 0. Needs read access to the
     * namespace.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.GetNamespaceSettingsResponse> getNamespaceSettings(
        dev.memrpc.v1.GetNamespaceSettingsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetNamespaceSettingsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Changes a namespace's settings. Needs a credential allowed to
     * administer the namespace (access `admin`): `PERMISSION_DENIED`
     * (`ERROR_REASON_METHOD_FORBIDDEN`) for read or write access. A value out
     * of its range is `INVALID_ARGUMENT` (`ERROR_REASON_FIELD_INVALID`) naming
     * the field, and nothing changes. With `expected_version`, fails with
     * `ABORTED` (`ERROR_REASON_VERSION_MISMATCH`) when another writer got
     * there first.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.memrpc.v1.UpdateNamespaceSettingsResponse> updateNamespaceSettings(
        dev.memrpc.v1.UpdateNamespaceSettingsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateNamespaceSettingsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_NAMESPACE_SETTINGS = 0;
  private static final int METHODID_UPDATE_NAMESPACE_SETTINGS = 1;

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
        case METHODID_GET_NAMESPACE_SETTINGS:
          serviceImpl.getNamespaceSettings((dev.memrpc.v1.GetNamespaceSettingsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.GetNamespaceSettingsResponse>) responseObserver);
          break;
        case METHODID_UPDATE_NAMESPACE_SETTINGS:
          serviceImpl.updateNamespaceSettings((dev.memrpc.v1.UpdateNamespaceSettingsRequest) request,
              (io.grpc.stub.StreamObserver<dev.memrpc.v1.UpdateNamespaceSettingsResponse>) responseObserver);
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
          getGetNamespaceSettingsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.GetNamespaceSettingsRequest,
              dev.memrpc.v1.GetNamespaceSettingsResponse>(
                service, METHODID_GET_NAMESPACE_SETTINGS)))
        .addMethod(
          getUpdateNamespaceSettingsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.memrpc.v1.UpdateNamespaceSettingsRequest,
              dev.memrpc.v1.UpdateNamespaceSettingsResponse>(
                service, METHODID_UPDATE_NAMESPACE_SETTINGS)))
        .build();
  }

  private static abstract class NamespacesBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    NamespacesBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.memrpc.v1.NamespaceSettingsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("Namespaces");
    }
  }

  private static final class NamespacesFileDescriptorSupplier
      extends NamespacesBaseDescriptorSupplier {
    NamespacesFileDescriptorSupplier() {}
  }

  private static final class NamespacesMethodDescriptorSupplier
      extends NamespacesBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    NamespacesMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (NamespacesGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new NamespacesFileDescriptorSupplier())
              .addMethod(getGetNamespaceSettingsMethod())
              .addMethod(getUpdateNamespaceSettingsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
