# frozen_string_literal: true

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "minitest/autorun"
require "tmpdir"
require "stringio"
require "timeout"
require "orderbase"

LINE = { sku: "85123A", title: "White hanging heart t-light holder", quantity: 6, unit_price: 255 }.freeze

# A temporary directory per test, removed afterwards.
module TmpDirFixture
  def setup
    @dir = Dir.mktmpdir("orderbase-rb")
  end

  def teardown
    FileUtils.remove_entry(@dir)
  end
end

module TenantFixture
  def setup
    @dir = Dir.mktmpdir("orderbase-rb")
    @engine = Orderbase::Engine.open(File.join(@dir, "root"), durability: "relaxed")
    @engine.tenants.create("shop", settings: { default_currency: "GBP", order_number_prefix: "SO-" })
    @tenant = @engine.tenant("shop")
  end

  def teardown
    @tenant&.close
    @engine&.close
    FileUtils.remove_entry(@dir)
  end
end
