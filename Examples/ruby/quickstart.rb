# quickstart.rb — what Examples/c/quickstart.c does, from Ruby.
#
#   ruby -IBindings/ruby/lib Examples/ruby/quickstart.rb [DATA_DIR]
#
# The gem finds liborderbase.so through ORDERBASE_LIBRARY, a copy inside the
# gem, or build/lib of this checkout (run `make lib` first).
require "fileutils"
require "json"
require "orderbase"

root = ARGV[0] || "data/quickstart-ruby"
FileUtils.rm_rf(root)

Orderbase::Engine.open(root, durability: "sync") do |engine|
  puts "Orderbase #{Orderbase.library_version}, data in #{root}"
  engine.tenants.create("demo", settings: { name: "Demo Shop", default_currency: "GBP" })
  engine.tenant("demo") do |demo|
    # Totals are computed by the engine; money is in minor units (pence).
    order = demo.orders.create(
      customer: { id: "17850", email: "ann@example.com", name: "Ann Lee" },
      shipping_address: { name: "Ann Lee", line1: "1 High St", city: "London", postal_code: "N1 1AA", country: "GB" },
      line_items: [{ sku: "85123A", title: "White hanging heart t-light holder", quantity: 6, unit_price: 255,
                     discounts: [{ code: "SPRING", amount: 100 }], tax_lines: [{ name: "VAT", rate: "0.20" }] }],
      shipping_lines: [{ title: "Standard", price: 495 }],
      actor: { type: "user", id: "staff-1" }, request_id: "req-quickstart-1"
    )
    puts "created #{order[:number]} (#{order[:id]})"
    demo.orders.create(channel: "phone",
                       line_items: [{ sku: "22423", title: "Regency cakestand 3 tier", quantity: 1, unit_price: 1275 }])

    %w[confirmed processing completed].each do |status|
      demo.orders.transition(order[:id], status, reason: "quickstart")
      puts "#{order[:number]} -> #{status}"
    end

    # An illegal transition is refused with a stable error and changes nothing.
    begin
      demo.orders.transition(order[:id], "pending")
    rescue Orderbase::InvalidTransition => e
      puts "completed -> pending: #{e.code}: #{e.message}"
    end

    puts "\norders.list (newest first):"
    demo.orders.list.each do |o|
      puts format("  %-8s %-10s %-7s %d %s", o[:number], o[:status], o[:channel], o[:total], o[:currency])
    end

    puts "\norders.audit #{order[:number]}:"
    demo.orders.audit(order[:id]).each do |a|
      changed = a[:changes].map { |c| c[:field] }.join(" ")
      puts format("  #%d %s %-22s by %-6s changed: %s", a[:seq], a[:at], a[:action], a[:actor][:type], changed)
    end

    puts "\naudit.verify: #{JSON.generate(demo.audit.verify)}"
  end
end
