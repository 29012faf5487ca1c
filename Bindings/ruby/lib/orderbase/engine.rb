# frozen_string_literal: true

require "json"

module Orderbase
  # Shared plumbing: JSON in, JSON out, errors raised.
  module Calls
    private

    def encode(request)
      request.nil? ? nil : JSON.generate(request)
    end

    def finish(rc, out)
      raw = Native.take_string(out.read_pointer)
      if rc.zero?
        return raw ? JSON.parse(raw, symbolize_names: true) : {}
      end
      if raw
        raise Orderbase.error_from(JSON.parse(raw, symbolize_names: true), rc)
      end
      last = Native::ErrorStruct.new(Native.orderbase_error_last)
      raise Orderbase.error_from({ error: { code: last[:category], message: last[:message] } }, rc)
    end

    def check(rc)
      return if rc.zero?
      last = Native::ErrorStruct.new(Native.orderbase_error_last)
      raise Orderbase.error_from(JSON.parse(last[:json], symbolize_names: true), rc)
    end

    def merge(request, fields)
      out = {}
      (request || {}).each { |k, v| out[k.to_sym] = v }
      fields.each { |k, v| out[k.to_sym] = v unless v.nil? }
      out
    end

    # An Enumerator over every item of a cursor-paginated list, fetched lazily.
    def pages(method, request, cursor_field, &cursor)
      Enumerator.new do |y|
        req = request.dup
        loop do
          page = yield_call(method, req)
          data = page[:data] || []
          data.each { |item| y << item }
          break if !page[:has_more] || data.empty?
          req[cursor_field] = cursor.call(page, data)
        end
      end
    end
  end

  # A handle closed exactly once (FFI::AutoPointer#free, or GC) that refuses use after close.
  module Handle
    # Closes the handle; idempotent.
    def close
      h = @lock.synchronize { h, @handle = @handle, nil; h }
      h&.free
      nil
    end

    def closed?
      @handle.nil?
    end

    private

    def adopt(pointer, release)
      @lock = Mutex.new
      @handle = FFI::AutoPointer.new(pointer, release) # GC closes it once if the program never does
    end
  end

  # An Orderbase engine on a directory. Safe to share across threads.
  #
  #   Orderbase::Engine.open("data/shop", durability: "sync") do |engine|
  #     engine.tenants.create("acme", settings: { default_currency: "GBP" })
  #     engine.tenant("acme") do |acme|
  #       acme.orders.create(line_items: [{ title: "Mug", quantity: 1, unit_price: 500 }])
  #     end
  #   end
  # A group of methods with no hand-written class: every method derived.
  module DerivedGroups
    def method_missing(name, *args, **fields, &block)
      return super unless args.empty? && fields.empty? && respond_to_missing?(name)
      API.new(self, name.to_s)
    end

    def respond_to_missing?(name, include_private = false)
      return super if name.to_s.start_with?("_") || !defined?(@handle)
      engine = is_a?(Engine) ? self : @engine
      return super unless engine
      Orderbase.group?(engine, is_a?(Engine) ? "engine" : "tenant", name.to_s) || super
    end
  end

  class Engine
    include Calls
    include Handle
    include DerivedGroups
    attr_reader :root, :tenants, :catalogue, :api_keys

    # Opens an engine. With a block, yields it and closes it afterwards.
    def self.open(root, **options)
      engine = new(root, **options)
      return engine unless block_given?
      begin
        yield engine
      ensure
        engine.close
      end
    end

    def initialize(root, **options)
      out = FFI::MemoryPointer.new(:pointer)
      check(Native.orderbase_engine_open(out, root.to_s, options.empty? ? nil : JSON.generate(options)))
      adopt(out.read_pointer, Native.method(:orderbase_engine_close))
      @root = root.to_s
      @tenants = TenantsAPI.new(self)
      @catalogue = CatalogueAPI.new(self)
      @api_keys = APIKeysAPI.new(self)
    end

    # Calls an engine-level method by name (tenants.*, api_keys.*, methods.list).
    def call(method, request = nil)
      out = FFI::MemoryPointer.new(:pointer)
      finish(Native.orderbase_engine_call(handle, method.to_s, encode(request), out), out)
    end

    # Sends the notifications of "callback" channels (docs/notifications.md):
    # the block gets the tenant id and the rendered notification on the
    # delivery thread (or in pump). Returning false means "try again later"
    # (the retry schedule applies); anything else means sent. An exception
    # counts as false, is kept in +notification_errors+ and printed with +warn+.
    # Without a block, removes the handler.
    def on_notification(&block)
      @notification_errors ||= []
      unless block
        check(Native.orderbase_engine_set_notification_handler(handle, nil, nil, nil))
        @notification_callback = nil
        return
      end
      # Kept in an instance variable: the library calls it until replaced or closed.
      @notification_callback = proc do |tenant, ptr, len, _user_data|
        begin
          block.call(tenant, JSON.parse(ptr.read_bytes(len), symbolize_names: true)) == false ? 1 : 0
        rescue Exception => e # rubocop:disable Lint/RescueException -- reported, then "retry later"
          @notification_errors << e
          warn "orderbase: notification handler: #{e.class}: #{e.message}"
          1
        end
      end
      check(Native.orderbase_engine_set_notification_handler(handle, @notification_callback, nil, nil))
    end

    def notification_errors = (@notification_errors ||= [])

    PAYMENT_CODES = { "success" => 0, "failure" => 1, "pending" => 2 }.freeze

    # Moves money for payments.capture, payments.refund and payments.void
    # (docs/payments.md, "The payment handler"): the block gets the tenant id
    # and the request ({action:, tenant:, transaction:, parent:, order:}) on
    # the calling thread and answers what the gateway did: a Hash
    # {status: "success" | "failure" | "pending", gateway_id:, error_code:,
    # message:} (status defaults to "success"), or nil/true (success) or false
    # (failure). An exception leaves the transaction pending (the engine cannot
    # know whether money moved), with its text as the message; it is kept in
    # +payment_errors+. Without a block, removes the handler.
    def on_payment(&block)
      @payment_errors ||= []
      unless block
        check(Native.orderbase_engine_set_payment_handler(handle, nil, nil, nil))
        @payment_callback = nil
        return
      end
      @payment_callback = proc do |tenant, ptr, len, reply, cap, _user_data|
        begin
          result = block.call(tenant, JSON.parse(ptr.read_bytes(len), symbolize_names: true))
          result = {} if result.nil? || result == true
          result = { status: "failure" } if result == false
          result = result.transform_keys(&:to_sym)
          status = (result[:status] || "success").to_s
          raise ArgumentError, "payment handler answered status #{status.inspect}; use success, failure or pending" unless PAYMENT_CODES.key?(status)
          answer = result.slice(:gateway_id, :error_code, :message).compact
          code = PAYMENT_CODES[status]
        rescue Exception => e # rubocop:disable Lint/RescueException -- kept; the transaction stays pending
          @payment_errors << e
          answer = { message: "payment handler raised #{e.class}: #{e.message}"[0, 1000] }
          code = 2
        end
        data = JSON.generate(answer).byteslice(0, cap - 1)
        reply.put_bytes(0, data)
        reply.put_uint8(data.bytesize, 0)
        code
      end
      check(Native.orderbase_engine_set_payment_handler(handle, @payment_callback, nil, nil))
    end

    def payment_errors = (@payment_errors ||= [])

    # Delivers waiting events to subscriptions and makes due webhook and
    # notification attempts on this thread (engines opened with
    # background: false); returns how many were delivered or attempted.
    def pump(max_ms = 1000)
      rc = Native.orderbase_engine_pump(handle, max_ms.to_i)
      check(rc) if rc.negative?
      rc
    end

    # Opens a tenant. With a block, yields it and closes it afterwards.
    def tenant(tenant_id)
      t = Tenant.new(self, tenant_id)
      return t unless block_given?
      begin
        yield t
      ensure
        t.close
      end
    end

    # @api private
    def handle
      @handle or raise Misuse.new("engine is closed")
    end
  end

  # One tenant of an engine: orders, events, audit. Safe to share across threads.
  class Tenant
    include Calls
    include Handle
    include DerivedGroups
    attr_reader :engine, :id, :orders, :events, :audit, :integrity, :expressions, :workflows, :approvals, :webhooks, :deliveries,
                :notification_channels, :notification_templates, :notifications, :attachments

    def initialize(engine, tenant_id)
      out = FFI::MemoryPointer.new(:pointer)
      check(Native.orderbase_tenant_open(out, engine.handle, tenant_id.to_s))
      adopt(out.read_pointer, Native.method(:orderbase_tenant_close))
      @engine = engine
      @id = tenant_id.to_s
      @orders = OrdersAPI.new(self)
      @events = EventsAPI.new(self)
      @audit = AuditAPI.new(self)
      @integrity = IntegrityAPI.new(self)
      @expressions = ExpressionsAPI.new(self)
      @workflows = WorkflowsAPI.new(self)
      @approvals = ApprovalsAPI.new(self)
      @webhooks = WebhooksAPI.new(self)
      @deliveries = DeliveriesAPI.new(self)
      @notification_channels = NotificationChannelsAPI.new(self)
      @notification_templates = NotificationTemplatesAPI.new(self)
      @notifications = NotificationsAPI.new(self)
      @attachments = AttachmentsAPI.new(self)
    end

    # Calls a tenant method by name: call("orders.create", { line_items: [...] }).
    def call(method, request = nil)
      out = FFI::MemoryPointer.new(:pointer)
      finish(Native.orderbase_call(handle, method.to_s, encode(request), out), out)
    end

    # Delivers this tenant's events to the block at least once, in order, from
    # the durable cursor +name+ (see Subscription).
    def subscribe(name, event_types: nil, &block)
      Subscription.new(self, name, event_types: event_types, &block)
    end

    # @api private
    def handle
      @handle or raise Misuse.new("tenant #{@id} is closed")
    end
  end

  # A tenant's events delivered to a block, at least once and in order.
  #
  #   sub = tenant.subscribe("mailer", event_types: ["order.*"]) do |event|
  #     puts "#{event[:sequence]} #{event[:type]}"   # return false to be asked again later
  #   end
  #   sub.close                                      # or engine.close
  #
  # The cursor +name+ lives in the tenant's database: subscribing again with the
  # same name resumes after the last event the block accepted. The block runs on
  # the engine's delivery thread (or inside Engine#pump for engines opened with
  # background: false). Returning false asks for the event again later (1 s,
  # 2 s, 4 s … at most 60 s); anything else accepts it. An exception counts as
  # false and is reported, not swallowed: it is kept in +errors+ and printed
  # with +warn+.
  class Subscription
    include Calls
    include Handle
    attr_reader :name, :errors

    def initialize(tenant, name, event_types: nil, &block)
      raise ArgumentError, "subscribe needs a block" unless block
      @name = name.to_s
      @errors = []
      # Kept in instance variables: the library calls them until unsubscribed.
      @callback = proc do |ptr, len, _user_data|
        begin
          block.call(JSON.parse(ptr.read_bytes(len), symbolize_names: true)) == false ? 1 : 0
        rescue Exception => e # rubocop:disable Lint/RescueException -- reported, then "retry later"
          @errors << e
          warn "orderbase: subscription #{@name}: #{e.class}: #{e.message}"
          1
        end
      end
      @free = proc { |_user_data| }
      out = FFI::MemoryPointer.new(:pointer)
      types = event_types.nil? ? nil : JSON.generate(event_types)
      check(Native.orderbase_subscribe(out, tenant.handle, @name, types, @callback, nil, @free))
      adopt(out.read_pointer, Native.method(:orderbase_unsubscribe))
    end
  end

  # ---- Wrappers: idiomatic where written, derived from the catalogue otherwise ----
  # test/test_catalogue.rb checks every method of methods.list is reachable.

  # The library's methods by name (methods.list), read once per engine.
  def self.catalogue_of(engine)
    engine.instance_variable_get(:@methods_by_name) ||
      engine.instance_variable_set(:@methods_by_name, engine.call("methods.list")[:data].to_h { |m| [m[:name], m] })
  end

  # A wrapper for catalogue method +name+, derived from the catalogue: the
  # path parameters of its first REST route are positional (orders.get(id)),
  # everything else a keyword (nil ones left out). +owner+ is the Engine
  # (engine methods) or a Tenant. Every method without a hand-written wrapper
  # (WRAPPERS) is reached this way, so a method new in the library needs no
  # binding code: tenant.<group>.<verb>(...).
  def self.derive(owner, name)
    engine = owner.is_a?(Engine) ? owner : owner.engine
    level = owner.is_a?(Engine) ? "engine" : "tenant"
    method = catalogue_of(engine)[name.to_s]
    raise NoMethodError, "the library has no #{level} method #{name}" unless method && method[:level] == level
    params = method[:path].split("/").select { |seg| seg.start_with?("{") && seg.end_with?("}") }.map { |seg| seg[1..-2].to_sym }
    lambda do |*args, **fields|
      raise ArgumentError, "#{name} takes at most #{params.size} positional argument(s) (#{params.join(', ')})" if args.size > params.size
      request = params.zip(args).to_h
      fields.each { |k, v| request[k.to_sym] = v unless v.nil? }
      owner.call(name, request)
    end
  end

  # Whether the catalogue has a +level+ method in group +group+.
  def self.group?(engine, level, group)
    catalogue_of(engine).any? { |n, m| m[:level] == level && n.start_with?("#{group}.") }
  end

  # A group of methods (orders, webhooks, …): hand-written wrappers, and for
  # any other method of the group in the catalogue, a derived one.
  class API
    include Calls

    # The catalogue group of each hand-written class (by default its name: OrdersAPI -> orders).
    GROUPS = { "APIKeysAPI" => "api_keys", "CatalogueAPI" => "methods" }.freeze

    def initialize(owner, group = nil)
      @owner = owner
      name = self.class.name.split("::").last
      @group = group || GROUPS[name] || name.delete_suffix("API").gsub(/([a-z])([A-Z])/, '\\1_\\2').downcase
    end

    def method_missing(verb, *args, **fields, &block)
      return super if verb.to_s.start_with?("_") || !respond_to_missing?(verb)
      Orderbase.derive(@owner, "#{@group}.#{verb}").call(*args, **fields)
    end

    def respond_to_missing?(verb, include_private = false)
      engine = @owner.is_a?(Engine) ? @owner : @owner.engine
      level = @owner.is_a?(Engine) ? "engine" : "tenant"
      Orderbase.catalogue_of(engine)[["#{@group}", verb].join(".")]&.dig(:level) == level || super
    end

    private

    def yield_call(method, request)
      @owner.call(method, request)
    end
  end

  class TenantsAPI < API
    def create(id, settings: nil, **fields) = yield_call("tenants.create", merge({ id: id, settings: settings }, fields))
    def list(**fields) = pages("tenants.list", merge(nil, fields), :starting_after) { |_p, d| d.last[:id] }
    def get(id, **fields) = yield_call("tenants.get", merge({ id: id }, fields))
    def delete(id, **fields) = yield_call("tenants.delete", merge({ id: id }, fields))
  end

  # API keys for the REST server (`orderbase serve`); tenant nil means operator keys.
  class APIKeysAPI < API
    # api_keys.create: the answer's :secret is shown only this once.
    def create(tenant, scope, **fields) = yield_call("api_keys.create", merge({ tenant: tenant, scope: scope }, fields))
    def list(tenant, **fields) = pages("api_keys.list", merge({ tenant: tenant }, fields), :starting_after) { |_p, d| d.last[:id] }
    def revoke(tenant, id, **fields) = yield_call("api_keys.revoke", merge({ tenant: tenant, id: id }, fields))
  end

  class CatalogueAPI < API
    # methods.list: the catalogue.
    def list = yield_call("methods.list", nil)[:data]
  end

  class OrdersAPI < API
    def create(request = nil, **fields) = yield_call("orders.create", merge(request, fields))
    def get(id = nil, number: nil, **fields) = yield_call("orders.get", merge({ id: id, number: number }, fields))

    # orders.list as a lazy Enumerator following cursors: list(status: "pending").
    def list(**filters) = pages("orders.list", merge(nil, filters), :starting_after) { |_p, d| d.last[:id] }
    def update(id, request = nil, **fields) = yield_call("orders.update", merge(merge(request, { id: id }), fields))
    def transition(id, to, **fields) = yield_call("orders.transition", merge({ id: id, to: to }, fields))
    def cancel(id, **fields) = yield_call("orders.cancel", merge({ id: id }, fields))
    def transitions(id, **fields) = yield_call("orders.transitions", merge({ id: id }, fields))
    def hold(id, reason, **fields) = yield_call("orders.hold", merge({ id: id, reason: reason }, fields))
    def release_hold(id, hold_id, **fields) = yield_call("orders.release_hold", merge({ id: id, hold_id: hold_id }, fields))
    # orders.split / orders.merge (docs/order-edits.md): split(id, [{ line_item_id:, quantity: }]), merge(id, [other_id]).
    def split(id, line_items, **fields) = yield_call("orders.split", merge({ id: id, line_items: line_items }, fields))
    def merge_orders(id, order_ids, **fields) = yield_call("orders.merge", merge({ id: id, order_ids: order_ids }, fields))
    def audit(id, **fields) = pages("orders.audit", merge({ id: id }, fields), :starting_after) { |_p, d| d.last[:seq] }
  end

  class EventsAPI < API
    def list(**fields) = pages("events.list", merge(nil, fields), :after_sequence) { |p, _d| p[:last_sequence] }
  end

  # Expressions (text form or JSON-Logic): docs/expressions.md.
  class ExpressionsAPI < API
    def validate(expression, **fields) = yield_call("expressions.validate", merge({ expression: expression }, fields))
    def evaluate(expression, **fields) = yield_call("expressions.evaluate", merge({ expression: expression }, fields))
  end

  # Custom status workflows as data (docs/workflows.md): definitions are hashes
  # with key, name, states, transitions and applies_to.
  class WorkflowsAPI < API
    def create(definition = nil, **fields) = yield_call("workflows.create", merge(definition, fields))
    def get(key, **fields) = yield_call("workflows.get", merge({ key: key }, fields))
    def list(**fields) = yield_call("workflows.list", merge(nil, fields))[:data]
    # workflows.update: the whole definition again, as a new version.
    def update(definition = nil, **fields) = yield_call("workflows.update", merge(definition, fields))
    def archive(key, **fields) = yield_call("workflows.archive", merge({ key: key }, fields))
    def validate(definition = nil, **fields) = yield_call("workflows.validate", merge(definition, fields))
    def migrate(key, **fields) = yield_call("workflows.migrate", merge({ key: key }, fields))
    def simulate(order_id, to, **fields) = yield_call("workflows.simulate", merge({ order_id: order_id, to: to }, fields))
  end

  # Approval requests; pass actor: { type: "user", id: ..., roles: [...] }.
  class ApprovalsAPI < API
    def list(**fields) = pages("approvals.list", merge(nil, fields), :starting_after) { |_p, d| d.last[:id] }
    def get(id, **fields) = yield_call("approvals.get", merge({ id: id }, fields))
    def approve(id, **fields) = yield_call("approvals.approve", merge({ id: id }, fields))
    def reject(id, **fields) = yield_call("approvals.reject", merge({ id: id }, fields))
    def cancel(id, **fields) = yield_call("approvals.cancel", merge({ id: id }, fields))
  end

  # Webhook endpoints (docs/webhooks.md); create and rotate_secret answer the secret, once.
  class WebhooksAPI < API
    def create(url, **fields) = yield_call("webhooks.create", merge({ url: url }, fields))
    def get(id, **fields) = yield_call("webhooks.get", merge({ id: id }, fields))
    def list(**fields) = yield_call("webhooks.list", merge(nil, fields))[:data]
    def update(id, **fields) = yield_call("webhooks.update", merge({ id: id }, fields))
    def delete(id, **fields) = yield_call("webhooks.delete", merge({ id: id }, fields))
    def rotate_secret(id, **fields) = yield_call("webhooks.rotate_secret", merge({ id: id }, fields))
    def test(id, **fields) = yield_call("webhooks.test", merge({ id: id }, fields))
    def replay(id, from_sequence, **fields) = yield_call("webhooks.replay", merge({ id: id, from_sequence: from_sequence }, fields))
  end

  class DeliveriesAPI < API
    def list(**fields) = pages("deliveries.list", merge(nil, fields), :starting_after) { |_p, d| d.last[:id] }
    def get(id, **fields) = yield_call("deliveries.get", merge({ id: id }, fields))
    def retry(id, **fields) = yield_call("deliveries.retry", merge({ id: id }, fields))
  end

  # Notification channels (docs/notifications.md): email (SMTP), sms (HTTP gateway), callback.
  class NotificationChannelsAPI < API
    def create(name, type, **fields) = yield_call("notification_channels.create", merge({ name: name, type: type }, fields))
    def get(id, **fields) = yield_call("notification_channels.get", merge({ id: id }, fields))
    def list(**fields) = yield_call("notification_channels.list", merge(nil, fields))[:data]
    def update(id, **fields) = yield_call("notification_channels.update", merge({ id: id }, fields))
    def delete(id, **fields) = yield_call("notification_channels.delete", merge({ id: id }, fields))
  end

  # Notification templates: Mustache parts, recipients, a condition; render previews.
  class NotificationTemplatesAPI < API
    def create(name, channel_id, **fields) = yield_call("notification_templates.create", merge({ name: name, channel_id: channel_id }, fields))
    def get(id, **fields) = yield_call("notification_templates.get", merge({ id: id }, fields))
    def list(**fields) = yield_call("notification_templates.list", merge(nil, fields))[:data]
    def update(id, **fields) = yield_call("notification_templates.update", merge({ id: id }, fields))
    def delete(id, **fields) = yield_call("notification_templates.delete", merge({ id: id }, fields))
    def render(order_id, **fields) = yield_call("notification_templates.render", merge({ order_id: order_id }, fields))
  end

  # The notification log, manual sends and retries.
  class NotificationsAPI < API
    def list(**fields) = pages("notifications.list", merge(nil, fields), :starting_after) { |_p, d| d.last[:id] }
    def get(id, **fields) = yield_call("notifications.get", merge({ id: id }, fields))
    def send_template(template_id, order_id, **fields) = yield_call("notifications.send", merge({ template_id: template_id, order_id: order_id }, fields))[:data]
    def retry(id, **fields) = yield_call("notifications.retry", merge({ id: id }, fields))
  end

  class AuditAPI < API
    # audit.list, oldest first, following cursors: the whole chain; one record's
    # trail (subject_type: "order", "workflow", "webhook_endpoint", … with its subject_id);
    # every entry about an id (subject_id alone) or about one kind (subject_type alone).
    def list(subject_type: nil, subject_id: nil, **fields)
      subject = subject_type || subject_id ? { subject_type: subject_type, subject_id: subject_id } : nil
      pages("audit.list", merge(subject, fields), :starting_after) { |_p, d| d.last[:seq] }
    end
    def verify(**fields) = yield_call("audit.verify", merge(nil, fields))
  end

  # Files on orders and notes (docs/attachments.md): get, list, delete and collect are
  # derived from the catalogue; upload and download move the bytes.
  class AttachmentsAPI < API
    CHUNK = 1 << 20

    # Uploads +data+ (a String of bytes, or an IO read in 1 MiB chunks) as an attachment of
    # +order_id+, or of +owner_type+ / +owner_id+; answers the attachment.
    def upload(file_name:, data:, order_id: nil, **fields)
      out = FFI::MemoryPointer.new(:pointer)
      check(Native.orderbase_upload_begin(out, @owner.handle, encode(merge({ order_id: order_id, file_name: file_name }, fields))))
      up = out.read_pointer
      begin
        write = lambda do |chunk|
          buf = FFI::MemoryPointer.new(:uint8, chunk.bytesize)
          buf.put_bytes(0, chunk)
          check(Native.orderbase_upload_write(up, buf, chunk.bytesize))
        end
        if data.is_a?(String)
          bytes = data.b
          (0...bytes.bytesize).step(CHUNK) { |i| write.call(bytes.byteslice(i, CHUNK)) }
        else
          while (chunk = data.read(CHUNK))
            write.call(chunk.b)
          end
        end
      rescue Exception
        Native.orderbase_upload_abort(up)
        raise
      end
      res = FFI::MemoryPointer.new(:pointer)
      finish(Native.orderbase_upload_finish(up, res), res)
    end

    # The attachment's bytes (a binary String); with +out+ (an IO), written to it in 1 MiB chunks instead.
    def download(id, out: nil)
      buf = FFI::MemoryPointer.new(:uint8, CHUNK)
      got = FFI::MemoryPointer.new(:size_t)
      offset = 0
      parts = []
      loop do
        check(Native.orderbase_attachment_read(@owner.handle, id.to_s, offset, buf, CHUNK, got))
        n = got.read(:size_t)
        break if n.zero?
        chunk = buf.get_bytes(0, n)
        offset += n
        out ? out.write(chunk) : parts << chunk
      end
      out ? nil : parts.join.b
    end
  end

  class IntegrityAPI < API
    def check(**fields) = yield_call("integrity.check", merge(nil, fields))
  end

  # The wrapper of each catalogue method: [level, receiver, method].
  WRAPPERS = {
    "methods.list" => [:engine, :catalogue, :list],
    "tenants.create" => [:engine, :tenants, :create],
    "tenants.list" => [:engine, :tenants, :list],
    "tenants.get" => [:engine, :tenants, :get],
    "tenants.delete" => [:engine, :tenants, :delete],
    "api_keys.create" => [:engine, :api_keys, :create],
    "api_keys.list" => [:engine, :api_keys, :list],
    "api_keys.revoke" => [:engine, :api_keys, :revoke],
    "orders.create" => [:tenant, :orders, :create],
    "orders.get" => [:tenant, :orders, :get],
    "orders.list" => [:tenant, :orders, :list],
    "orders.update" => [:tenant, :orders, :update],
    "orders.transition" => [:tenant, :orders, :transition],
    "orders.cancel" => [:tenant, :orders, :cancel],
    "orders.transitions" => [:tenant, :orders, :transitions],
    "orders.hold" => [:tenant, :orders, :hold],
    "orders.release_hold" => [:tenant, :orders, :release_hold],
    "orders.audit" => [:tenant, :orders, :audit],
    "audit.list" => [:tenant, :audit, :list],
    "audit.verify" => [:tenant, :audit, :verify],
    "integrity.check" => [:tenant, :integrity, :check],
    "events.list" => [:tenant, :events, :list],
    "expressions.validate" => [:tenant, :expressions, :validate],
    "expressions.evaluate" => [:tenant, :expressions, :evaluate],
    "workflows.create" => [:tenant, :workflows, :create],
    "workflows.get" => [:tenant, :workflows, :get],
    "workflows.list" => [:tenant, :workflows, :list],
    "workflows.update" => [:tenant, :workflows, :update],
    "workflows.archive" => [:tenant, :workflows, :archive],
    "workflows.validate" => [:tenant, :workflows, :validate],
    "workflows.migrate" => [:tenant, :workflows, :migrate],
    "workflows.simulate" => [:tenant, :workflows, :simulate],
    "approvals.list" => [:tenant, :approvals, :list],
    "approvals.get" => [:tenant, :approvals, :get],
    "approvals.approve" => [:tenant, :approvals, :approve],
    "approvals.reject" => [:tenant, :approvals, :reject],
    "approvals.cancel" => [:tenant, :approvals, :cancel],
    "webhooks.create" => [:tenant, :webhooks, :create],
    "webhooks.get" => [:tenant, :webhooks, :get],
    "webhooks.list" => [:tenant, :webhooks, :list],
    "webhooks.update" => [:tenant, :webhooks, :update],
    "webhooks.delete" => [:tenant, :webhooks, :delete],
    "webhooks.rotate_secret" => [:tenant, :webhooks, :rotate_secret],
    "webhooks.test" => [:tenant, :webhooks, :test],
    "webhooks.replay" => [:tenant, :webhooks, :replay],
    "deliveries.list" => [:tenant, :deliveries, :list],
    "deliveries.get" => [:tenant, :deliveries, :get],
    "deliveries.retry" => [:tenant, :deliveries, :retry],
    "notification_channels.create" => [:tenant, :notification_channels, :create],
    "notification_channels.get" => [:tenant, :notification_channels, :get],
    "notification_channels.list" => [:tenant, :notification_channels, :list],
    "notification_channels.update" => [:tenant, :notification_channels, :update],
    "notification_channels.delete" => [:tenant, :notification_channels, :delete],
    "notification_templates.create" => [:tenant, :notification_templates, :create],
    "notification_templates.get" => [:tenant, :notification_templates, :get],
    "notification_templates.list" => [:tenant, :notification_templates, :list],
    "notification_templates.update" => [:tenant, :notification_templates, :update],
    "notification_templates.delete" => [:tenant, :notification_templates, :delete],
    "notification_templates.render" => [:tenant, :notification_templates, :render],
    "notifications.list" => [:tenant, :notifications, :list],
    "notifications.get" => [:tenant, :notifications, :get],
    "notifications.retry" => [:tenant, :notifications, :retry],
    "notifications.send" => [:tenant, :notifications, :send_template]
  }.freeze
end
