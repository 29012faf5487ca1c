# frozen_string_literal: true

require_relative "test_helper"

# The payments ledger through the binding: recorded transactions and the payment handler as a block.
class TestPayments < Minitest::Test
  include TenantFixture

  def test_recorded_transactions_and_handler
    order = @tenant.orders.create(line_items: [LINE])
    total = order[:total]
    auth = @tenant.transactions.create(order_id: order[:id], kind: "authorization", amount: total, gateway: "stripe", gateway_id: "pi_1")
    assert_equal total, auth[:capturable]
    error = assert_raises(Orderbase::InvalidState) { @tenant.payments.capture(order[:id]) }
    assert_equal "no_payment_handler", error.details[:reason]
    asked = []
    @engine.on_payment do |tenant, request|
      asked << [tenant, request[:action], request[:parent][:gateway_id]]
      raise "gateway down" if request[:action] == "void"
      request[:action] == "refund" ? { status: "failure", error_code: "limit" } : { gateway_id: "ch_1" }
    end
    captured = @tenant.payments.capture(order[:id], amount: 1000)
    assert_equal "success", captured[:transactions][0][:status]
    assert_equal "ch_1", captured[:transactions][0][:gateway_id]
    assert_equal "partially_paid", captured[:order][:financial_status]
    refused = @tenant.payments.refund(order[:id], amount: 100)[:transactions][0]
    assert_equal %w[failure limit], [refused[:status], refused[:error_code]]
    voided = @tenant.payments.void(order[:id])[:transactions][0]
    assert_equal "pending", voided[:status]
    assert_match(/gateway down/, voided[:message])
    assert_equal ["gateway down"], @engine.payment_errors.map(&:message)
    @tenant.transactions.update(voided[:id], status: "success")
    payments = @tenant.orders.get(order[:id])[:payments]
    assert_equal [1000, total - 1000], [payments[:captured], payments[:voided]]
    assert_equal [%w[shop capture pi_1], %w[shop refund ch_1], %w[shop void pi_1]], asked
    @engine.on_payment
    assert_raises(Orderbase::InvalidState) { @tenant.payments.refund(order[:id], amount: 1) }
    assert_equal true, @tenant.integrity.check[:ok]
  end

  def test_refunds_and_sales
    order = @tenant.orders.create(line_items: [LINE.merge(quantity: 3, unit_cost: 100)], discounts: [{ amount: 100 }],
                                  transactions: [{ kind: "sale", amount: 665 }])
    assert_equal ["paid", "54.89"], [order[:financial_status], order[:margin_percent]]
    line = order[:line_items][0][:id]
    quote = @tenant.refunds.calculate(order[:id], line_items: [{ line_item_id: line, quantity: 1 }])
    assert_equal [255, 33, 222], [quote[:subtotal], quote[:discount], quote[:total]]
    sale = @tenant.transactions.list(order_id: order[:id])[:data][0]
    made = @tenant.refunds.create(order_id: order[:id], line_items: [{ line_item_id: line, quantity: 1 }],
                                  transactions: [{ parent_id: sale[:id], amount: 222 }])
    assert_equal "success", made[:refund][:status]
    assert_equal %w[sale return], @tenant.sales.list(order_id: order[:id])[:data].map { |l| l[:kind] }
  end

  # docs/order-edits.md "Split and merge": a paid order split, then merged back.
  def test_split_and_merge
    order = @tenant.orders.create(customer: { id: "cus_9" }, line_items: [LINE.merge(quantity: 4)], transactions: [{ kind: "sale", amount: 1020 }])
    line = order[:line_items][0][:id]
    split = @tenant.orders.split(order[:id], [{ line_item_id: line, quantity: 1 }])
    assert_equal 1020, split[:order][:total] + split[:new_order][:total]
    assert_equal %w[split split], split[:transactions].map { |t| t[:gateway] }
    error = assert_raises(Orderbase::InvalidState) { @tenant.orders.split(order[:id], [{ line_item_id: line, quantity: 9 }]) }
    assert_equal "not_movable", error.details[:reason]
    merged = @tenant.orders.merge_orders(order[:id], [split[:new_order][:id]])
    assert_equal [1020, "cancelled"], [merged[:order][:total], merged[:merged][0][:status]]
    assert_equal true, @tenant.integrity.check[:ok]
  end

  # docs/order-edits.md: a paid order edited; the balance; the commit.
  def test_order_edit
    order = @tenant.orders.create(line_items: [LINE.merge(quantity: 2)], transactions: [{ kind: "sale", amount: 510 }])
    line = order[:line_items][0][:id]
    edit = @tenant.order_edits.begin(order_id: order[:id])
    @tenant.order_edits.stage(edit[:id], actions: [{ type: "set_quantity", line_item_id: line, quantity: 1 }])
    preview = @tenant.order_edits.preview(edit[:id])
    assert_equal [255, 255, -1], [preview[:total_after], preview[:refund_owed], preview[:stock][0][:delta]]
    done = @tenant.order_edits.commit(edit[:id])
    assert_equal ["committed", 255], [done[:edit][:status], done[:order][:total]]
    assert_equal true, @tenant.integrity.check[:ok]
  end

  # docs/returns.md: fulfilled units come back; receiving refunds nothing; a refund names the return.
  def test_returns
    order = @tenant.orders.create(line_items: [LINE.merge(quantity: 2)], fulfillment_status: "fulfilled",
                                  transactions: [{ kind: "sale", amount: 510 }])
    line = order[:line_items][0][:id]
    error = assert_raises(Orderbase::InvalidState) { @tenant.returns.create(order_id: order[:id], line_items: [{ line_item_id: line, quantity: 3 }]) }
    assert_equal ["exceeds_returnable_quantity", 2], [error.details[:reason], error.details[:returnable_quantity]]
    ret = @tenant.returns.create(order_id: order[:id], line_items: [{ line_item_id: line, quantity: 1, reason: "wrong_item" }])
    assert_equal ["approved", 255], [ret[:status], ret[:value]]
    got = @tenant.returns.receive(ret[:id], line_items: [{ line_item_id: line, quantity: 1, disposition: "not_restocked" }])
    assert_equal ["received", 0], [got[:status], got[:line_items][0][:refunded_quantity]]
    sale = @tenant.transactions.list(order_id: order[:id])[:data][0]
    made = @tenant.refunds.create(order_id: order[:id], return_id: ret[:id], transactions: [{ parent_id: sale[:id], amount: 255 }])
    assert_equal [ret[:id], "partially_refunded"], [made[:refund][:return_id], made[:order][:financial_status]]
    assert_equal "closed", @tenant.returns.close(ret[:id])[:status]
    assert_equal true, @tenant.integrity.check[:ok]
  end
end
