//! Platform-independent logic of the rvmini miniport.
#![no_std]
