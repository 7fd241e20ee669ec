//! The process's memory allocator: mimalloc, asked for plain blocks whenever plain blocks
//! are aligned enough.
//!
//! Request handling allocates many small objects, whose cost mimalloc halves against glibc's.
//! The `mimalloc` crate passes every allocation to `mi_malloc_aligned`, whose version 3 takes
//! a slow path (over-allocating to align) for every block over 1 KB, whatever the alignment
//! asked: async-graphql's boxed field futures are such blocks, and that path was an eighth of
//! the instructions of a list of 20 names under callgrind. Every mimalloc block is a whole
//! number of words, word-aligned, so only stricter layouts need the aligned calls.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};

/// mimalloc as the global allocator (`#[global_allocator]` in `main.rs`).
pub struct Mimalloc;

/// Whether a plain block is aligned enough for `align`: every block is word-aligned.
fn plain(align: usize) -> bool {
    align <= size_of::<usize>()
}

// SAFETY: every block comes from mimalloc and goes back to it; a plain block is returned only
// for layouts no stricter than a word, and `mi_free` and `mi_realloc` accept blocks from either
// family.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded to mimalloc with the layout's size (and alignment when needed).
        unsafe {
            if plain(layout.align()) {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            if plain(layout.align()) {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, hence from mimalloc.
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; the new block keeps its
        // alignment.
        unsafe {
            if plain(layout.align()) {
                mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}
