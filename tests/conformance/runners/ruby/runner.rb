# frozen_string_literal: true

# The Ruby conformance runner: runs a scenario with the generated Ruby stubs
# (clients/ruby) against a live memrpc server. Mirrors runners/python/runner.py;
# the format is described in tests/conformance/README.md.
#
#   ruby runner.rb --target HOST:PORT --scenario FILE [--var NAME=VALUE]... [--service-config FILE]
#
# `run` passes the published service config, clients/service-config.json,
# which the channel then uses.

$LOAD_PATH.unshift(File.expand_path("../../../../clients/ruby/lib", __dir__))

require "json"
require "optparse"
require "memrpc/client"

module Conformance
  MISSING = Object.new.freeze
  NEXT_TIMEOUT_S = 10.0
  CALL_TIMEOUT_S = 30
  VAR = /\$\{([A-Za-z0-9_]+)\}/

  # gRPC status code number => name ("NOT_FOUND").
  CODE_NAMES = GRPC::Core::StatusCodes.constants.to_h do |name|
    [GRPC::Core::StatusCodes.const_get(name), name.to_s]
  end.freeze

  # A step's outcome differs from its expectation.
  class StepFailed < StandardError; end

  module_function

  # `value` with every `${name}` in its strings replaced.
  def substitute(value, variables)
    case value
    when String
      value.gsub(VAR) do
        name = Regexp.last_match(1)
        variables.fetch(name) { raise StepFailed, "unknown variable ${#{name}}" }
      end
    when Array then value.map { |v| substitute(v, variables) }
    when Hash then value.transform_values { |v| substitute(v, variables) }
    else value
    end
  end

  def show(value)
    value.equal?(MISSING) ? "absent" : JSON.generate(value)
  end

  def number?(value)
    value.is_a?(Integer) || value.is_a?(Float)
  end

  def empty_value?(value)
    ["", "0", [], {}, false, nil].any? { |e| e.class == value.class && e == value } ||
      (number?(value) && value.zero?)
  end

  # Raises StepFailed unless `actual` (canonical JSON, parsed) satisfies `expected`.
  def match(expected, actual, path = "")
    where = path.empty? ? "response" : path
    if expected.is_a?(String) && expected.start_with?("$")
      match_matcher(expected, actual, where)
    elsif expected.is_a?(Hash)
      raise StepFailed, "#{where}: expected an object, got #{show(actual)}" unless actual.is_a?(Hash)

      expected.each do |key, value|
        match(value, actual.fetch(key, MISSING), path.empty? ? key : "#{path}.#{key}")
      end
    elsif expected.is_a?(Array)
      unless actual.is_a?(Array) && actual.length == expected.length
        raise StepFailed, "#{where}: expected #{expected.length} items, got #{show(actual)}"
      end

      expected.zip(actual).each_with_index { |(want, got), i| match(want, got, "#{path}.#{i}") }
    else
      ok = if number?(expected)
             number?(actual) && actual == expected
           else
             actual.class == expected.class && actual == expected
           end
      raise StepFailed, "#{where}: expected #{JSON.generate(expected)}, got #{show(actual)}" unless ok
    end
  end

  def match_matcher(expected, actual, where)
    ok =
      case expected
      when "$any" then !actual.equal?(MISSING)
      when "$absent" then actual.equal?(MISSING)
      when "$nonempty" then !actual.equal?(MISSING) && !empty_value?(actual)
      when /\A\$(lte|gte):(.*)\z/
        op = Regexp.last_match(1)
        bound = Float(Regexp.last_match(2))
        number = begin
          actual.equal?(MISSING) ? 0.0 : Float(actual)
        rescue ArgumentError, TypeError
          raise StepFailed, "#{where}: expected #{expected}, got #{show(actual)}"
        end
        op == "lte" ? number <= bound : number >= bound
      else
        raise StepFailed, "#{where}: unknown matcher #{expected.inspect}"
      end
    raise StepFailed, "#{where}: expected #{expected}, got #{show(actual)}" unless ok
  end

  # The value at a dotted path (`results.0.memory.id`), as a string.
  def lookup(document, path)
    value = path.split(".").reduce(document) do |node, part|
      case node
      when Array then node.fetch(Integer(part, 10))
      when Hash then node.fetch(part)
      else raise StepFailed, "save: #{path}: no #{part.inspect} in #{show(node)}"
      end
    rescue KeyError, IndexError, ArgumentError
      raise StepFailed, "save: #{path}: no #{part.inspect}"
    end
    value.is_a?(String) ? value : JSON.generate(value)
  end

  def code_name(error)
    CODE_NAMES.fetch(error.code, error.code.to_s)
  end

  # A queue whose pop waits at most a given time (Ruby 3.1's Queue#pop cannot).
  class Inbox
    def initialize
      @items = []
      @mutex = Mutex.new
      @ready = ConditionVariable.new
    end

    def push(item)
      @mutex.synchronize do
        @items << item
        @ready.signal
      end
    end

    # The oldest item, or `timeout_value` after `seconds`.
    def pop(seconds, timeout_value)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
      @mutex.synchronize do
        while @items.empty?
          left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
          return timeout_value if left <= 0

          @ready.wait(@mutex, left)
        end
        @items.shift
      end
    end
  end

  # A TailEvents stream read on a thread, so that `next` can time out.
  class Tail
    TIMED_OUT = Object.new.freeze
    ENDED = Object.new.freeze

    def initialize(operation)
      @operation = operation
      @inbox = Inbox.new
      @thread = Thread.new { pump }
    end

    # The next item within NEXT_TIMEOUT_S: a message, the GRPC::BadStatus the
    # stream failed with, or ENDED (it ended OK). Once the stream is over,
    # every later call returns how it ended.
    def next_item
      item = @inbox.pop(NEXT_TIMEOUT_S, TIMED_OUT)
      raise StepFailed, "no message within #{NEXT_TIMEOUT_S.to_i} s" if item.equal?(TIMED_OUT)

      @inbox.push(item) if item.equal?(ENDED) || item.is_a?(GRPC::BadStatus)
      item
    end

    def cancel
      @operation.cancel
      @thread.join(5)
    end

    private

    def pump
      @operation.execute.each { |message| @inbox.push(message) }
      @inbox.push(ENDED)
    rescue GRPC::BadStatus => e
      @inbox.push(e)
    rescue StandardError => e
      @inbox.push(GRPC::Unknown.new("#{e.class}: #{e.message}"))
    end
  end

  # Runs the steps of a scenario.
  class Runner
    def initialize(client, variables)
      @variables = variables
      @tails = {}
      wm = client.working_memory
      ltm = client.long_term_memory
      log = client.event_log
      nss = client.namespaces
      v1 = Memrpc::V1
      # "memrpc.v1.Service/Method" => [typed stub call, request class].
      @methods = {
        "memrpc.v1.WorkingMemory/GetSession" => [wm.method(:get_session), v1::GetSessionRequest],
        "memrpc.v1.WorkingMemory/UpdateSession" => [wm.method(:update_session), v1::UpdateSessionRequest],
        "memrpc.v1.WorkingMemory/AppendTurns" => [wm.method(:append_turns), v1::AppendTurnsRequest],
        "memrpc.v1.WorkingMemory/DeleteSession" => [wm.method(:delete_session), v1::DeleteSessionRequest],
        "memrpc.v1.WorkingMemory/ListSessions" => [wm.method(:list_sessions), v1::ListSessionsRequest],
        "memrpc.v1.WorkingMemory/GetContext" => [wm.method(:get_context), v1::GetContextRequest],
        "memrpc.v1.LongTermMemory/CreateMemories" => [ltm.method(:create_memories), v1::CreateMemoriesRequest],
        "memrpc.v1.LongTermMemory/SearchMemories" => [ltm.method(:search_memories), v1::SearchMemoriesRequest],
        "memrpc.v1.LongTermMemory/GetMemory" => [ltm.method(:get_memory), v1::GetMemoryRequest],
        "memrpc.v1.LongTermMemory/UpdateMemory" => [ltm.method(:update_memory), v1::UpdateMemoryRequest],
        "memrpc.v1.LongTermMemory/DeleteMemory" => [ltm.method(:delete_memory), v1::DeleteMemoryRequest],
        "memrpc.v1.LongTermMemory/DeleteMemories" => [ltm.method(:delete_memories), v1::DeleteMemoriesRequest],
        "memrpc.v1.LongTermMemory/ListMemories" => [ltm.method(:list_memories), v1::ListMemoriesRequest],
        "memrpc.v1.EventLog/AppendEvents" => [log.method(:append_events), v1::AppendEventsRequest],
        "memrpc.v1.EventLog/ListEvents" => [log.method(:list_events), v1::ListEventsRequest],
        "memrpc.v1.EventLog/TrimEvents" => [log.method(:trim_events), v1::TrimEventsRequest],
        "memrpc.v1.EventLog/TailEvents" => [log.method(:tail_events), v1::TailEventsRequest],
        "memrpc.v1.EventLog/CreateConsumerGroup" =>
          [log.method(:create_consumer_group), v1::CreateConsumerGroupRequest],
        "memrpc.v1.EventLog/DeleteConsumerGroup" =>
          [log.method(:delete_consumer_group), v1::DeleteConsumerGroupRequest],
        "memrpc.v1.EventLog/ReceiveEvents" => [log.method(:receive_events), v1::ReceiveEventsRequest],
        "memrpc.v1.EventLog/AcknowledgeEvents" => [log.method(:acknowledge_events), v1::AcknowledgeEventsRequest],
        "memrpc.v1.Namespaces/GetNamespaceSettings" =>
          [nss.method(:get_namespace_settings), v1::GetNamespaceSettingsRequest],
        "memrpc.v1.Namespaces/UpdateNamespaceSettings" =>
          [nss.method(:update_namespace_settings), v1::UpdateNamespaceSettingsRequest]
      }.freeze
    end

    # Every RPC of the generated services that the table above lacks (none,
    # unless the protos gained one).
    def self.uncovered(methods)
      [Memrpc::V1::WorkingMemory, Memrpc::V1::LongTermMemory, Memrpc::V1::EventLog,
       Memrpc::V1::Namespaces].flat_map do |mod|
        mod::Service.rpc_descs.keys.map { |name| "#{mod::Service.service_name}/#{name}" }
      end - methods.keys
    end

    attr_reader :methods

    def run_step(step)
      if step.key?("sleep_ms")
        sleep(step["sleep_ms"] / 1000.0)
      elsif step.key?("tail")
        run_tail(step)
      else
        run_call(step)
      end
    end

    def close
      @tails.each_value(&:cancel)
      @tails.clear
    end

    private

    def method_for(call)
      @methods.fetch(call) { raise StepFailed, "unknown call #{call.inspect}" }
    end

    # The request, parsed from proto3 canonical JSON by the standard mapping
    # (unknown fields are errors).
    def request(step, request_class)
      json = JSON.generate(Conformance.substitute(step.fetch("request", {}), @variables))
      request_class.decode_json(json)
    rescue Google::Protobuf::ParseError => e
      raise StepFailed, "request is not a valid #{request_class.descriptor.name}: #{e.message}"
    end

    # The response as proto3 canonical JSON (lowerCamelCase names, default
    # values omitted, int64 as strings, enums by name), parsed.
    def canonical(response)
      JSON.parse(response.class.encode_json(response))
    end

    def check(step, response)
      actual = canonical(response)
      expected = step.fetch("expect", {})["response"]
      Conformance.match(Conformance.substitute(expected, @variables), actual) unless expected.nil?
      save(step, actual)
    end

    def save(step, document)
      step.fetch("save", {}).each { |name, path| @variables[name] = Conformance.lookup(document, path) }
    end

    def expected_code(step)
      step.fetch("expect", {}).fetch("code", "OK")
    end

    # Checks a failed call (or a stream's end) against the step, in the
    # README's order: the code, the BadRequest field, the ErrorInfo's reason
    # and metadata; then saves from {"errorMetadata" => {...}}.
    def check_failure(step, error)
      expect = step.fetch("expect", {})
      code = expected_code(step)
      got = Conformance.code_name(error)
      raise StepFailed, "expected #{code}, got #{got}: #{error.details}" if got != code

      if expect.key?("field")
        fields = Memrpc::Errors.field_violations(error).map(&:field)
        unless fields.include?(expect["field"])
          raise StepFailed, "expected BadRequest field #{expect['field'].inspect}, got #{fields.inspect}"
        end
      end
      info = Memrpc::Errors.error_info(error)
      if info.nil? && (expect.key?("reason") || expect.key?("errorMetadata"))
        raise StepFailed, "expected an ErrorInfo of domain #{Memrpc::Errors::DOMAIN}, got none " \
                          "(#{got}: #{error.details})"
      end
      # The reason as the client's helper reads it, the generated enum (the
      # scenario names only reasons of the proto).
      if expect.key?("reason") && Memrpc::Errors.reason(error).to_s != expect["reason"]
        raise StepFailed, "expected reason #{expect['reason']}, got #{info.reason}: #{error.details}"
      end

      metadata = Memrpc::Errors.metadata(error)
      if expect.key?("errorMetadata")
        Conformance.match(Conformance.substitute(expect["errorMetadata"], @variables), metadata,
                          "errorMetadata")
      end
      save(step, { "errorMetadata" => metadata })
    end

    def run_call(step)
      stub_call, request_class = method_for(step.fetch("call"))
      code = expected_code(step)
      begin
        response = stub_call.call(request(step, request_class), deadline: Time.now + CALL_TIMEOUT_S)
      rescue GRPC::BadStatus => e
        check_failure(step, e)
        return
      end
      raise StepFailed, "expected #{code}, got OK" if code != "OK"

      check(step, response)
    end

    # A `tail next` step: the stream's next message, matched like a response;
    # or, when the step expects a non-OK code, the status the stream ends
    # with, checked like a failed call.
    def run_next(step, tail)
      code = expected_code(step)
      item = tail.next_item
      if item.is_a?(GRPC::BadStatus)
        raise StepFailed, "stream failed: #{Conformance.code_name(item)}: #{item.details}" if code == "OK"

        check_failure(step, item)
      elsif item.equal?(Tail::ENDED)
        raise StepFailed, "stream ended (OK) before a message" if code == "OK"

        raise StepFailed, "expected the stream to end with #{code}, it ended OK"
      elsif code != "OK"
        raise StepFailed, "expected the stream to end with #{code}, got a message: #{item.class.encode_json(item)}"
      else
        check(step, item)
      end
    end

    def run_tail(step)
      action = step.fetch("tail")
      stream = step.fetch("stream")
      case action
      when "open"
        stub_call, request_class = method_for("memrpc.v1.EventLog/TailEvents")
        # return_op: the call is made now; its messages are read by Tail's thread.
        @tails[stream] = Tail.new(stub_call.call(request(step, request_class), return_op: true))
      when "next"
        run_next(step, tail(stream))
      when "close"
        tail(stream).cancel
        @tails.delete(stream)
      else
        raise StepFailed, "unknown tail action #{action.inspect}"
      end
    end

    def tail(stream)
      @tails.fetch(stream) { raise StepFailed, "no open stream #{stream.inspect}" }
    end
  end

  def parse_args(argv)
    options = { vars: {} }
    parser = OptionParser.new do |o|
      o.banner = "usage: run --target HOST:PORT --scenario FILE [--var NAME=VALUE]... [--service-config FILE]"
      o.on("--target HOST:PORT") { |v| options[:target] = v }
      o.on("--scenario FILE") { |v| options[:scenario] = v }
      o.on("--service-config FILE") { |v| options[:service_config] = v }
      o.on("--var NAME=VALUE") do |v|
        name, value = v.split("=", 2)
        raise OptionParser::InvalidArgument, v if value.nil?

        options[:vars][name] = value
      end
    end
    begin
      parser.parse!(argv)
    rescue OptionParser::ParseError => e
      warn "#{e.message}\n#{parser.banner}"
      exit 2
    end
    unless options[:target] && options[:scenario] && argv.empty?
      warn parser.banner
      exit 2
    end
    options
  end

  def main(argv)
    options = parse_args(argv)
    steps = JSON.parse(File.read(options[:scenario], encoding: "UTF-8")).fetch("steps")
    channel_args = {}
    channel_args["grpc.service_config"] = File.read(options[:service_config]) if options[:service_config]
    client = Memrpc::Client.new(options[:target], channel_args: channel_args)
    runner = Runner.new(client, options[:vars])
    missing = Runner.uncovered(runner.methods)
    warn "runner: no dispatch entry for #{missing.join(', ')}" unless missing.empty?
    passed = failed = 0
    steps.each do |step|
      runner.run_step(step)
    rescue StandardError => e
      failed += 1
      reason = e.is_a?(StepFailed) ? e.message : "#{e.class}: #{e.message}"
      puts "FAIL #{step['name']}: #{reason.strip.gsub(/\s*\n\s*/, ' ')}"
    else
      passed += 1
      puts "PASS #{step['name']}"
    end
    puts "conformance: #{passed} passed, #{failed} failed"
    runner.close
    client.close
    failed.zero? ? 0 : 1
  end
end

if $PROGRAM_NAME == __FILE__
  $stdout.sync = true
  exit Conformance.main(ARGV)
end
