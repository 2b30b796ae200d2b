# frozen_string_literal: true

module Memrpc
  class Client
    # The version of the memrpc-client gem.
    VERSION = "0.1.0"
  end
end
