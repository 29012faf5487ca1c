# frozen_string_literal: true

require_relative "test_helper"

# Host subscriptions: events to a block, at least once, in order, from a durable cursor.
class TestSubscriptions < Minitest::Test
  include TmpDirFixture

  def test_pumped_delivery_retries_and_resume
    Orderbase::Engine.open(File.join(@dir, "r"), background: false) do |engine|
      engine.tenants.create("shop")
      engine.tenant("shop") do |shop|
        seen = []
        mode = nil
        handler = proc do |event|
          raise "mail server down" if mode == :raise
          next false if mode == :refuse
          seen << [event[:sequence], event[:type]]
        end
        sub = shop.subscribe("mailer", event_types: ["order.created"], &handler)
        first = shop.orders.create(line_items: [LINE])
        shop.orders.transition(first[:id], "confirmed")
        shop.orders.create(line_items: [LINE])
        assert_equal 2, engine.pump
        assert_equal [[1, "order.created"], [3, "order.created"]], seen

        mode = :raise
        shop.orders.create(line_items: [LINE])
        _out, err = capture_io { assert_equal 0, engine.pump }
        assert_match(/mail server down/, err)
        assert_equal ["mail server down"], sub.errors.map(&:message)
        mode = nil
        assert_equal 0, engine.pump, "not again before its retry time"
        sleep 1.1
        assert_equal 1, engine.pump
        assert_equal [4, "order.created"], seen.last

        sub.close
        shop.orders.create(line_items: [LINE])
        again = shop.subscribe("mailer", event_types: ["order.created"], &handler)
        assert_equal 1, engine.pump
        assert_equal [5, "order.created"], seen.last
        again.close
        assert_raises(Orderbase::InvalidArgument) { shop.subscribe("Bad Name") { |_| nil } }
        assert_raises(ArgumentError) { shop.subscribe("no-block") }
      end
    end
  end

  def test_background_thread_delivers
    Orderbase::Engine.open(File.join(@dir, "r")) do |engine|
      engine.tenants.create("shop")
      engine.tenant("shop") do |shop|
        queue = Queue.new
        sub = shop.subscribe("feed") { |event| queue << event[:type] }
        shop.orders.create(line_items: [LINE])
        assert_equal "order.created", Timeout.timeout(10) { queue.pop }
        assert_raises(Orderbase::Misuse) { engine.pump }
        sub.close
      end
    end
  end
end
