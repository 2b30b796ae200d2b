/**
 * Reading the rich error details that memrpc attaches to a failed call.
 *
 * The server sends a `google.rpc.Status` in the `grpc-status-details-bin`
 * trailer; for INVALID_ARGUMENT it carries a `google.rpc.BadRequest` naming
 * the offending request field (`thread_id`, `memories[1].text`, ...).
 */
import type { ServiceError } from "@grpc/grpc-js";

import { BadRequest, type BadRequest_FieldViolation } from "./gen/google/rpc/error_details";
import { Status } from "./gen/google/rpc/status";

/** The trailer that holds a serialized `google.rpc.Status`. */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

const BAD_REQUEST_TYPE_URL = "type.googleapis.com/google.rpc.BadRequest";

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
