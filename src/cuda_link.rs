//! The Python extension loads beside a CPU-only torch as well as a CUDA one.
//!
//! When the build's torch has `libtorch_cuda.so`, tch links it: torch-sys's
//! `dummy_cuda_dependency` calls two of its functions so that the linker keeps the
//! library. An extension linked that way cannot load where torch has no CUDA library
//! (PyTorch's CPU-only wheels). Defining those two functions here resolves the references
//! inside the extension, so the linker (`--as-needed`) records no dependency on
//! libtorch_cuda. With a CUDA torch, the Python package loads libtorch_cuda globally
//! before the extension (`presslens/_torch.py`): its static initialisers register CUDA
//! with libtorch as before, and these calls resolve to its definitions.

use std::ffi::c_void;

/// `at::cuda::getCurrentCUDABlasHandle()`; only reached without libtorch_cuda loaded,
/// where tch's CUDA probe ignores the result.
#[export_name = "_ZN2at4cuda24getCurrentCUDABlasHandleEv"]
pub extern "C" fn cuda_blas_handle_without_cuda() -> *mut c_void {
    std::ptr::null_mut()
}

/// `at::cuda::warp_size()`, likewise.
#[export_name = "_ZN2at4cuda9warp_sizeEv"]
pub extern "C" fn cuda_warp_size_without_cuda() -> i32 {
    0
}
