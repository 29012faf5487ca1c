# frozen_string_literal: true

# Orderbase for Ruby: an embeddable order-management engine (liborderbase.so).
#
#   require "orderbase"
#
#   Orderbase::Engine.open("data/shop") do |engine|
#     engine.tenants.create("acme", settings: { default_currency: "GBP" })
#     engine.tenant("acme") do |acme|
#       order = acme.orders.create(line_items: [{ sku: "85123A", title: "Heart holder", quantity: 6, unit_price: 255 }])
#       acme.orders.transition(order[:id], "confirmed")
#       acme.orders.list(status: "confirmed").each { |o| puts "#{o[:number]} #{o[:total]} #{o[:currency]}" }
#     end
#   end
#
# Hashes go in with symbol (or string) keys and come out with symbol keys.
# Errors are Orderbase::Error subclasses, one per code (Orderbase::NotFound, ...).
# Calls release the GVL; engines and tenants may be shared across threads.
require_relative "orderbase/native"
require_relative "orderbase/errors"
require_relative "orderbase/engine"

module Orderbase
  VERSION = "0.1.0"

  # The version of the loaded liborderbase.so.
  def self.library_version = Native.orderbase_version_string

  # Where liborderbase.so was loaded from.
  def self.library_path = Native::LIBRARY_PATH
end
