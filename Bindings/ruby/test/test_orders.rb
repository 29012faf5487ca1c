# frozen_string_literal: true

require_relative "test_helper"

class TestOrders < Minitest::Test
  include TenantFixture

  def test_create_computes_totals_with_symbol_keys
    o = @tenant.orders.create(line_items: [LINE.merge(discounts: [{ code: "SPRING", amount: 100 }],
                                                      tax_lines: [{ name: "VAT", rate: "0.20" }])],
                              shipping_lines: [{ title: "Standard", price: 495 }])
    assert_equal [1530, 100, 286, 2211], o.values_at(:subtotal, :total_discount, :total_tax, :total)
    assert_equal "SO-1001", o[:number]
    assert_equal o[:id], @tenant.orders.get(number: "SO-1001")[:id]
    assert_equal @tenant.orders.get(o[:id]), @tenant.call("orders.get", { "id" => o[:id] })
  end

  def test_lifecycle_audit_and_events
    o = @tenant.orders.create({ line_items: [LINE] }, actor: { type: "user", id: "u1" })
    @tenant.orders.transition(o[:id], "confirmed", reason: "paid")
    assert_equal 3, @tenant.orders.update(o[:id], note: "bell", expected_version: 2)[:version]
    assert_equal "cancelled", @tenant.orders.cancel(o[:id], reason: "customer")[:status]
    actions = @tenant.orders.audit(o[:id]).map { |a| a[:action] }
    assert_equal %w[order.created order.status_changed order.updated order.cancelled], actions
    assert_equal true, @tenant.audit.verify[:ok]
    assert_equal true, @tenant.integrity.check[:ok]
    assert_equal [1, 2, 3, 4], @tenant.events.list(limit: 1).map { |e| e[:sequence] }
  end

  def test_list_is_a_lazy_enumerator_across_pages
    ids = 7.times.map { @tenant.orders.create(line_items: [LINE])[:id] }
    assert_kind_of Enumerator, @tenant.orders.list
    assert_equal ids, @tenant.orders.list(limit: 2, sort: "created_asc").to_a.map { |o| o[:id] }
    assert_equal ids.first(3), @tenant.orders.list(limit: 2, sort: "created_asc").first(3).map { |o| o[:id] }
  end

  def test_errors_are_classes_per_code
    e = assert_raises(Orderbase::NotFound) { @tenant.orders.get("ord_missing") }
    assert_equal ["not_found", -2, "id"], [e.code, e.number, e.field]
    e = assert_raises(Orderbase::InvalidArgument) { @tenant.orders.create(line_items: [LINE.merge(quantity: 0)]) }
    assert_equal "line_items[0].quantity", e.field
    e = assert_raises(Orderbase::InvalidArgument) { @tenant.orders.create(line_items: [LINE], colour: "red") }
    assert_equal ["colour"], e.details[:unknown_fields]
    o = @tenant.orders.create(line_items: [LINE])
    e = assert_raises(Orderbase::InvalidTransition) { @tenant.orders.transition(o[:id], "completed") }
    assert_equal %w[confirmed on_hold cancelled], e.details[:allowed]
    assert_raises(Orderbase::VersionConflict) { @tenant.orders.update(o[:id], note: "x", expected_version: 9) }
    @tenant.orders.create(line_items: [LINE], idempotency_key: "k")
    assert_raises(Orderbase::IdempotencyMismatch) { @tenant.orders.create(line_items: [LINE.merge(quantity: 2)], idempotency_key: "k") }
    assert_raises(Orderbase::Error) { @tenant.call("orders.nope") }
    assert Orderbase::LimitExceeded < Orderbase::Error
  end

  def test_unicode_round_trips
    o = @tenant.orders.create(line_items: [LINE.merge(title: "Crème brûlée ☕ 日本")], note: "über 😀")
    got = @tenant.orders.get(o[:id])
    assert_equal "Crème brûlée ☕ 日本", got[:line_items][0][:title]
    assert_equal "über 😀", got[:note]
    assert_equal Encoding::UTF_8, got[:note].encoding
  end

  def test_library_version
    assert_equal "0.1.0", Orderbase.library_version
  end

  def test_configuration_changes_are_audited_with_secrets_redacted
    e = @tenant.webhooks.create("https://example.com/hooks", event_types: ["order.*"])
    @tenant.webhooks.update(e[:id], url: "https://attacker.example/steal", actor: { type: "user", id: "mallory" })
    @tenant.webhooks.rotate_secret(e[:id])
    trail = @tenant.audit.list(subject_type: "webhook_endpoint", subject_id: e[:id], limit: 1).to_a
    assert_equal %w[webhook_endpoint.created webhook_endpoint.updated webhook_endpoint.secret_rotated], trail.map { |a| a[:action] }
    url = trail[1][:changes].find { |c| c[:field] == "url" }
    assert_equal ["https://example.com/hooks", "https://attacker.example/steal"], [url[:before], url[:after]]
    assert_equal "mallory", trail[1][:actor][:id]
    assert_equal "[redacted]", trail[2][:changes].find { |c| c[:field] == "secrets" }[:after]
    refute_includes @tenant.audit.list.to_a.inspect + @tenant.events.list.to_a.inspect, e[:secret]
    webhooks = @tenant.consumers.list[:data].find { |c| c[:name] == "webhooks" }
    assert_equal true, webhooks[:active]
  end

  def test_po_number_through_the_wrappers
    o = @tenant.orders.create(line_items: [LINE], po_number: "PO-42")
    @tenant.orders.create(line_items: [LINE])
    assert_equal [o[:id]], @tenant.orders.list(po_number: "PO-42").map { |x| x[:id] }
    assert_equal "PO-43", @tenant.orders.update(o[:id], po_number: "PO-43")[:po_number]
  end

  def test_attachments_upload_strings_and_ios_and_download
    o = @tenant.orders.create(line_items: [LINE])
    png = "\x89PNG\r\n\x1a\n".b + ("\xAB".b * 1_500_000)
    a = @tenant.attachments.upload(order_id: o[:id], file_name: "photo of damage.png", data: png)
    assert_equal ["image/png", png.bytesize], a.values_at(:content_type, :size)
    assert_equal png, @tenant.attachments.download(a[:id])
    b = @tenant.attachments.upload(order_id: o[:id], file_name: "note.txt", data: StringIO.new("ça va\n"))
    out = StringIO.new("".b)
    assert_nil @tenant.attachments.download(b[:id], out: out)
    assert_equal "ça va\n".b, out.string
    assert_equal [b[:id], a[:id]], @tenant.attachments.list(order_id: o[:id])[:data].map { |x| x[:id] }
    assert_raises(Orderbase::InvalidArgument) { @tenant.attachments.upload(order_id: o[:id], file_name: "a/b", data: "x") }
    assert_raises(Orderbase::NotFound) { @tenant.attachments.download("att_nope") }
    assert_equal true, @tenant.integrity.check(verify_files: true)[:ok]
  end
end
