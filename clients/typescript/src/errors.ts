/**
 * Reading why a call failed, from the rich error details memrpc attaches.
 *
 * The server sends a `google.rpc.Status` in the `grpc-status-details-bin`
 * trailer. Every error status carries a `google.rpc.ErrorInfo` of domain
 * `memrpc.dev` whose `reason` names an `ErrorReason` value and whose
 * `metadata` holds that reason's values (`currentVersion` on a version
 * mismatch, `field` on an invalid field, ...; see
 * proto/memrpc/v1/error_reason.proto); an INVALID_ARGUMENT also carries a
 * `google.rpc.BadRequest` naming the offending request field (`thread_id`,
 * `memories[1].text`, ...).
 *
 * A status without that ErrorInfo (one made by gRPC itself, such as a
 * deadline that expired in transit), and a reason newer than this client,
 * read as `ERROR_REASON_UNSPECIFIED`: act on the status code alone then.
 */
import type { ServiceError } from "@grpc/grpc-js";

import { BadRequest, type BadRequest_FieldViolation, ErrorInfo } from "./gen/google/rpc/error_details";
import { Status } from "./gen/google/rpc/status";
import { ErrorReason, errorReasonFromJSON } from "./gen/memrpc/v1/error_reason";

/** The trailer that holds a serialized `google.rpc.Status`. */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

/** The `ErrorInfo.domain` of the reasons the memrpc server gives. */
export const ERROR_DOMAIN = "memrpc.dev";

const BAD_REQUEST_TYPE_URL = "type.googleapis.com/google.rpc.BadRequest";
const ERROR_INFO_TYPE_URL = "type.googleapis.com/google.rpc.ErrorInfo";

/** The `google.rpc.Status` of a failed call, or undefined when it carries none. */
export function richStatus(error: Pick<ServiceError, "metadata">): Status | undefined {
  const [value] = error.metadata?.get(STATUS_DETAILS_KEY) ?? [];
  if (value === undefined) {
    return undefined;
  }
  return Status.decode(typeof value === "string" ? Buffer.from(value, "base64") : value);
}

/** The field violations of the `google.rpc.BadRequest` details of a failed call. */
export function fieldViolations(error: Pick<ServiceError, "metadata">): BadRequest_FieldViolation[] {
  return (richStatus(error)?.details ?? [])
    .filter((detail) => detail.typeUrl === BAD_REQUEST_TYPE_URL)
    .flatMap((detail) => BadRequest.decode(detail.value).fieldViolations);
}

/** The `google.rpc.ErrorInfo` of domain `memrpc.dev` of a failed call, or undefined. */
export function errorInfo(error: Pick<ServiceError, "metadata">): ErrorInfo | undefined {
  return (richStatus(error)?.details ?? [])
    .filter((detail) => detail.typeUrl === ERROR_INFO_TYPE_URL)
    .map((detail) => ErrorInfo.decode(detail.value))
    .find((info) => info.domain === ERROR_DOMAIN);
}

/**
 * Why a call failed: `ERROR_REASON_UNSPECIFIED` when its error gives no
 * reason, or one this client does not know.
 *
 *     if (errorReason(error) === ErrorReason.ERROR_REASON_VERSION_MISMATCH) { ... }
 */
export function errorReason(error: Pick<ServiceError, "metadata">): ErrorReason {
  const reason = errorInfo(error)?.reason;
  const known = reason === undefined ? ErrorReason.UNRECOGNIZED : errorReasonFromJSON(reason);
  return known === ErrorReason.UNRECOGNIZED ? ErrorReason.ERROR_REASON_UNSPECIFIED : known;
}

/** The metadata of the error's reason (lowerCamelCase keys), empty when it gives none. */
export function errorMetadata(error: Pick<ServiceError, "metadata">): { [key: string]: string } {
  return errorInfo(error)?.metadata ?? {};
}
