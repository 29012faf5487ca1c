# frozen_string_literal: true

require "ffi"

module Orderbase
  # Raised when liborderbase.so cannot be loaded; the message lists every place tried.
  class LibraryNotFound < LoadError; end

  # The C functions of include/orderbase.h. Every call that can wait (database
  # work, fsync) is attached with `blocking: true`, so it releases the GVL.
  module Native
    extend FFI::Library

    # Search order: ORDERBASE_LIBRARY; a copy shipped in the gem
    # (lib/orderbase/native/liborderbase.so); build/lib of an Orderbase checkout
    # this file lives in; the system loader path.
    def self.locate
      explicit = ENV["ORDERBASE_LIBRARY"]
      if explicit && !explicit.empty?
        return explicit if File.exist?(explicit)
        raise LibraryNotFound, "ORDERBASE_LIBRARY=#{explicit} could not be loaded: no such file"
      end
      tried = ["ORDERBASE_LIBRARY (not set)"]
      candidates = [File.join(__dir__, "native", "liborderbase.so")]
      dir = File.expand_path(__dir__)
      6.times do
        candidates << File.join(dir, "build", "lib", "liborderbase.so")
        dir = File.dirname(dir)
      end
      candidates.each do |path|
        return path if File.exist?(path)
        tried << "#{path} (missing)"
      end
      ["liborderbase.so.0", "liborderbase.so"].each do |name|
        begin
          FFI::DynamicLibrary.open(name, FFI::DynamicLibrary::RTLD_LAZY)
          return name
        rescue LoadError
          tried << "#{name} on the system loader path (not found)"
        end
      end
      raise LibraryNotFound, "liborderbase.so not found. Build it with `make lib` in the Orderbase checkout, " \
                             "or set ORDERBASE_LIBRARY to its path. Looked in:\n  " + tried.join("\n  ")
    end

    LIBRARY_PATH = locate
    ffi_lib LIBRARY_PATH

    attach_function :orderbase_engine_open, [:pointer, :string, :string], :int, blocking: true
    attach_function :orderbase_engine_close, [:pointer], :void, blocking: true
    attach_function :orderbase_engine_call, [:pointer, :string, :string, :pointer], :int, blocking: true
    attach_function :orderbase_tenant_create, [:pointer, :string, :string], :int, blocking: true
    attach_function :orderbase_tenant_open, [:pointer, :pointer, :string], :int, blocking: true
    attach_function :orderbase_tenant_close, [:pointer], :void, blocking: true
    attach_function :orderbase_call, [:pointer, :string, :string, :pointer], :int, blocking: true
    attach_function :orderbase_free, [:pointer], :void
    attach_function :orderbase_error_last, [], :pointer
    attach_function :orderbase_strerror, [:int], :string
    attach_function :orderbase_version_string, [], :string
    attach_function :orderbase_version_number, [], :int
    # Attachments: files in and out of the tenant's file store (docs/attachments.md).
    attach_function :orderbase_upload_begin, [:pointer, :pointer, :string], :int, blocking: true
    attach_function :orderbase_upload_write, [:pointer, :pointer, :size_t], :int, blocking: true
    attach_function :orderbase_upload_finish, [:pointer, :pointer], :int, blocking: true
    attach_function :orderbase_upload_abort, [:pointer], :void, blocking: true
    attach_function :orderbase_attachment_read, [:pointer, :string, :uint64, :pointer, :size_t, :pointer], :int, blocking: true

    # Subscriptions: callbacks come from the engine's delivery thread (ffi runs
    # them in Ruby), or from inside orderbase_engine_pump.
    callback :event_callback, [:pointer, :size_t, :pointer], :int
    callback :user_data_free, [:pointer], :void
    attach_function :orderbase_subscribe, [:pointer, :pointer, :string, :string, :event_callback, :pointer, :user_data_free], :int,
                    blocking: true
    attach_function :orderbase_unsubscribe, [:pointer], :int, blocking: true
    # The callback channel of notifications (docs/notifications.md).
    callback :notification_callback, [:string, :pointer, :size_t, :pointer], :int
    attach_function :orderbase_engine_set_notification_handler, [:pointer, :notification_callback, :pointer, :user_data_free], :int,
                    blocking: true
    attach_function :orderbase_engine_pump, [:pointer, :int], :int, blocking: true
    # The payment handler (docs/payments.md): runs on the thread calling payments.*.
    callback :payment_callback, [:string, :pointer, :size_t, :pointer, :size_t, :pointer], :int
    attach_function :orderbase_engine_set_payment_handler, [:pointer, :payment_callback, :pointer, :user_data_free], :int,
                    blocking: true

    # orderbase_error: int code; const char *category, *message, *json.
    class ErrorStruct < FFI::Struct
      layout :code, :int, :category, :string, :message, :string, :json, :string
    end

    # Copies a library-owned string and frees it with orderbase_free.
    def self.take_string(ptr)
      return nil if ptr.null?
      ptr.read_string.force_encoding(Encoding::UTF_8)
    ensure
      orderbase_free(ptr) unless ptr.nil? || ptr.null?
    end
  end
end
