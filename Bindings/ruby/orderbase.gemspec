Gem::Specification.new do |s|
  s.name = "orderbase"
  s.version = "0.1.0"
  s.summary = "Ruby bindings for Orderbase, an embeddable order-management engine (liborderbase.so)"
  s.description = "Engine, tenants and every method of the Orderbase catalogue over the C ABI of liborderbase.so, through the ffi gem."
  s.authors = ["Orderbase"]
  s.license = "Apache-2.0"
  s.files = Dir["lib/**/*.rb"] + Dir["lib/orderbase/native/liborderbase.so*"] + ["README.md"]
  s.require_paths = ["lib"]
  s.required_ruby_version = ">= 3.0"
  s.add_dependency "ffi", "~> 1.15"
end
