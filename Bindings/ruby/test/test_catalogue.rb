# frozen_string_literal: true

require_relative "test_helper"

# Every method of the catalogue has an idiomatic wrapper (and no wrapper is stale).
class TestCatalogue < Minitest::Test
  include TenantFixture

  def test_every_catalogue_method_has_a_wrapper
    catalogue = @engine.catalogue.list.to_h { |m| [m[:name], m[:level]] }
    refute_empty catalogue
    missing = catalogue.keys - Orderbase::WRAPPERS.keys
    assert_empty missing, "catalogue methods without a Ruby wrapper: #{missing}"
    stale = Orderbase::WRAPPERS.keys - catalogue.keys
    assert_empty stale, "wrappers for methods the library does not have: #{stale}"
    Orderbase::WRAPPERS.each do |name, (level, receiver, meth)|
      assert_equal catalogue[name], level.to_s, name
      owner = level == :engine ? @engine : @tenant
      assert owner.public_send(receiver).respond_to?(meth), name
    end
  end

  def test_api_keys_create_list_revoke
    key = @engine.api_keys.create("shop", "write", name: "ci")
    assert key[:secret].start_with?("obk.shop.")
    assert_equal [key[:id]], @engine.api_keys.list("shop").map { |k| k[:id] }
    refute_nil @engine.api_keys.revoke("shop", key[:id])[:revoked_at]
    assert_empty @engine.api_keys.list("shop").to_a
    assert_equal 1, @engine.api_keys.list("shop", include_revoked: true).count
    assert_raises(Orderbase::NotFound) { @engine.api_keys.create("nosuch", "read") }
  end

  def test_expressions_validate_and_evaluate
    order = @tenant.orders.create(line_items: [{ title: "x", quantity: 2, unit_price: 300 }])
    v = @tenant.expressions.validate("order.total>500")
    assert v[:valid]
    assert_equal "order.total > 500", v[:text]
    assert_equal true, @tenant.expressions.evaluate("order.total > 500", order_id: order[:id])[:result]
    assert_equal 2, @tenant.expressions.evaluate({ "+" => [{ "var" => "a" }, 1] }, data: { a: 1 })[:result]
  end

  def test_holds_block_transitions
    order = @tenant.orders.create(line_items: [{ title: "x", quantity: 1, unit_price: 5 }])
    held = @tenant.orders.hold(order[:id], "awaiting_payment")
    err = assert_raises(Orderbase::OnHold) { @tenant.orders.transition(order[:id], "confirmed") }
    assert_equal "awaiting_payment", err.details[:holds][0][:reason]
    blocked = @tenant.orders.transitions(order[:id])[:transitions].to_h { |t| [t[:to], t] }
    assert_equal false, blocked["confirmed"][:allowed]
    @tenant.orders.release_hold(order[:id], held[:holds][0][:id])
    assert_equal "confirmed", @tenant.orders.transition(order[:id], "confirmed")[:status]
  end
end
