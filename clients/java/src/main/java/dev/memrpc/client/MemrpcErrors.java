package dev.memrpc.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the details of memrpc errors. The server sends a {@code google.rpc.Status} in the {@code
 * grpc-status-details-bin} trailer; for {@code INVALID_ARGUMENT} it carries a {@code
 * google.rpc.BadRequest} naming the offending request fields ({@code namespace}, {@code
 * memories[1].text}, ...).
 */
public final class MemrpcErrors {
  private MemrpcErrors() {}

  /**
   * The {@code google.rpc.BadRequest} detail of a failed call (a {@link
   * io.grpc.StatusRuntimeException} or {@link io.grpc.StatusException}), if it has one.
   */
  public static Optional<BadRequest> badRequest(Throwable error) {
    Status status = StatusProto.fromThrowable(error);
    if (status == null) {
      return Optional.empty();
    }
    for (Any detail : status.getDetailsList()) {
      if (detail.is(BadRequest.class)) {
        try {
          return Optional.of(detail.unpack(BadRequest.class));
        } catch (InvalidProtocolBufferException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  /** The fields named by the error's {@code BadRequest} detail; empty when there is none. */
  public static List<String> badRequestFields(Throwable error) {
    List<String> fields = new ArrayList<>();
    badRequest(error)
        .ifPresent(bad -> bad.getFieldViolationsList().forEach(v -> fields.add(v.getField())));
    return fields;
  }
}
