# frozen_string_literal: true

require_relative "test_helper"

# Every method of the catalogue has an idiomatic wrapper (and no wrapper is stale).
class TestCatalogue < Minitest::Test
  include TenantFixture

  def test_every_catalogue_method_has_a_wrapper
    catalogue = @engine.catalogue.list.to_h { |m| [m[:name], m[:level]] }
    refute_empty catalogue
    stale = Orderbase::WRAPPERS.keys - catalogue.keys
    assert_empty stale, "wrappers for methods the library does not have: #{stale}"
    Orderbase::WRAPPERS.each do |name, (level, receiver, meth)|
      assert_equal catalogue[name], level.to_s, name
      owner = level == :engine ? @engine : @tenant
      assert owner.public_send(receiver).respond_to?(meth), name
    end
    # Every other method is derived from the catalogue: none is missing.
    (catalogue.keys - Orderbase::WRAPPERS.keys).each do |name|
      group, verb = name.split(".", 2)
      owner = catalogue[name] == "engine" ? @engine : @tenant
      assert owner.respond_to?(group), name
      assert owner.public_send(group).respond_to?(verb), name
    end
  end

  def test_derived_wrappers_follow_the_catalogue
    refute Orderbase::WRAPPERS.key?("consumers.list")
    assert_equal "webhooks", @tenant.consumers.list[:data].first[:name]
    order = @tenant.orders.create(line_items: [LINE])
    assert_equal @tenant.orders.get(order[:id]), Orderbase.derive(@tenant, "orders.get").call(order[:id])
    assert_raises(ArgumentError) { Orderbase.derive(@tenant, "orders.get").call(order[:id], "extra") }
    assert_raises(NoMethodError) { @tenant.orders.no_such_verb }
    assert_raises(NoMethodError) { @tenant.no_such_group }
    assert_raises(NoMethodError) { Orderbase.derive(@tenant, "tenants.list") }
    assert_equal "shop", Orderbase.derive(@engine, "tenants.get").call("shop")[:id]
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

  # A tenant of an engine that runs background work (jobs) only when pumped.
  def with_pumped_tenant
    dir = Dir.mktmpdir("orderbase-rb-pumped")
    engine = Orderbase::Engine.open(File.join(dir, "root"), background: false)
    engine.tenants.create("shop")
    tenant = engine.tenant("shop")
    yield engine, tenant
  ensure
    tenant&.close
    engine&.close
    FileUtils.remove_entry(dir) if dir
  end

  def test_tags_and_a_rename_job
    with_pumped_tenant { |engine, tenant| check_tags_and_a_rename_job(engine, tenant) }
  end

  def check_tags_and_a_rename_job(engine, tenant)
    a = tenant.orders.create(line_items: [{ title: "x", quantity: 1, unit_price: 5 }], tags: [" VIP ", "vip", "猫"])
    assert_equal ["VIP", "猫"], a[:tags]
    b = tenant.orders.create(line_items: [{ title: "y", quantity: 1, unit_price: 5 }])
    assert_equal %w[vip gift], tenant.orders.add_tags(b[:id], tags: %w[vip gift])[:tags] # derived from the catalogue
    assert_equal ["vip"], tenant.orders.remove_tags(b[:id], tags: ["GIFT"])[:tags]
    assert_equal [b[:id], a[:id]], tenant.orders.list(tag: "Vip").map { |o| o[:id] }
    assert_equal [{ name: "VIP", count: 2 }, { name: "猫", count: 1 }], tenant.tags.list[:data]
    err = assert_raises(Orderbase::InvalidArgument) { tenant.orders.add_tags(b[:id], tags: ["a,b"]) }
    assert_equal "tags[0]", err.field
    job = tenant.tags.rename(from: "vip", to: "priority")
    assert_equal "queued", job[:status]
    engine.pump(1000)
    assert_equal "completed", tenant.jobs.get(job[:id])[:status]
    assert_equal ["priority", "猫"], tenant.orders.get(a[:id])[:tags]
  end

  def test_custom_fields
    with_pumped_tenant { |engine, tenant| check_custom_fields(engine, tenant) }
  end

  def check_custom_fields(engine, tenant)
    d = tenant.custom_fields.create(key: "gift_message", name: "Gift message", type: "text", validations: { max_length: 20 })
    assert_equal "order.gift_message", d[:id]
    o = tenant.orders.create(line_items: [{ title: "x", quantity: 1, unit_price: 5 }], custom_fields: { gift_message: "Happy" })
    assert_equal({ gift_message: "Happy" }, o[:custom_fields])
    err = assert_raises(Orderbase::InvalidArgument) { tenant.orders.update(o[:id], custom_fields: { gift_message: "x" * 21 }) }
    assert_equal "custom_fields.gift_message", err.field
    assert_equal [o[:id]], tenant.orders.list(custom_field: "gift_message=Happy").map { |x| x[:id] }
    tenant.custom_fields.update("order.gift_message", validations: { max_length: 3 })
    engine.pump(1000)
    assert_equal "some_invalid", tenant.custom_fields.get("order.gift_message")[:validation_status]
  end

  def test_archive_leaves_default_lists
    kept = @tenant.orders.create(line_items: [{ title: "x", quantity: 1, unit_price: 5 }])
    old = @tenant.orders.create(line_items: [{ title: "y", quantity: 1, unit_price: 5 }])
    archived = @tenant.orders.archive(old[:id], expected_version: 1) # derived from the catalogue
    refute_nil archived[:archived_at]
    assert_equal [kept[:id]], @tenant.orders.list.map { |o| o[:id] }
    assert_equal [old[:id], kept[:id]], @tenant.orders.list(include_archived: true).map { |o| o[:id] }
    assert_nil @tenant.orders.unarchive(old[:id])[:archived_at]
    assert_equal 2, @tenant.orders.list.count
  end

  def test_workflows_guards_and_approvals
    wf = {
      key: "big_orders", name: "Big orders",
      states: [{ key: "pending", initial: true }, { key: "processing" },
               { key: "completed", category: "done", final: true }, { key: "cancelled", category: "cancelled", final: true }],
      transitions: [
        { name: "process", from: "pending", to: "processing",
          approval: { tiers: [{ approvers: 1, roles: ["manager"], when: "order.total > 500000" }] } },
        { name: "complete", from: "processing", to: "completed", guard: 'order.financial_status == "paid"' },
        { name: "cancel", from: "*", to: "cancelled" }
      ]
    }
    assert_equal true, @tenant.workflows.validate(wf)[:valid]
    assert_equal 1, @tenant.workflows.create(wf)[:version]
    order = @tenant.orders.create(workflow: "big_orders", line_items: [{ title: "Press", quantity: 1, unit_price: 600_000 }])
    waiting = @tenant.orders.transition(order[:id], "processing", actor: { type: "user", id: "carl" })
    approval_id = waiting[:pending_approval][:id]
    assert_equal [approval_id], @tenant.approvals.list(status: "pending").map { |a| a[:id] }
    err = assert_raises(Orderbase::NotPermitted) { @tenant.approvals.approve(approval_id, actor: { type: "user", id: "ivy" }) }
    assert_equal ["manager"], err.details[:roles]
    assert_equal "approved", @tenant.approvals.approve(approval_id, actor: { type: "user", id: "maria", roles: ["manager"] })[:status]
    assert_equal "processing", @tenant.orders.get(order[:id])[:status]
    err = assert_raises(Orderbase::GuardFailed) { @tenant.orders.transition(order[:id], "completed") }
    assert_equal "pending", err.details[:values][:"order.financial_status"]
    assert_equal %w[big_orders default], @tenant.workflows.list.map { |w| w[:key] }
  end
end
