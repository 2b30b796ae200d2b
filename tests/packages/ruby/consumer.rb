# frozen_string_literal: true

# A program of a memrpc-client gem user (the gem activated by name, from the
# gem path, not from the repository): UpdateSession, AppendTurns, GetSession.
#
#   ruby consumer.rb TARGET NAMESPACE THREAD
gem "memrpc-client"
require "memrpc/client"

target, namespace, thread = ARGV
client = Memrpc::Client.new(target, timeout: 30)
wm = client.working_memory
wm.update_session(Memrpc::V1::UpdateSessionRequest.new(
  namespace: namespace, thread_id: thread,
  session: Memrpc::V1::SessionInput.new(goal: "installed ruby package"),
  update_mask: Google::Protobuf::FieldMask.new(paths: ["goal"])
))
wm.append_turns(Memrpc::V1::AppendTurnsRequest.new(
  namespace: namespace, thread_id: thread,
  turns: [Memrpc::V1::TurnInput.new(role: "user", content: "hello from the ruby package")]
))
session = wm.get_session(Memrpc::V1::GetSessionRequest.new(namespace: namespace, thread_id: thread)).session
unless session.goal == "installed ruby package" && session.turns.size == 1
  abort "unexpected session: #{session.inspect}"
end
spec = Gem.loaded_specs["memrpc-client"]
puts "ruby: memrpc-client #{spec.version} from #{spec.full_gem_path}: session version #{session.version}"
client.close
