# frozen_string_literal: true

module Orderbase
  # An Orderbase error: `code` is the stable name ("not_found"), `number` the C
  # return code, `field` the offending request field path, `details` extras.
  class Error < StandardError
    attr_reader :code, :number, :field, :details

    def initialize(message, code: nil, number: nil, field: nil, details: nil)
      super(message)
      @code = code || self.class.const_get(:CODE)
      @number = number || self.class.const_get(:NUMBER)
      @field = field
      @details = details || {}
    end

    CODE = "unknown"
    NUMBER = 0
  end

  {
    "InvalidArgument" => ["invalid_argument", -1], "NotFound" => ["not_found", -2],
    "AlreadyExists" => ["already_exists", -3], "VersionConflict" => ["version_conflict", -4],
    "InvalidTransition" => ["invalid_transition", -5], "IdempotencyMismatch" => ["idempotency_mismatch", -6],
    "Busy" => ["busy", -7], "IoError" => ["io_error", -8], "Corruption" => ["corruption", -9],
    "Misuse" => ["misuse", -10], "LimitExceeded" => ["limit_exceeded", -11], "InternalError" => ["internal", -12],
    "InvalidState" => ["invalid_state", -13], "OnHold" => ["on_hold", -14],
    "GuardFailed" => ["guard_failed", -15], "NotPermitted" => ["not_permitted", -16]
  }.each do |name, (code, number)|
    klass = Class.new(Error)
    klass.const_set(:CODE, code)
    klass.const_set(:NUMBER, number)
    const_set(name, klass)
  end

  ERRORS_BY_CODE = constants.map { |c| const_get(c) }
                            .select { |k| k.is_a?(Class) && k < Error }
                            .to_h { |k| [k::CODE, k] }.freeze

  # The exception for an {"error": {...}} object (symbol keys).
  def self.error_from(obj, number)
    err = obj[:error] || {}
    klass = ERRORS_BY_CODE.fetch(err[:code], Error)
    klass.new(err[:message].to_s, code: err[:code], number: number, field: err[:field], details: err[:details])
  end
end
