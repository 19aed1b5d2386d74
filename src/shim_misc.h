/* ---- shim_misc.h ---- */
