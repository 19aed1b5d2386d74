/* ---- shim_arch.h ---- */
