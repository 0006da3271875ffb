//! Timer objects and I/O work items (`ndis.h`).

use core::ffi::c_void;

use crate::basic::NDIS_HANDLE;
use crate::object::NDIS_OBJECT_HEADER;
use crate::{sizeof_through_field, zeroed_default};

/// `NDIS_TIMER_FUNCTION`: the timer callback (`SynchronizeFunction` of `NdisAllocateTimerObject`).
pub type NDIS_TIMER_FUNCTION = unsafe extern "system" fn(
    SystemSpecific1: *mut c_void,
    FunctionContext: *mut c_void,
    SystemSpecific2: *mut c_void,
    SystemSpecific3: *mut c_void,
);
pub type PNDIS_TIMER_FUNCTION = Option<NDIS_TIMER_FUNCTION>;

/// `NDIS_IO_WORKITEM_FUNCTION`: the work item callback (runs at PASSIVE_LEVEL).
pub type NDIS_IO_WORKITEM_FUNCTION =
    unsafe extern "system" fn(WorkItemContext: *mut c_void, NdisIoWorkItemHandle: NDIS_HANDLE);
/// `NDIS_IO_WORKITEM_ROUTINE`. In C this is the pointer typedef of `NDIS_IO_WORKITEM_FUNCTION`;
/// here, like every callback alias of this crate, it names the (non-null) function type, and
/// nullable slots are `Option<NDIS_IO_WORKITEM_ROUTINE>`.
pub type NDIS_IO_WORKITEM_ROUTINE = NDIS_IO_WORKITEM_FUNCTION;

pub const NDIS_TIMER_CHARACTERISTICS_REVISION_1: u8 = 1;

/// `NDIS_TIMER_CHARACTERISTICS` (passed to `NdisAllocateTimerObject`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_TIMER_CHARACTERISTICS {
    pub Header: NDIS_OBJECT_HEADER,
    pub AllocationTag: u32,
    pub TimerFunction: PNDIS_TIMER_FUNCTION,
    pub FunctionContext: *mut c_void,
}
pub type PNDIS_TIMER_CHARACTERISTICS = *mut NDIS_TIMER_CHARACTERISTICS;
pub const NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1: usize =
    sizeof_through_field!(NDIS_TIMER_CHARACTERISTICS, FunctionContext: *mut c_void);

zeroed_default!(NDIS_TIMER_CHARACTERISTICS);
