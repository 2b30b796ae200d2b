package dev.memrpc.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.Status;
import dev.memrpc.v1.ErrorReason;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Reads the details of memrpc errors. The server sends a {@code google.rpc.Status} in the {@code
 * grpc-status-details-bin} trailer of every error it returns. It always carries a {@code
 * google.rpc.ErrorInfo} of domain {@value #DOMAIN} whose reason names an {@link ErrorReason}
 * value, with that reason's metadata (see {@code proto/memrpc/v1/error_reason.proto}); for {@code
 * INVALID_ARGUMENT} also a {@code google.rpc.BadRequest} naming the offending request fields
 * ({@code namespace}, {@code memories[1].text}, ...).
 *
 * <pre>{@code
 * } catch (StatusRuntimeException e) {
 *   if (MemrpcErrors.reason(e) == ErrorReason.ERROR_REASON_VERSION_MISMATCH) {
 *     String current = MemrpcErrors.metadata(e).get("currentVersion");
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>Every method takes the failed call's {@link io.grpc.StatusRuntimeException} or {@link
 * io.grpc.StatusException}.
 */
public final class MemrpcErrors {
  /** The domain of every {@code ErrorInfo} the memrpc server sends. */
  public static final String DOMAIN = "memrpc.dev";

  private MemrpcErrors() {}

  /** The first detail of type {@code type} for which {@code keep} holds, if there is one. */
  private static <T extends Message> Optional<T> detail(
      Throwable error, Class<T> type, Predicate<T> keep) {
    return details(error, type).stream().filter(keep).findFirst();
  }

  /** Every detail of type {@code type}, in order. */
  private static <T extends Message> List<T> details(Throwable error, Class<T> type) {
    List<T> found = new ArrayList<>();
    Status status = StatusProto.fromThrowable(error);
    if (status == null) {
      return found;
    }
    for (Any detail : status.getDetailsList()) {
      if (detail.is(type)) {
        try {
          found.add(detail.unpack(type));
        } catch (InvalidProtocolBufferException e) {
          // A detail that does not decode is no detail.
        }
      }
    }
    return found;
  }

  /**
   * The {@code google.rpc.ErrorInfo} of domain {@value #DOMAIN} of a failed call; empty for a
   * status made by the gRPC library rather than by the server (a deadline that expired in transit,
   * an unreachable server, ...).
   */
  public static Optional<ErrorInfo> errorInfo(Throwable error) {
    return detail(error, ErrorInfo.class, info -> info.getDomain().equals(DOMAIN));
  }

  /**
   * Why the call failed: {@link ErrorReason#ERROR_REASON_UNSPECIFIED} when the status carries no
   * memrpc {@code ErrorInfo}, {@link ErrorReason#UNRECOGNIZED} for a reason this client does not
   * know (a newer server's): act on the status code alone then.
   */
  public static ErrorReason reason(Throwable error) {
    return errorInfo(error)
        .map(
            info -> {
              try {
                return ErrorReason.valueOf(info.getReason());
              } catch (IllegalArgumentException unknown) {
                return ErrorReason.UNRECOGNIZED;
              }
            })
        .orElse(ErrorReason.ERROR_REASON_UNSPECIFIED);
  }

  /**
   * The metadata of the error's {@code ErrorInfo} (keys in lowerCamelCase, e.g. {@code
   * currentVersion}, values as strings); empty when there is none.
   */
  public static Map<String, String> metadata(Throwable error) {
    return errorInfo(error).map(ErrorInfo::getMetadataMap).orElse(Map.of());
  }

  /** The {@code google.rpc.BadRequest} detail of a failed call, if it has one. */
  public static Optional<BadRequest> badRequest(Throwable error) {
    return detail(error, BadRequest.class, bad -> true);
  }

  /** The fields named by the error's {@code BadRequest} details; empty when there are none. */
  public static List<String> badRequestFields(Throwable error) {
    List<String> fields = new ArrayList<>();
    for (BadRequest bad : details(error, BadRequest.class)) {
      bad.getFieldViolationsList().forEach(v -> fields.add(v.getField()));
    }
    return fields;
  }
}
