# frozen_string_literal: true

require_relative "test_helper"

# Notifications of a callback channel handed to a Ruby block; templates checked at save time.
class TestNotifications < Minitest::Test
  include TmpDirFixture

  def test_callback_channel_and_save_time_checks
    Orderbase::Engine.open(File.join(@dir, "r"), background: false) do |engine|
      engine.tenants.create("shop", settings: { name: "Café", default_currency: "GBP" })
      engine.tenant("shop") do |shop|
        channel = shop.notification_channels.create("host", "callback")
        error = assert_raises(Orderbase::InvalidArgument) do
          shop.notification_templates.create("bad", channel[:id], text: "{{order.totl}}", recipients: [{ type: "customer" }])
        end
        assert_equal "text", error.field
        assert_match(/did you mean order.total\?/, error.message)
        template = shop.notification_templates.create("new", channel[:id], event_types: ["order.created"],
                                                      text: "{{shop.name}} {{order.number}} {{order.total_formatted}}",
                                                      recipients: [{ type: "staff", address: "#sales" }])
        got = []
        mode = :raise
        engine.on_notification do |tenant, n|
          raise "chat is down" if mode == :raise
          got << [tenant, n[:text], n[:recipient][:address]]
        end
        order = shop.orders.create(line_items: [LINE])
        _out, err = capture_io { assert_equal 1, engine.pump }
        assert_match(/chat is down/, err)
        assert_equal ["chat is down"], engine.notification_errors.map(&:message)
        mode = nil
        sent = shop.notifications.send_template(template[:id], order[:id])
        assert_equal 1, sent.size
        assert_equal 1, engine.pump
        assert_equal [["shop", "Café #1001 #{format("%.2f", LINE[:quantity] * LINE[:unit_price] / 100.0)}", "#sales"]], got
        statuses = shop.notifications.list.map { |n| n[:status] }.sort
        assert_equal %w[pending sent], statuses
        preview = shop.notification_templates.render(order[:id], id: template[:id])
        assert_equal true, preview[:condition]
        assert_equal 2, shop.notifications.list.count, "a preview writes nothing"
      end
    end
  end
end
