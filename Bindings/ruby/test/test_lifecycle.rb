# frozen_string_literal: true

require_relative "test_helper"

# Handles: block forms, idempotent close, use after close, garbage collection.
class TestLifecycle < Minitest::Test
  include TmpDirFixture

  def test_block_forms_close_and_use_after_close_raises
    engine = nil
    tenant = nil
    Orderbase::Engine.open(File.join(@dir, "r")) do |e|
      engine = e
      e.tenants.create("a")
      e.tenant("a") { |t| tenant = t; t.orders.create(line_items: [LINE]) }
      assert tenant.closed?
      assert_raises(Orderbase::Misuse) { tenant.orders.get("x") }
    end
    assert engine.closed?
    engine.close # idempotent
    assert_raises(Orderbase::Misuse) { engine.tenants.get("a") }
    assert_raises(Orderbase::Misuse) { engine.tenant("a") }
  end

  def test_engine_close_closes_its_tenants_in_the_library
    engine = Orderbase::Engine.open(File.join(@dir, "r"))
    engine.tenants.create("a")
    t = engine.tenant("a")
    engine.close
    assert_raises(Orderbase::Misuse) { t.orders.create(line_items: [LINE]) }
    t.close
    t.close
  end

  def test_garbage_collection_closes_forgotten_handles
    engine = Orderbase::Engine.open(File.join(@dir, "r"))
    engine.tenants.create("gone")
    held = Array.new(3) { engine.tenant("gone") }
    assert_raises(Orderbase::Busy) { engine.tenants.delete("gone") } # open handles keep it
    held = nil # forget them without closing
    deleted = false
    20.times do
      GC.start(full_mark: true, immediate_sweep: true)
      begin
        engine.tenants.delete("gone")
        deleted = true
        break
      rescue Orderbase::Busy
        sleep 0.01
      end
    end
    assert deleted, "garbage collection should close forgotten tenant handles (FFI::AutoPointer)"
    assert_nil held
    engine.close
  end

  def test_options_and_engine_level_methods
    assert_raises(Orderbase::InvalidArgument) { Orderbase::Engine.open(File.join(@dir, "x"), durability: "fast") }
    Orderbase::Engine.open(File.join(@dir, "x"), max_line_items: 2) do |e|
      e.tenants.create("a", settings: { name: "A" })
      e.tenants.create("b")
      assert_equal %w[a b], e.tenants.list(limit: 1).map { |t| t[:id] }
      assert_equal "A", e.tenants.get("a")[:settings][:name]
      assert_raises(Orderbase::AlreadyExists) { e.tenants.create("a") }
      assert_raises(Orderbase::InvalidArgument) { e.tenants.create("../etc") }
      e.tenant("a") { |t| assert_raises(Orderbase::LimitExceeded) { t.orders.create(line_items: [LINE] * 3) } }
    end
  end
end

# Threads share an engine; calls release the GVL (attach_function blocking: true).
class TestThreads < Minitest::Test
  include TenantFixture

  def test_threads_create_and_update_without_losing_writes
    ids = Queue.new
    8.times.map { Thread.new { 25.times { ids << @tenant.orders.create(line_items: [LINE])[:id] } } }.each(&:join)
    assert_equal 200, ids.size
    assert_equal 200, @tenant.orders.list(limit: 250).count

    counter = @tenant.orders.create(line_items: [LINE], metadata: { n: 0 })[:id]
    8.times.map do
      Thread.new do
        10.times do
          begin
            o = @tenant.orders.get(counter)
            @tenant.orders.update(counter, metadata: { n: o[:metadata][:n] + 1 }, expected_version: o[:version])
          rescue Orderbase::VersionConflict
            retry
          end
        end
      end
    end.each(&:join)
    assert_equal 80, @tenant.orders.get(counter)[:metadata][:n]
  end

  def test_every_call_that_can_wait_is_attached_blocking
    # FFI releases the GVL only around functions attached with `blocking: true`.
    source = File.read(File.expand_path("../lib/orderbase/native.rb", __dir__))
    %w[orderbase_engine_open orderbase_engine_close orderbase_engine_call orderbase_tenant_create
       orderbase_tenant_open orderbase_tenant_close orderbase_call].each do |name|
      line = source.lines.find { |l| l.include?("attach_function :#{name},") }
      refute_nil line, name
      assert_includes line, "blocking: true", name
    end
  end
end
