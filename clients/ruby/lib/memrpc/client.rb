# frozen_string_literal: true

# The memrpc Ruby client: the messages and gRPC stubs generated from
# proto/memrpc/v1 (Memrpc::V1, under lib/memrpc/v1/, never edited by hand),
# plus Memrpc::Client, which opens one channel for the four services, and
# Memrpc::Errors, which reads the reason and details of a failed call.
#
#   require "memrpc/client"
#   client = Memrpc::Client.new("127.0.0.1:50051")
#   client.working_memory.get_context(
#     Memrpc::V1::GetContextRequest.new(namespace: "acme", thread_id: "t1", text: "what next?"))

require "grpc"
require "memrpc/errors"
require "memrpc/v1/working_memory_services_pb"
require "memrpc/v1/long_term_memory_services_pb"
require "memrpc/v1/event_log_services_pb"
require "memrpc/v1/namespace_settings_services_pb"
require "memrpc/client/version"

module Memrpc
  # One channel to a memrpc server and a typed stub per service on it. The
  # stubs are the generated ones (Memrpc::V1::<Service>::Stub); build them
  # yourself when you need other options.
  class Client
    # @return [GRPC::Core::Channel]
    attr_reader :channel
    # @return [Memrpc::V1::WorkingMemory::Stub]
    attr_reader :working_memory
    # @return [Memrpc::V1::LongTermMemory::Stub]
    attr_reader :long_term_memory
    # @return [Memrpc::V1::EventLog::Stub]
    attr_reader :event_log
    # @return [Memrpc::V1::Namespaces::Stub]
    attr_reader :namespaces

    # @param target [String] "host:port"
    # @param credentials [Symbol, GRPC::Core::ChannelCredentials]
    #   :this_channel_is_insecure for plaintext, or
    #   GRPC::Core::ChannelCredentials.new(root_certs) for TLS
    # @param channel_args [Hash] gRPC channel arguments
    # @param timeout [Numeric, nil] the default deadline of each call, in seconds
    def initialize(target, credentials: :this_channel_is_insecure, channel_args: {}, timeout: nil)
      @channel = GRPC::Core::Channel.new(target, channel_args, credentials)
      stub = lambda do |klass|
        klass.new(target, credentials, channel_override: @channel, timeout: timeout)
      end
      @working_memory = stub.call(V1::WorkingMemory::Stub)
      @long_term_memory = stub.call(V1::LongTermMemory::Stub)
      @event_log = stub.call(V1::EventLog::Stub)
      @namespaces = stub.call(V1::Namespaces::Stub)
    end

    # Closes the channel; calls in flight are cancelled.
    def close
      @channel.close
    end
  end
end
