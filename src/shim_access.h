/* ---- shim_access.h ---- */
