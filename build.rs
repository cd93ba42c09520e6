//! Link settings of the Python extension.
//!
//! The extension loads libtorch from the user's installed `torch` wheel, found relative to
//! itself: `site-packages/presslens/_presslens.abi3.so` → `site-packages/torch/lib`. No
//! absolute path of the build machine is recorded, and no copy of libtorch is shipped.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_PYTHON").is_some() {
        println!("cargo:rustc-link-arg-cdylib=-Wl,-rpath,$ORIGIN/../torch/lib");
    }
}
