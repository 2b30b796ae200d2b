# frozen_string_literal: true

require "grpc"
require "google/protobuf/well_known_types" # Google::Protobuf::Any#unpack
require "google/rpc/status_pb"
require "google/rpc/error_details_pb"
require "memrpc/v1/error_reason_pb"

module Memrpc
  # Reads the details of a failed call (a GRPC::BadStatus). Every error the
  # memrpc server returns carries, in its grpc-status-details-bin trailer, a
  # google.rpc.ErrorInfo of domain "memrpc.dev" whose reason names a
  # Memrpc::V1::ErrorReason value, with that reason's metadata (see
  # proto/memrpc/v1/error_reason.proto); an INVALID_ARGUMENT also carries a
  # google.rpc.BadRequest naming the offending request fields.
  #
  #   rescue GRPC::Aborted => e
  #     if Memrpc::Errors.reason(e) == :ERROR_REASON_VERSION_MISMATCH
  #       current = Memrpc::Errors.metadata(e)["currentVersion"]
  module Errors
    # The domain of every ErrorInfo the memrpc server sends.
    DOMAIN = "memrpc.dev"

    module_function

    # The details of type `klass` carried by the error, in order.
    def details(error, klass)
      status = error.to_rpc_status
      return [] if status.nil?

      status.details.filter_map { |any| any.unpack(klass) }
    end

    # The google.rpc.ErrorInfo of domain memrpc.dev, or nil (for a status made
    # by the gRPC library rather than the server: a deadline that expired in
    # transit, an unreachable server, ...).
    #
    # @param error [GRPC::BadStatus]
    # @return [Google::Rpc::ErrorInfo, nil]
    def error_info(error)
      details(error, Google::Rpc::ErrorInfo).find { |info| info.domain == DOMAIN }
    end

    # Why the call failed, as a Memrpc::V1::ErrorReason symbol (e.g.
    # :ERROR_REASON_VERSION_MISMATCH). :ERROR_REASON_UNSPECIFIED when the error
    # carries no memrpc ErrorInfo, or a reason this client does not know (a
    # newer server's): act on the status code alone then.
    #
    # @param error [GRPC::BadStatus]
    # @return [Symbol]
    def reason(error)
      info = error_info(error)
      name = info&.reason&.to_sym
      name && V1::ErrorReason.resolve(name) ? name : :ERROR_REASON_UNSPECIFIED
    end

    # The ErrorInfo's metadata (keys in lowerCamelCase, e.g. "currentVersion";
    # values strings), {} when there is none.
    #
    # @param error [GRPC::BadStatus]
    # @return [Hash{String => String}]
    def metadata(error)
      info = error_info(error)
      info ? info.metadata.to_h : {}
    end

    # The google.rpc.BadRequest field violations carried by the error (field
    # paths such as "memories[1].text", with their descriptions); [] when
    # there are none.
    #
    # @param error [GRPC::BadStatus]
    # @return [Array<Google::Rpc::BadRequest::FieldViolation>]
    def field_violations(error)
      details(error, Google::Rpc::BadRequest).flat_map { |bad| bad.field_violations.to_a }
    end
  end
end
