//! `engineReceiveInto` and `engineAsk` as plain N-API callbacks.
//!
//! Even a plain `#[napi]` function costs ~1,350 instructions per call in
//! napi-rs 3.16's glue (callgrind): a native-borrow scope pushed on a
//! thread-local stack, deferred, released after the return value is
//! converted, and a barrier around the call. They guard borrows of class
//! instances and of JS-owned buffers across reentrant calls; these two
//! functions borrow neither (the engine is found by its handle, behind a
//! `RefCell`; the text is copied; `meta` is used only during the call and
//! never kept). A round trip makes three of these crossings, so at load the
//! binding's two exports are replaced with callbacks that convert their
//! arguments themselves and call the same bodies (`receive_into_raw`,
//! `ask_raw`). The `#[napi]` declarations stay: they type the exports in
//! binding.d.ts and have binding.js re-export them; the contract is the
//! same (errors are thrown as napi-rs throws them, panics are caught).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::bindgen_prelude::*;
use napi::{JsError, JsValue};
use napi_derive::napi;

use super::binding_engine_fast::{ask_raw, receive_into_raw};

/// Puts the two callbacks on the binding's exports, over the `#[napi]` ones.
#[napi(module_exports)]
pub fn replace_hot_crossings(exports: Object, env: Env) -> Result<()> {
    define(&env, &exports, c"engineReceiveInto", receive_into_callback)?;
    define(&env, &exports, c"engineAsk", ask_callback)
}

fn define(
    env: &Env,
    exports: &Object,
    name: &std::ffi::CStr,
    callback: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
) -> Result<()> {
    let mut function = ptr::null_mut();
    // SAFETY: plain N-API calls on this module's env at load time.
    unsafe {
        check_status!(sys::napi_create_function(
            env.raw(),
            name.as_ptr(),
            name.to_bytes().len() as isize,
            Some(callback),
            ptr::null_mut(),
            &mut function,
        ))?;
        check_status!(sys::napi_set_named_property(
            env.raw(),
            exports.raw(),
            name.as_ptr(),
            function
        ))
    }
}

/// `engineReceiveInto(handle, text, meta)`.
unsafe extern "C" fn receive_into_callback(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    settle(env, || {
        let [handle, text, meta] = unsafe { arguments::<3>(env, info)? };
        let handle = unsafe { u32_argument(env, handle)? };
        let meta = unsafe { u32_array_argument(env, meta)? };
        let answer_to = receive_into_raw(env, handle, text, meta)?;
        match answer_to {
            Some(id) => unsafe { js_string(env, &id) },
            None => {
                let mut value = ptr::null_mut();
                // SAFETY: an N-API call on the env of this call.
                unsafe { check_status!(sys::napi_get_null(env, &mut value))? };
                Ok(value)
            }
        }
    })
}

/// `engineAsk(handle, to, op, argsJson, slot)`.
unsafe extern "C" fn ask_callback(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    settle(env, || {
        let [handle, to, op, args_json, slot] = unsafe { arguments::<5>(env, info)? };
        let handle = unsafe { u32_argument(env, handle)? };
        let op = unsafe { u32_argument(env, op)? };
        let slot = unsafe { u32_argument(env, slot)? };
        let envelope = ask_raw(env, handle, to, op, args_json, slot)?;
        unsafe { js_string(env, &envelope) }
    })
}

/// A JS string of `text`. ASCII text (envelopes usually are) is made as
/// Latin-1, a plain copy, rather than decoded as UTF-8 (~half the cost).
pub(crate) unsafe fn js_string(env: sys::napi_env, text: &str) -> Result<sys::napi_value> {
    let mut value = ptr::null_mut();
    // SAFETY: N-API calls on the env of this call; ASCII is valid Latin-1.
    unsafe {
        if text.is_ascii() {
            check_status!(sys::napi_create_string_latin1(
                env,
                text.as_ptr().cast(),
                text.len() as isize,
                &mut value
            ))?;
        } else {
            check_status!(sys::napi_create_string_utf8(
                env,
                text.as_ptr().cast(),
                text.len() as isize,
                &mut value
            ))?;
        }
    }
    Ok(value)
}

/// Runs `call`, throwing its error or its panic into JS as napi-rs does.
fn settle(env: sys::napi_env, call: impl FnOnce() -> Result<sys::napi_value>) -> sys::napi_value {
    let error = match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(value)) => return value,
        Ok(Err(error)) => error,
        Err(panic) => panic_to_error(panic),
    };
    // SAFETY: `env` is the env of this call.
    unsafe { JsError::from(error).throw_into(env) };
    ptr::null_mut()
}

/// The first `N` arguments (`undefined` for those not given).
unsafe fn arguments<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Result<[sys::napi_value; N]> {
    let mut argv = [ptr::null_mut(); N];
    let mut argc = N;
    unsafe {
        check_status!(sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        ))?;
    }
    Ok(argv)
}

unsafe fn u32_argument(env: sys::napi_env, value: sys::napi_value) -> Result<u32> {
    let mut n = 0;
    unsafe {
        check_status!(
            sys::napi_get_value_uint32(env, value, &mut n),
            "expected a number"
        )?;
    }
    Ok(n)
}

/// The elements of a Uint32Array argument, for the duration of the call:
/// its memory stays put meanwhile (the call is synchronous and runs no JS).
unsafe fn u32_array_argument<'a>(
    env: sys::napi_env,
    value: sys::napi_value,
) -> Result<&'a mut [u32]> {
    let mut kind = 0;
    let mut length = 0;
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0;
    unsafe {
        check_status!(
            sys::napi_get_typedarray_info(
                env,
                value,
                &mut kind,
                &mut length,
                &mut data,
                &mut buffer,
                &mut offset,
            ),
            "expected a Uint32Array"
        )?;
    }
    if kind != sys::TypedarrayType::uint32_array {
        return Err(Error::new(Status::InvalidArg, "expected a Uint32Array"));
    }
    if length == 0 || data.is_null() {
        return Ok(&mut []);
    }
    // SAFETY: N-API gives the address of `length` u32 elements (aligned:
    // a Uint32Array's offset is a multiple of 4), alive during this call.
    Ok(unsafe { std::slice::from_raw_parts_mut(data.cast::<u32>(), length) })
}
