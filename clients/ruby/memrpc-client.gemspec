# frozen_string_literal: true

require_relative "lib/memrpc/client/version"

Gem::Specification.new do |spec|
  spec.name = "memrpc-client"
  spec.version = Memrpc::Client::VERSION
  spec.summary = "gRPC client for memrpc, the memory service for AI agents"
  spec.description = "Messages and stubs generated from memrpc's protos " \
                     "(memrpc.v1: WorkingMemory, LongTermMemory, EventLog), a small channel helper, " \
                     "and Memrpc::Errors to read the reason of a failed call."
  spec.authors = ["memrpc authors"]
  spec.license = "Apache-2.0"
  spec.required_ruby_version = ">= 3.1"

  spec.files = Dir["lib/**/*.rb", "README.md"]
  spec.require_paths = ["lib"]

  # The versions of Debian bookworm's ruby-grpc, ruby-google-protobuf and
  # ruby-googleapis-common-protos-types (google/rpc for errors, and
  # google/api/field_behavior, which the generated code requires), which the
  # code is generated for.
  spec.add_dependency "google-protobuf", "~> 3.21"
  spec.add_dependency "googleapis-common-protos-types", "~> 1.4"
  spec.add_dependency "grpc", "~> 1.51"
end
